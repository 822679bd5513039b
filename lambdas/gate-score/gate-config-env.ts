/**
 * The gate's configuration as the function receives it: the construct validates it at synthesis
 * (gate-config.ts, the zod schemas of every rule) and passes the validated JSON in GATE_CONFIG with
 * its SHA-256 in GATE_CONFIG_SHA256. The cold start recomputes the digest and refuses a configuration
 * whose digest differs or is missing, so what runs is byte for byte what was validated; it does not
 * validate the rules again, and so carries no schema library (docs/decisions.md, "Lambda bundles").
 *
 * No zod here, nor anything that builds a schema: the gate's handler imports this module, not
 * gate-config.ts.
 */
import { createHash } from 'node:crypto';
import type { GateConfig } from './gate-config';

/** The gate function's environment variables: the construct sets them, the handler reads them. */
export const GATE_ENV = {
  /** The gate configuration as JSON, validated at synthesis (gate-config.ts `gateConfigSchema`). */
  config: 'GATE_CONFIG',
  /** Hex SHA-256 of GATE_CONFIG's UTF-8 bytes, computed at synthesis from the validated JSON. */
  configSha256: 'GATE_CONFIG_SHA256',
  /** ARN of the Secrets Manager secret that holds the stage's pseudonymisation key. */
  pseudonymisationKeySecretArn: 'PSEUDONYMISATION_KEY_SECRET_ARN',
} as const;

/** Hex SHA-256 of the configuration JSON's UTF-8 bytes: what GATE_CONFIG_SHA256 holds. */
export function gateConfigDigest(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex');
}

/**
 * The configuration of the cold start: GATE_CONFIG as validated at synthesis, provided its digest is
 * the one recorded then. Throws naming the variable when either is missing, when they disagree (the
 * environment was edited after synthesis), or when the JSON does not parse to an object.
 */
export function parseGateConfig(json: string | undefined, sha256: string | undefined): GateConfig {
  const { config, configSha256 } = GATE_ENV;
  if (json === undefined || json === '') throw new Error(`${config} is not set: the construct passes the gate configuration as JSON`);
  if (sha256 === undefined || sha256 === '') {
    throw new Error(`${configSha256} is not set: the construct passes the SHA-256 of ${config} validated at synthesis; redeploy the stack`);
  }
  if (gateConfigDigest(json) !== sha256.toLowerCase()) {
    throw new Error(`${config} changed after synthesis: its SHA-256 is not ${configSha256}; the configuration is validated only at synthesis, so redeploy the stack instead of editing the function's environment`);
  }
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${config} is not a JSON object`);
  return parsed as GateConfig;
}
