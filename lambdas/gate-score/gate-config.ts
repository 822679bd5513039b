/**
 * What the gate/score Lambda needs from the stage configuration, passed by the construct as one JSON
 * environment variable (GATE_CONFIG) and validated once at cold start: a bad deployment fails loudly
 * on its first invocation instead of gating traces with defaults.
 */
import { z } from 'zod';
import { DATA_BOUNDARIES } from '../../config/boundaries';
import { piiSchema } from '../../config/schema';
import { rewardPolicySchema } from './reward/policy';

export const gateConfigSchema = z.strictObject({
  stage: z.string().min(1),
  dataBoundary: z.enum(DATA_BOUNDARIES),
  /** Glue database the Iceberg tables live in; used to route rows (otfMetadata). */
  databaseName: z.string().min(1),
  tracesTable: z.string().min(1),
  auditTable: z.string().min(1),
  pii: piiSchema,
  agentSlosMs: z.record(z.string(), z.number().int().positive()),
  defaultLatencySloMs: z.number().int().positive(),
  rewardPolicy: rewardPolicySchema,
});

export type GateConfig = z.infer<typeof gateConfigSchema>;

/** Parses the GATE_CONFIG JSON; throws with every invalid field named. */
export function parseGateConfig(json: string | undefined): GateConfig {
  if (json === undefined || json === '') throw new Error('GATE_CONFIG is not set: the construct passes the gate configuration as JSON');
  const result = gateConfigSchema.safeParse(JSON.parse(json));
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`GATE_CONFIG is invalid: ${fields}`);
  }
  return result.data;
}
