/** The erasure function's settings, from its environment (set by lib/constructs/erasure.ts). */
export const ERASURE_ENV = {
  ledgerTable: 'ERASURE_LEDGER_TABLE',
  workGroup: 'ATHENA_WORKGROUP',
  database: 'LAKE_DATABASE',
  lakeBucket: 'LAKE_BUCKET',
  tablesPrefix: 'LAKE_TABLES_PREFIX',
  artifactBucket: 'ARTIFACT_BUCKET',
  deadlineDays: 'ERASURE_DEADLINE_DAYS',
  /** JSON: { modelPackageGroups: string[], routerTargetIds: string[], retainApprovedModelVersions, retainApprovedRouterVersions } */
  lineage: 'ERASURE_LINEAGE',
} as const;

/** The metric the deadline check emits and the overdue alarm watches (here, not in the handler, so the construct never imports middy). */
export const ERASURES_OVERDUE_METRIC = 'ErasuresOverdue';

export interface ErasureSettings {
  readonly ledgerTable: string;
  readonly workGroup: string;
  readonly database: string;
  readonly lakeBucket: string;
  readonly tablesPrefix: string;
  readonly artifactBucket: string;
  readonly deadlineDays: number;
  readonly lineage: {
    readonly modelPackageGroups: readonly string[];
    readonly routerTargetIds: readonly string[];
    readonly retainApprovedModelVersions: number;
    readonly retainApprovedRouterVersions: number;
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: the erasure function is deployed by the Erasure construct, which sets it`);
  return value;
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

/** @throws Error naming the variable that is missing or malformed */
export function erasureSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ErasureSettings {
  const deadlineDays = Number(required(env, ERASURE_ENV.deadlineDays));
  if (!count(deadlineDays)) throw new Error(`${ERASURE_ENV.deadlineDays} must be a whole number of days >= 1`);
  const lineage = JSON.parse(required(env, ERASURE_ENV.lineage)) as Partial<ErasureSettings['lineage']>;
  if (!strings(lineage.modelPackageGroups) || !strings(lineage.routerTargetIds) || !count(lineage.retainApprovedModelVersions) || !count(lineage.retainApprovedRouterVersions)) {
    throw new Error(`${ERASURE_ENV.lineage} must hold modelPackageGroups, routerTargetIds and the two retention counts`);
  }
  return {
    ledgerTable: required(env, ERASURE_ENV.ledgerTable),
    workGroup: required(env, ERASURE_ENV.workGroup),
    database: required(env, ERASURE_ENV.database),
    lakeBucket: required(env, ERASURE_ENV.lakeBucket),
    tablesPrefix: required(env, ERASURE_ENV.tablesPrefix),
    artifactBucket: required(env, ERASURE_ENV.artifactBucket),
    deadlineDays,
    lineage: lineage as ErasureSettings['lineage'],
  };
}
