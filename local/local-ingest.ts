/**
 * Local mode's ingest path: demo traffic -> Firehose-sized batches -> the gate/score code the Lambda
 * runs (processBatch) -> the local Parquet lake, with a simulated Amazon Comprehend in place of the
 * real one, and a simulated Korean named-entity endpoint where the stage configures one. Routing
 * follows the Lambda's own `otfMetadata`, exactly as Firehose would.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadStageConfig, type StageConfig } from '../config';
import type { DataBoundary } from '../config/boundaries';
import { readRewardPolicy } from '../config/reward-policies/read';
import { handleFeedback } from '../lambdas/feedback/handle-feedback';
import { agentPseudonym } from '../lambdas/shared/agent-pseudonyms';
import type { BatchReport } from '../lambdas/gate-score/batch-report';
import type { FirehoseInputRecord } from '../lambdas/gate-score/firehose-records';
import { gateConfigFromStage } from '../lambdas/gate-score/gate-config';
import { processBatch, type RecordDiagnostic } from '../lambdas/gate-score/process-batch';
import { FEEDBACK_TABLE, GATE_AUDIT_TABLE, TRACES_TABLE } from '../lambdas/shared/lake-tables';
import { withLanguageDetectors } from '../lambdas/shared/language-detectors';
import type { FeedbackSink } from '../lambdas/shared/ports';
import { createPseudonymiser } from '../lambdas/shared/pseudonymisation';
import { generateDemoRecords, type DemoRecord } from './demo-traces';
import { LocalLake } from './local-lake';
import { LocalPseudonymisationKeyProvider } from './local-pseudonymisation-key';
import { SimulatedComprehendDetector } from './simulated-comprehend';
import { simulatedEntityDetectors } from './simulated-korean-ner';

export interface LocalIngestOptions {
  readonly stage: string;
  readonly lakeDir: string;
  readonly traceCount: number;
  /** Simulated Comprehend latency per call and account quota (calls per second). */
  readonly comprehendLatencyMs: number;
  readonly comprehendTps: number;
  /** Firehose's processor buffer: records are grouped into batches of at most this many bytes. */
  readonly batchBytes?: number;
  /** After each batch: batches done and in all (a terminal's progress bar). */
  readonly onBatch?: (done: number, total: number) => void;
  /** The clock stamped on rows and feedback; the demo traces start a day before it. Default: now. */
  readonly clock?: () => Date;
  /**
   * Other records than the demo batch (`traceCount` is then unused), e.g. the operating demo's
   * (operating-traffic.ts); the demo's feedback events are then not sent.
   */
  readonly records?: (now: Date, boundary: DataBoundary) => readonly DemoRecord[];
  /** The stage's configuration as parsed, instead of loading `stage` by name (a test's variant of a stage). */
  readonly config?: StageConfig;
}

export interface LocalIngestSummary {
  readonly batches: number;
  readonly recordsIn: number;
  readonly delivered: number;
  readonly discarded: number;
  readonly failed: number;
  readonly duplicates: number;
  readonly comprehendCalls: number;
  /** Calls to the simulated entity detectors (Korean named-entity endpoint), by language. */
  readonly entityDetectorCalls: ReadonlyMap<string, number>;
  readonly drops: ReadonlyMap<string, number>;
  readonly failures: ReadonlyMap<string, number>;
  readonly diagnostics: readonly RecordDiagnostic[];
  readonly feedbackWritten: number;
  /** When the demo traffic starts (a day before the ingest clock). */
  readonly trafficStart: Date;
}

