/**
 * What the gate/score Lambda needs from the stage configuration, and its rules: validated here, at
 * synthesis (the construct) and in local mode, with the zod schemas of every part (PII settings,
 * reward policy, judge policy, model prices). The construct passes the validated JSON as one
 * environment variable (GATE_CONFIG) with its SHA-256; the cold start checks the digest and reads the
 * JSON without validating it again (gate-config-env.ts), so the function's bundle carries no schema.
 * The gate's handler must not import this module (type imports aside).
 */
import * as z from '../shared/zod-mini';
import { DATA_BOUNDARIES } from '../../config/boundaries';
import { modelPriceSchema } from '../../config/operations';
import { piiSchema } from '../../config/pii';
import type { StageConfig } from '../../config/schema';
import { rewardPolicySchema, type RewardPolicy } from './reward/policy';

export { GATE_ENV, gateConfigDigest, parseGateConfig } from './gate-config-env';

export const gateConfigSchema = z.strictObject({
  stage: z.string().check(z.minLength(1)),
  dataBoundary: z.enum(DATA_BOUNDARIES),
  /** Glue database the Iceberg tables live in; used to route rows (otfMetadata). */
  databaseName: z.string().check(z.minLength(1)),
  tracesTable: z.string().check(z.minLength(1)),
  auditTable: z.string().check(z.minLength(1)),
  pii: piiSchema,
  agentSlosMs: z.record(z.string(), z.number().check(z.int(), z.positive())),
  /** The stage's target model ids: their metric series are their own, other models share one. */
  targetModelIds: z.array(z.string().check(z.minLength(1))).check(z.minLength(1)),
  defaultLatencySloMs: z.number().check(z.int(), z.positive()),
  rewardPolicy: rewardPolicySchema,
  /** Prices per model name: a trace that reports tokens but no cost is priced with them. */
  modelPrices: z.record(z.string(), modelPriceSchema),
  /**
   * `lake.hashAgentIds`: rows carry the agent id's keyed pseudonym (kind `agent`) instead of the id.
   * Absent: the id as the producer sent it. Metrics keep the declared agents' ids either way.
   */
  hashAgentIds: z.optional(z.boolean()),
});

export type GateConfig = z.infer<typeof gateConfigSchema>;

/** Validates a candidate gate configuration; throws naming every field that does not fit. */
function validateGateConfig(candidate: unknown, what: string): GateConfig {
  const result = gateConfigSchema.safeParse(candidate);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`${what} is invalid: ${fields}`);
  }
  return result.data;
}

/** Table names the gate routes rows to; the lake construct and the local lake use the same names. */
export interface GateTables {
  readonly databaseName: string;
  readonly tracesTable: string;
  readonly auditTable: string;
}

/** The slice of a stage's configuration the gate reads. */
export type GateStageSettings = Pick<StageConfig, 'stage' | 'dataBoundary' | 'pii' | 'defaultLatencySloMs'> & {
  /** Absent: no prices, so a trace's cost is only what its producer sent. */
  readonly operations?: Pick<StageConfig['operations'], 'modelPrices'>;
  readonly agents: ReadonlyArray<{ readonly id: string; readonly latencySloMs: number }>;
  readonly targetModels: ReadonlyArray<{ readonly id: string }>;
  /** `lake.hashAgentIds`; absent or false: agent ids are stored as they are. */
  readonly lake?: { readonly hashAgentIds?: boolean };
};

/**
 * Derives the gate's configuration from a stage and its reward policy. The CDK construct serialises
 * the result into GATE_CONFIG; local mode passes it directly, so both gate with the same settings.
 * Throws naming every field that does not fit the GATE_CONFIG contract.
 */
export function gateConfigFromStage(stage: GateStageSettings, rewardPolicy: RewardPolicy, tables: GateTables): GateConfig {
  const candidate = {
    stage: stage.stage,
    dataBoundary: stage.dataBoundary,
    databaseName: tables.databaseName,
    tracesTable: tables.tracesTable,
    auditTable: tables.auditTable,
    pii: stage.pii,
    agentSlosMs: Object.fromEntries(stage.agents.map((a) => [a.id, a.latencySloMs])),
    targetModelIds: stage.targetModels.map((m) => m.id),
    defaultLatencySloMs: stage.defaultLatencySloMs,
    rewardPolicy,
    modelPrices: stage.operations?.modelPrices ?? {},
    // Only when on, so the configuration of every stage without the option is what it was.
    ...(stage.lake?.hashAgentIds === true ? { hashAgentIds: true } : {}),
  };
  return validateGateConfig(candidate, 'The gate configuration');
}
