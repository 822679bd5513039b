/**
 * A router target's dataset on the real SQL (DuckDB over a local Parquet lake, the same files Athena
 * runs): one line per usable trace in exactly the trainer's line contract (checked by the contract reader
 * the shared vectors hold to), the latest gated copy of a re-delivered trace, boundary and scope rules,
 * late feedback folded in, lineage and hash in the manifest.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { loadStageConfig } from '../../config';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { datasetManifestSchema, type ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { buildDataset } from '../../lambdas/pipeline/dataset/build-dataset';
import { readRouterFile, type RouterLine } from '../../lambdas/pipeline/router/router-line';
import { pipelineSettingsFromStage, rewardScoringOf, type PipelineSettings } from '../../lambdas/pipeline/settings';
import type { FeedbackRow } from '../../lambdas/feedback/feedback-event';
import type { TraceLakeRow } from '../../lambdas/gate-score/lake-rows';
import type { Message } from '../../lambdas/gate-score/trace';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { LocalLake } from '../../local/local-lake';
import { lakeTraceRow } from '../helpers/lake-trace-row';

const REQUESTED_AT = '2026-11-20T12:00:00.000Z';
const IN_WINDOW = '2026-11-10T09:00:07.250Z';
const micros = (iso: string, deltaMs = 0): number => (Date.parse(iso) + deltaMs) * 1000;

const devStage = loadStageConfig('dev');
const stageSettings = pipelineSettingsFromStage(
  devStage,
  { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
  rewardScoringOf(readRewardPolicy(devStage.rewardPolicyVersion)),
);
const settings: PipelineSettings = { ...stageSettings, eligibility: { ...stageSettings.eligibility, minPositiveFeedback: 0, minHighQualityTraces: 0 } };

const base = 's3://sial-dev-artifacts/runs/run-router-1';
const request: ValidatedRequest = {
  runId: 'run-router-1',
  mode: 'train',
  stage: 'dev',
  boundary: 'US',
  targetModelId: 'support-router',
  targetKind: 'router',
  modelFamily: 'support-router',
  internalOnly: false,
  algorithm: 'router',
  requestedBy: 'test',
  requestedAt: REQUESTED_AT,
  uris: { datasetPrefix: `${base}/dataset/`, output: `${base}/output/`, checkpoints: `${base}/checkpoints/`, evalOutput: `${base}/eval/`, metrics: `${base}/eval/metrics.json` },
};

const user = (content: string): Message => ({ role: 'user', content });

function trace(id: string, over: Partial<TraceLakeRow> = {}): TraceLakeRow {
  return lakeTraceRow(id, IN_WINDOW, {
    input_messages: [{ role: 'system', content: 'Be brief.' }, user('How do I reset my password?')],
    retrieved_contexts: ['abc', 'de'],
    route_tier: 'small',
    misrouted: false,
    reward: 0.9,
    ...over,
  });
}

const MULTI_TURN: Message[] = [
  { role: 'system', content: 'You review code.' },
  user('Hi'),
  { role: 'assistant', content: 'Hello!' },
  user('Earlier question'),
  { role: 'assistant', content: 'Answer.' },
  user('Compare these two migration plans, step by step'),
];
const TOOL = { name: 'kb_search', arguments: '{}', result: 'ok', status: 'ok' as const };

const first = trace('t-redelivered', { reward: 0.2, route_tier: 'medium' });
const TRACES: TraceLakeRow[] = [
  trace('t-small'),
  trace('t-large', { agent_id: 'code-reviewer', input_messages: MULTI_TURN, retrieved_contexts: ['x'.repeat(5000)], tool_calls: [TOOL, TOOL, TOOL], route_tier: 'large', misrouted: null, reward: 0.4, error: true }),
  trace('t-no-tier', { route_tier: null, misrouted: null, language: 'es' }),
  trace('t-late', { request_id: 'req-late', feedback_outcome: 'success' }),
  first,
  { ...first, reward: 0.8, route_tier: 'large', gated_at: first.gated_at + 60_000_000 },
  // Excluded: another boundary, a confidential row for a general target, outside the window, no consent-kept policy.
  trace('x-eu', { data_boundary: 'EU', data_region: 'eu-west-1' }),
  trace('x-internal', { training_scope: 'internal-only-models', confidentiality: 'customer-confidential' }),
  trace('x-old', { ts: micros('2026-10-01T00:00:00.000Z'), gated_at: micros('2026-10-01T00:00:05.000Z') }),
  trace('x-policy', { reward_policy_version: 'v0' }),
];

const FEEDBACK: FeedbackRow[] = [
  { feedback_id: 'f1', agent_id: 'rag-qa-agent', request_id: 'req-late', trace_id: null, outcome: 'user_rejected', quality: null, latency_ms: null, token_count: null, received_at: micros('2026-11-11T00:00:00.000Z') },
];

describe('buildDataset for a router target (DuckDB, the same SQL as Athena)', () => {
  let dir: string;
  let store: FsObjectStore;
  let manifest: ReturnType<typeof datasetManifestSchema.parse>;
  let lines: RouterLine[];
  let routerBytes: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-router-dataset-'));
    const lake = await LocalLake.open(join(dir, 'lake'));
    try {
      await lake.append('traces', TRACES.slice(0, 5));
      await lake.append('traces', TRACES.slice(5));
      await lake.append('feedback', FEEDBACK);
      await lake.append('gate_audit', []);
      await lake.append('judgments', []);
      store = new FsObjectStore(join(dir, 's3'));
      manifest = await buildDataset(request, { sql: new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, settings, clock: () => new Date('2026-11-20T12:05:00.000Z') });
    } finally {
      lake.close();
    }
    const files = manifest.files.router ?? [];
    routerBytes = Buffer.concat(files.map((uri) => readFileSync(store.pathOf(uri))));
    const reading = readRouterFile(routerBytes);
    expect(reading.malformed).toEqual([]);
    lines = reading.lines;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one line per usable trace, every line in the trainer\'s contract', () => {
    expect(lines.map((l) => l.trace_id)).toEqual(['t-large', 't-late', 't-no-tier', 't-redelivered', 't-small']);
  });

  it('derives the request features the router reads from the lake row', () => {
    const byId = Object.fromEntries(lines.map((l) => [l.trace_id, l]));
    expect(byId['t-small']).toEqual({
      trace_id: 't-small',
      ts: '2026-11-10T09:00:07Z',
      agent_id: 'rag-qa-agent',
      language: 'en',
      user_message: 'How do I reset my password?',
      context_chars: 5,
      tool_calls: 0,
      prior_turns: 0,
      route_tier: 'small',
      misrouted: false,
      reward: 0.9,
      feedback_outcome: null,
      error: false,
    });
    expect(byId['t-large']).toMatchObject({ user_message: 'Compare these two migration plans, step by step', context_chars: 5000, tool_calls: 3, prior_turns: 2, route_tier: 'large', misrouted: null, error: true });
    expect(byId['t-no-tier']).toMatchObject({ route_tier: null, misrouted: null, language: 'es' });
  });

  it('reads the latest gated copy of a re-delivered trace, and late feedback as the outcome', () => {
    const byId = Object.fromEntries(lines.map((l) => [l.trace_id, l]));
    expect(byId['t-redelivered']).toMatchObject({ reward: 0.8, route_tier: 'large' });
    expect(byId['t-late']?.feedback_outcome).toBe('user_rejected');
    expect(byId['t-late']?.reward).toBeLessThan(0.9);
  });

  it('records the router file, its lineage, its row count and its hash in the manifest', () => {
    expect(datasetManifestSchema.parse(manifest)).toEqual(manifest);
    expect(manifest.routerUri).toMatch(/\/dataset\/build-[0-9TZ]+\/router-file\/$/);
    expect(manifest.files.router).toEqual([`${manifest.routerUri}router.jsonl`]);
    expect(manifest.files.grpo).toEqual([]);
    expect(manifest.files.dpo).toEqual([]);
    expect(manifest.counts.routerRows).toBe(5);
    const traceIds = Buffer.concat(manifest.files.traceIds.map((uri) => readFileSync(store.pathOf(uri)))).toString('utf8').split('\n').filter((l) => l !== '');
    expect(traceIds).toEqual(lines.map((l) => l.trace_id));
    const idBytes = Buffer.concat(manifest.files.traceIds.map((uri) => readFileSync(store.pathOf(uri))));
    expect(manifest.contentSha256).toBe(createHash('sha256').update(routerBytes).update(idBytes).digest('hex'));
  });
});