/** Splits records into Firehose-like batches bounded by total bytes. */
export function toBatches(records: readonly DemoRecord[], maxBytes: number): FirehoseInputRecord[][] {
  const batches: FirehoseInputRecord[][] = [];
  let current: FirehoseInputRecord[] = [];
  let bytes = 0;
  records.forEach((record, i) => {
    if (current.length > 0 && bytes + record.data.length > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ recordId: `local-${String(i).padStart(6, '0')}`, data: record.data.toString('base64') });
    bytes += record.data.length;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

function addCounts(into: Map<string, number>, from: Iterable<[string, number]>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}

class LakeFeedbackSink implements FeedbackSink {
  readonly rows: object[] = [];
  async put(row: object): Promise<void> {
    this.rows.push(row);
  }
}

export async function runLocalIngest(options: LocalIngestOptions): Promise<LocalIngestSummary> {
  const stage = options.config ?? loadStageConfig(options.stage);
  const config = gateConfigFromStage(stage, readRewardPolicy(stage.rewardPolicyVersion), {
    databaseName: stage.lake.databaseName,
    tracesTable: TRACES_TABLE.name,
    auditTable: GATE_AUDIT_TABLE.name,
  });
  const comprehend = new SimulatedComprehendDetector({ latencyMs: options.comprehendLatencyMs, tps: options.comprehendTps });
  const entityDetectors = simulatedEntityDetectors(stage.pii);
  const detector = withLanguageDetectors(comprehend, entityDetectors);
  // The local lake's own key, generated on first use in the lake directory (labelled local).
  const pseudonymiser = createPseudonymiser(await new LocalPseudonymisationKeyProvider(options.lakeDir).key());
  const lake = await LocalLake.open(options.lakeDir);
  const errorDir = join(options.lakeDir, 'errors');
  mkdirSync(errorDir, { recursive: true });

  const clock = options.clock ?? (() => new Date());
  const trafficStart = new Date(clock().getTime() - 24 * 3_600_000);
  const demo = options.records === undefined ? generateDemoRecords({ count: options.traceCount, boundary: stage.dataBoundary, start: trafficStart }) : options.records(clock(), stage.dataBoundary);
  const batches = toBatches(demo, options.batchBytes ?? stage.lake.processor.bufferSizeMiB * 1024 * 1024);
  const totals = { recordsIn: 0, delivered: 0, discarded: 0, failed: 0, duplicates: 0 };
  const drops = new Map<string, number>();
  const failures = new Map<string, number>();
  const diagnostics: RecordDiagnostic[] = [];

  try {
    for (const [index, batch] of batches.entries()) {
      const outcome = await processBatch(batch, { config, detector, pseudonymiser, now: clock });
      const byTable = new Map<string, object[]>();
      for (const record of outcome.records) {
        if (record.result === 'Ok') {
          const table = record.metadata.otfMetadata.destinationTableName;
          const rows = byTable.get(table) ?? [];
          rows.push(JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as object);
          byTable.set(table, rows);
        } else if (record.result === 'ProcessingFailed') {
          // Like Firehose's S3 error output: the raw record, kept apart from the lake.
          const reason = outcome.diagnostics.find((d) => d.recordId === record.recordId)?.reason;
          appendFileSync(join(errorDir, 'processing-failed.jsonl'), JSON.stringify({ recordId: record.recordId, reason, rawData: record.data }) + '\n');
        }
      }
      for (const [table, rows] of byTable) await lake.append(table, rows);
      accumulate(totals, outcome.report);
      addCounts(drops, [...outcome.report.discardsByGateReason.values()].map((d) => [`${d.gate}/${d.reason}`, d.count] as [string, number]));
      addCounts(failures, outcome.report.failuresByReason);
      diagnostics.push(...outcome.diagnostics);
      options.onBatch?.(index + 1, batches.length);
    }

    // A few feedback events through the same handler code as the API's Lambda.
    const sink = new LakeFeedbackSink();
    for (let i = 0; i < (options.records === undefined ? Math.min(10, options.traceCount) : 0); i++) {
      const body = JSON.stringify({ request_id: `req-demo-${i}`, trace_id: `demo-${String(i).padStart(5, '0')}`, outcome: i % 4 === 0 ? 'user_rejected' : 'success', metadata: { completion_quality: i % 4 === 0 ? 2 : 8 } });
      await handleFeedback({ agentId: 'rag-qa-agent', body }, sink, clock(), config.hashAgentIds === true ? { storedAgentId: (agentId) => agentPseudonym(pseudonymiser, agentId) } : {});
    }
    await lake.append(FEEDBACK_TABLE.name, sink.rows);

    const entityDetectorCalls = new Map(Object.entries(entityDetectors).map(([language, ner]) => [language, ner.calls]));
    return { batches: batches.length, ...totals, comprehendCalls: comprehend.calls, entityDetectorCalls, drops, failures, diagnostics, feedbackWritten: sink.rows.length, trafficStart };
  } finally {
    lake.close();
  }
}

function accumulate(totals: { recordsIn: number; delivered: number; discarded: number; failed: number; duplicates: number }, report: BatchReport): void {
  totals.recordsIn += report.recordsIn;
  totals.delivered += report.delivered;
  totals.discarded += report.discarded;
  totals.failed += report.failed;
  totals.duplicates += report.duplicates;
}
