/**
 * Firehose data-transformation Lambda: gates and scores a batch of traces (process-batch.ts) and
 * routes each record to the `traces` or `gate_audit` Iceberg table. Thin on purpose: configuration,
 * clients and Powertools are set up once per execution environment; the work is in the domain modules.
 *
 * The pseudonymisation key is read from Secrets Manager when the environment starts and kept; an
 * invocation waits for it, and fails (Firehose retries the batch) while it cannot be read: nothing is
 * gated without it. The log carries counts, validated ids and checked reasons only, never the event.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, FirehoseTransformationEvent } from 'aws-lambda';
import { ComprehendPiiDetector, createComprehendClient } from '../shared/aws/comprehend-detector';
import { createEntityDetectors, createSageMakerRuntimeClient } from '../shared/aws/sagemaker-ner-detector';
import { withLanguageDetectors } from '../shared/language-detectors';
import { SecretsManagerPseudonymisationKeyProvider } from '../shared/aws/secrets-manager-pseudonymisation-key';
import { logger, metrics } from '../shared/powertools';
import { createPseudonymiser, type Pseudonymiser } from '../shared/pseudonymisation';
import type { FirehoseOutputRecord } from './firehose-records';
import { GATE_ENV, parseGateConfig } from './gate-config-env';
import { processBatch } from './process-batch';
import { publishBatchMetrics } from './publish-metrics';

// Fail at cold start, not per record: a configuration that is not the one validated at synthesis
// (edited in place, or without its digest) must not gate anything.
const config = parseGateConfig(process.env[GATE_ENV.config], process.env[GATE_ENV.configSha256]);
const known = { agents: new Set(Object.keys(config.agentSlosMs)), targetModels: new Set(config.targetModelIds) };
// The stage's named-entity endpoints (e.g. Korean) ride beside Comprehend; a stage without any
// builds no SageMaker client.
const entityDetectors =
  Object.keys(config.pii.entityDetectors).length > 0 ? createEntityDetectors(config.pii, createSageMakerRuntimeClient()) : {};
const detector = withLanguageDetectors(new ComprehendPiiDetector(createComprehendClient()), entityDetectors);
const keySecretArn = process.env[GATE_ENV.pseudonymisationKeySecretArn];
if (!keySecretArn) throw new Error(`${GATE_ENV.pseudonymisationKeySecretArn} is not set: the construct passes the pseudonymisation key secret's ARN`);
const keyProvider = new SecretsManagerPseudonymisationKeyProvider(new SecretsManagerClient({}), keySecretArn);
// Started during the cold start; the first invocation awaits it (a failure surfaces there, and is retried).
keyProvider.key().catch(() => undefined);
let pseudonymiser: Pseudonymiser | undefined;

async function gateAndScore(event: FirehoseTransformationEvent): Promise<{ records: FirehoseOutputRecord[] }> {
  pseudonymiser ??= createPseudonymiser(await keyProvider.key());
  const outcome = await processBatch(event.records, { config, detector, pseudonymiser, now: () => new Date() });
  publishBatchMetrics(metrics, outcome.report, known, config.stage);
  const { report } = outcome;
  logger.info('batch gated', {
    recordsIn: report.recordsIn,
    delivered: report.delivered,
    discarded: report.discarded,
    failed: report.failed,
    duplicates: report.duplicates,
    rewardPolicyVersion: config.rewardPolicy.version,
  });
  // Validated ids and checked reasons only: record content may hold personal data and never reaches the logs.
  for (const d of outcome.diagnostics) {
    if (d.reason !== undefined) logger.info('record not delivered to traces', { recordId: d.recordId, traceId: d.traceId, result: d.result, reason: d.reason });
  }
  return { records: outcome.records };
}

/**
 * Powertools' manual instrumentation rather than middy with its two middlewares: the same context on
 * every log line and one metrics flush per invocation, also when it throws. The gate is the one function
 * on the path of every Firehose batch, and middy and the middlewares were 3.9 KB of its bundle, the part
 * that kept it over the 150 KB budget (docs/decisions.md, "Lambda bundles"). The event is never logged:
 * only the middleware logs it, and the records are raw, unmasked traces.
 */
export async function handler(event: FirehoseTransformationEvent, context: Context): Promise<{ records: FirehoseOutputRecord[] }> {
  logger.addContext(context);
  try {
    return await gateAndScore(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
