/**
 * The production baseline the eval gate compares with: the metrics.json of the newest *approved*
 * version of the same target model in its family's model package group.
 */
import { evalMetricsSchema, type EvalMetrics } from '../contracts';
import type { ObjectStore } from '../ports';
import { MODEL_METADATA, type ModelRegistry, type RegisteredModelPackage } from '../register-model/model-registry';

/** What the registry says about production. */
export type BaselineLookup =
  /** No approved version of this target: the candidate would be the first production model. */
  | { readonly kind: 'none' }
  | { readonly kind: 'found'; readonly arn: string; readonly metrics: EvalMetrics }
  /** There is a production model but its metrics cannot be read: the gate cannot compare. */
  | { readonly kind: 'unavailable'; readonly arn: string; readonly reason: string };

/**
 * A family's group holds every target model of the family, whose metrics are not comparable with
 * each other's; a version registered by hand without a targetModelId is taken as the family's own
 * baseline and compared with every target.
 */
function servesTarget(pkg: RegisteredModelPackage, targetModelId: string): boolean {
  const target = pkg.metadata[MODEL_METADATA.targetModelId];
  return target === undefined || target === targetModelId;
}

/** Parses a metrics.json text, or says what is wrong with it. */
export function parseMetrics(text: string): { ok: true; metrics: EvalMetrics } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = evalMetricsSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, reason: `not a metrics.json: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, metrics: parsed.data };
}

/**
 * Finds the newest approved version serving `targetModelId` and reads its metrics. A missing or
 * unreadable baseline is reported as `unavailable`, never as `none`: treating it as a first model would
 * let a regression through unchecked.
 */
export async function productionBaseline(registry: ModelRegistry, store: ObjectStore, groupName: string, targetModelId: string): Promise<BaselineLookup> {
  const approved = (await registry.listPackages(groupName, { approvalStatus: 'Approved' })).filter((p) => p.approvalStatus === 'Approved' && servesTarget(p, targetModelId));
  const newest = approved.sort((a, b) => b.version - a.version)[0];
  if (newest === undefined) return { kind: 'none' };
  if (newest.metricsUri === undefined) return { kind: 'unavailable', arn: newest.arn, reason: `approved version ${newest.version} (${newest.arn}) has no model quality metrics attached` };
  const text = await store.getText(newest.metricsUri);
  if (text === undefined) return { kind: 'unavailable', arn: newest.arn, reason: `the metrics of approved version ${newest.version} are missing at ${newest.metricsUri}` };
  const parsed = parseMetrics(text);
  if (!parsed.ok) return { kind: 'unavailable', arn: newest.arn, reason: `the metrics of approved version ${newest.version} at ${newest.metricsUri} are ${parsed.reason}` };
  return { kind: 'found', arn: newest.arn, metrics: parsed.metrics };
}
