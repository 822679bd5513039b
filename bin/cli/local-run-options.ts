/**
 * The options of `sial local run`, checked all together before anything on disk is touched: a wrong
 * value is a UsageError that names what was received and what is allowed.
 */
import { loadStageConfig } from '../../config';
import { isRouterTarget, type StageConfig } from '../../config/schema';
import { DEFAULT_LAKE_DIR } from '../../local/lake-dir';
import { isScenarioName, SCENARIO_NAMES, SCENARIOS, type Scenario } from '../../local/scenarios';
import { UsageError } from './command';

export const LOCAL_RUN_OPTIONS = {
  stage: { type: 'string', default: 'dev' },
  model: { type: 'string' },
  traces: { type: 'string', default: '1500' },
  'lake-dir': { type: 'string', default: DEFAULT_LAKE_DIR },
  keep: { type: 'boolean', default: false },
  scenario: { type: 'string', default: 'healthy' },
  'auto-approve': { type: 'boolean', default: false },
  'approval-wait': { type: 'string', default: '600' },
  'skip-training': { type: 'boolean', default: false },
  trainer: { type: 'string', default: 'simulated' },
  target: { type: 'string', default: 'llm' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The most demo traces one run generates (the lake and the run stay a few seconds to a minute). */
export const MAX_TRACES = 100_000;

export interface ValidatedLocalRun {
  readonly stage: StageConfig;
  readonly targetModelId: string;
  readonly traceCount: number;
  readonly lakeDir: string;
  readonly keep: boolean;
  readonly scenario: Scenario;
  readonly autoApprove: boolean;
  readonly approvalWaitSeconds: number;
  readonly skipTraining: boolean;
  readonly trainer: 'simulated' | 'real';
  /** `router`: the stage's router classifier, always with the real router trainer. */
  readonly target: 'llm' | 'router';
}

/** Scenarios a router run plays: its canary promotes, or its misroute alarm rolls it back. */
export const ROUTER_SCENARIOS = ['healthy', 'regression'] as const;

function wholeNumber(flag: string, value: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}; received "${value}"`);
  return n;
}

/**
 * Checks every option; touches nothing.
 *
 * @throws UsageError for the first wrong option, with what is allowed.
 */
export function validateLocalRunOptions(values: {
  stage: string;
  model?: string | undefined;
  traces: string;
  'lake-dir': string;
  keep: boolean;
  scenario: string;
  'auto-approve': boolean;
  'approval-wait': string;
  'skip-training': boolean;
  trainer: string;
  target?: string;
}): ValidatedLocalRun {
  let stage: StageConfig;
  try {
    stage = loadStageConfig(values.stage);
  } catch (error) {
    throw new UsageError(`--stage: ${(error as Error).message}`);
  }
  const target = values.target ?? 'llm';
  if (target !== 'llm' && target !== 'router') throw new UsageError(`--target must be llm or router; received "${target}"`);
  if (target === 'router') return validateRouterRun(stage, values);
  const targets = stage.targetModels.filter((m) => !isRouterTarget(m)).map((m) => m.id);
  if (values.model !== undefined && stage.targetModels.some((m) => m.id === values.model && isRouterTarget(m))) {
    throw new UsageError(`--model ${values.model} is a router: run it with --target router`);
  }
  // The stage's first target model is the default: each stage lists its own (prod-kr trains qwen3-4b-ko).
  const targetModelId = values.model ?? targets[0];
  if (targetModelId === undefined) throw new UsageError(`stage ${stage.stage} lists no target models`);
  if (!targets.includes(targetModelId)) throw new UsageError(`--model ${targetModelId} is not a target model of stage ${stage.stage}; its target models are ${targets.join(', ')}`);
  const traceCount = wholeNumber('--traces', values.traces, 1, MAX_TRACES);
  const approvalWaitSeconds = wholeNumber('--approval-wait', values['approval-wait'], 1, 72 * 3600);
  if (values.trainer !== 'simulated' && values.trainer !== 'real') throw new UsageError(`--trainer must be simulated or real; received "${values.trainer}"`);
  if (!isScenarioName(values.scenario)) throw new UsageError(`--scenario must be one of ${SCENARIO_NAMES.join(', ')}; received "${values.scenario}"`);
  const scenario = SCENARIOS[values.scenario];
  if (values.trainer === 'real' && !scenario.realTrainer) {
    throw new UsageError(`--scenario ${scenario.name} scripts the simulated Batch or the canary, so it cannot run with --trainer real; with the real trainer use ${SCENARIO_NAMES.filter((n) => SCENARIOS[n].realTrainer).join(' or ')}`);
  }
  if (values['skip-training'] && scenario.name !== 'healthy') throw new UsageError(`--skip-training stops after the ingest, so --scenario ${scenario.name} would never play; drop one of them`);
  if (values['lake-dir'].trim() === '') throw new UsageError('--lake-dir must name a directory');
  return {
    stage,
    targetModelId,
    traceCount,
    lakeDir: values['lake-dir'],
    keep: values.keep,
    scenario,
    autoApprove: values['auto-approve'],
    approvalWaitSeconds,
    skipTraining: values['skip-training'],
    trainer: values.trainer,
    target: 'llm',
  };
}

/** `--target router`: the stage's router (or the one --model names), the real router trainer, healthy or regression. */
function validateRouterRun(stage: StageConfig, values: Parameters<typeof validateLocalRunOptions>[0]): ValidatedLocalRun {
  const routers = stage.targetModels.filter(isRouterTarget).map((m) => m.id);
  const targetModelId = values.model ?? routers[0];
  if (targetModelId === undefined) throw new UsageError(`--target router: stage ${stage.stage} has no router target`);
  if (!routers.includes(targetModelId)) throw new UsageError(`--model ${targetModelId} is not a router of stage ${stage.stage}; its routers are ${routers.join(', ') || 'none'}`);
  if (values.trainer !== 'simulated' && values.trainer !== 'real') throw new UsageError(`--trainer must be simulated or real; received "${values.trainer}"`);
  if (!(ROUTER_SCENARIOS as readonly string[]).includes(values.scenario)) {
    throw new UsageError(`--target router plays --scenario ${ROUTER_SCENARIOS.join(' or ')} (the router always trains for real); received "${values.scenario}"`);
  }
  if (values['lake-dir'].trim() === '') throw new UsageError('--lake-dir must name a directory');
  return {
    stage,
    targetModelId,
    traceCount: wholeNumber('--traces', values.traces, 1, MAX_TRACES),
    lakeDir: values['lake-dir'],
    keep: values.keep,
    scenario: SCENARIOS[values.scenario as (typeof ROUTER_SCENARIOS)[number]],
    autoApprove: values['auto-approve'],
    approvalWaitSeconds: wholeNumber('--approval-wait', values['approval-wait'], 1, 72 * 3600),
    skipTraining: values['skip-training'],
    // A router is never simulated: the real router trainer (scikit-learn, seconds on CPU) always runs.
    trainer: 'real',
    target: 'router',
  };
}
