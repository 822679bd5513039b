/**
 * Stage selection: `-c stage=NAME` picks one of the files in config/stages/, validated by the schema.
 */
import { ConfigError, parseStageConfig, type StageConfig } from './schema';
import { dev } from './stages/dev';
import { prodEu } from './stages/prod-eu';
import { prodKr } from './stages/prod-kr';

export const STAGES: Readonly<Record<string, unknown>> = {
  dev,
  'prod-eu': prodEu,
  'prod-kr': prodKr,
};

/** Returns the validated configuration of a named stage, or throws ConfigError naming what is allowed. */
export function loadStageConfig(name: string | undefined): StageConfig {
  if (name === undefined || name === '') {
    throw new ConfigError(`No stage selected: pass -c stage=NAME, one of ${Object.keys(STAGES).join(', ')}`);
  }
  const raw = Object.prototype.hasOwnProperty.call(STAGES, name) ? STAGES[name] : undefined;
  if (raw === undefined) {
    throw new ConfigError(`Unknown stage "${name}": allowed stages are ${Object.keys(STAGES).join(', ')}`);
  }
  return parseStageConfig(raw, `config/stages/${name}.ts`);
}

export { ConfigError, parseStageConfig };
export type { StageConfig };
