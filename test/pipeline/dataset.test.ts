/**
 * The dataset build end to end on the real SQL: DuckDB over a local Parquet lake filled with rows shaped
 * like the Iceberg tables, the dataset written through FsObjectStore. Every excluded row carries an
 * extreme reward or a success feedback, so a filter that leaked would change a pair, a count or a hash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStageConfig } from '../../config';
import { datasetManifestSchema, type DatasetManifest, type ValidatedRequest } from '../../lambdas/pipeline/contracts';
import { buildDataset, datasetIdFor } from '../../lambdas/pipeline/dataset/build-dataset';
import { groupIdOf } from '../../lambdas/pipeline/dataset/group-key';
import { readRewardPolicy } from '../../config/reward-policies/read';
import { pipelineSettingsFromStage, rewardScoringOf, type PipelineSettings } from '../../lambdas/pipeline/settings';
import type { FeedbackRow } from '../../lambdas/feedback/feedback-event';
import type { JudgmentLakeRow } from '../../lambdas/judge/judgment-row';
import type { GateAuditRow, TraceLakeRow } from '../../lambdas/gate-score/lake-rows';
import type { Message } from '../../lambdas/gate-score/trace';
import { DuckDbSqlEngine } from '../../local/pipeline/duckdb-sql-engine';
import { FsObjectStore } from '../../local/pipeline/fs-object-store';
import { LocalLake } from '../../local/local-lake';

const REQUESTED_AT = '2026-11-20T12:00:00.000Z';
const WINDOW_FROM = '2026-10-21T12:00:00.000Z'; // 30 days before (dev's positiveFeedbackWindowDays)
const IN_WINDOW = '2026-11-10T09:00:00.000Z';
const micros = (iso: string, deltaMs = 0): number => (Date.parse(iso) + deltaMs) * 1000;

const devStage = loadStageConfig('dev');
const stageSettings: PipelineSettings = pipelineSettingsFromStage(
  devStage,
  { databaseName: 'sial_dev', tracesTable: 'traces', auditTable: 'gate_audit', feedbackTable: 'feedback', judgmentsTable: 'judgments' },
  rewardScoringOf(readRewardPolicy(devStage.rewardPolicyVersion)),
);
// Grouping and pairing are tested with every agent eligible; per-agent eligibility has its own tests below.
const settings: PipelineSettings = { ...stageSettings, eligibility: { ...stageSettings.eligibility, minPositiveFeedback: 0, minHighQualityTraces: 0 } };

function request(overrides: Partial<ValidatedRequest> = {}): ValidatedRequest {
  const runId = overrides.runId ?? 'run-20261120-1';
  const base = `s3://sial-dev-artifacts/runs/${runId}`;
  return {
    runId,
    mode: 'train',
    stage: 'dev',
    boundary: 'US',
    targetModelId: 'qwen3-4b',
    modelFamily: 'qwen3',
    internalOnly: false,
    algorithm: 'grpo',
    baseModelUri: 's3://sial-dev-models-us-east-1/base/qwen3-4b/',
    requestedBy: 'test',
    requestedAt: REQUESTED_AT,
    uris: {
      datasetPrefix: `${base}/dataset/`,
      output: `${base}/output/`,
      checkpoints: `${base}/checkpoints/`,
      evalOutput: `${base}/eval/`,
      metrics: `${base}/eval/metrics.json`,
    },
    ...overrides,
  };
}

const internalRequest = (): ValidatedRequest => request({ runId: 'run-internal', targetModelId: 'qwen3-4b-internal', internalOnly: true });

const user = (content: string): Message => ({ role: 'user', content });

interface TraceSpec {
  agent?: string;
  messages: Message[];
  reward: number;
  at?: string;
  atDeltaMs?: number;
  boundary?: TraceLakeRow['data_boundary'];
  scope?: TraceLakeRow['training_scope'];
  policy?: string;
  requestId?: string | null;
  feedback?: string | null;
}

function trace(id: string, spec: TraceSpec): TraceLakeRow {
  const scope = spec.scope ?? 'all-models';
  return {
    trace_id: id,
    ts: micros(spec.at ?? IN_WINDOW, spec.atDeltaMs ?? 0),
    agent_id: spec.agent ?? 'rag-qa-agent',
    request_id: spec.requestId ?? null,
    session_id: null,
    model: 'qwen3-4b',
    model_family: 'qwen3',
    model_version: '2026-10-01',
    model_variant: 'current',
    consent: true,
    data_region: spec.boundary === 'EU' ? 'eu-west-1' : 'us-east-1',
    data_boundary: spec.boundary ?? 'US',
    confidentiality: scope === 'all-models' ? 'internal' : 'customer-confidential',
    training_scope: scope,
    language: 'en',
    input_messages: spec.messages,
    retrieved_contexts: [],
    output: `answer of ${id}`,
    tool_calls: [],
    feedback_outcome: spec.feedback ?? null,
    feedback_quality: null,
    error: false,
    latency_ms: 800,
    input_tokens: 20,
    output_tokens: 40,
    cost_usd: 0.0001,
    route_tier: null,
    misrouted: null,
    pii_scanner: 'comprehend',
    pii_entities_masked: 0,
    reward: spec.reward,
    reward_components: { feedback: null, errors: 1, latency: 1, groundedness: null, judge: null },
    reward_policy_version: spec.policy ?? 'v1',
    source_format: 'native',
    gated_at: micros(spec.at ?? IN_WINDOW, spec.atDeltaMs ?? 0) + 5_000_000,
    subject_key: null,
  };
}

const REFUND = [user('What is our refund policy?')];
const PASSWORD_A: Message[] = [{ role: 'system', content: 'You are helpful.' }, user('Hi'), { role: 'assistant', content: 'Hello!' }, user('Reset my password')];
const PASSWORD_B: Message[] = [{ role: 'system', content: 'Be brief.' }, user('Hi'), { role: 'assistant', content: 'Hey.' }, user('Reset my password')];

const TRACES: TraceLakeRow[] = [
  // G1: refund question, rag-qa-agent. Best vs worst is a DPO pair (gap 0.4).
  trace('g1-best', { messages: REFUND, reward: 0.9, requestId: 'req-3', feedback: 'success' }),
  trace('g1-mid', { messages: REFUND, reward: 0.7, requestId: 'req-4', feedback: 'success' }),
  trace('g1-worst', { messages: REFUND, reward: 0.5 }),
  // Only an internal-only target may read it; it would become the chosen completion.
  trace('g1-internal', { messages: REFUND, reward: 0.95, scope: 'internal-only-models', requestId: 'req-5', feedback: 'success' }),
  // Excluded: another boundary, an older reward policy, outside the window (before, after).
  trace('g1-eu', { messages: REFUND, reward: 0.99, boundary: 'EU', requestId: 'req-eu', feedback: 'success' }),
  trace('g1-policy-v0', { messages: REFUND, reward: 0.01, policy: 'v0', feedback: 'success' }),
  trace('g1-old', { messages: REFUND, reward: 0.0, at: '2026-10-01T00:00:00.000Z', feedback: 'success' }),
  trace('g1-future', { messages: REFUND, reward: 0.0, at: '2026-11-21T00:00:00.000Z', feedback: 'success' }),
  // G2: a whole conversation (system prompt, earlier turns) is the prompt; gap 0.15: no pair.
  trace('g2-a', { messages: PASSWORD_A, reward: 0.8 }),
  trace('g2-b', { messages: PASSWORD_A, reward: 0.65 }),
  // The same user messages under another system prompt are another prompt: a group of one, so in no file.
  trace('g2-other-system', { messages: PASSWORD_B, reward: 0.1 }),
  // G3: gap of exactly the minimum (0.7 - 0.5 is 0.19999999999999996 in doubles): a pair.
  trace('g3-hi', { agent: 'code-reviewer', messages: [user('Review this diff')], reward: 0.7 }),
  trace('g3-lo', { agent: 'code-reviewer', messages: [user('Review this diff')], reward: 0.5 }),
  // G4: gap 0.19: no pair.
  trace('g4-hi', { agent: 'code-reviewer', messages: [user('Review this diff please')], reward: 0.69 }),
  trace('g4-lo', { agent: 'code-reviewer', messages: [user('Review this diff please')], reward: 0.5 }),
  // The refund question from another agent: a group of one, so in no file.
  trace('g5-single', { agent: 'code-reviewer', messages: REFUND, reward: 0.4 }),
  // A singleton with success feedback and no request id: no file, but it counts for eligibility.
  trace('s1-single', { messages: [user('Unique question')], reward: 0.9, feedback: 'success' }),
  // G6: exactly on both window bounds (inclusive) and just outside them.
  trace('g6-from', { messages: [user('Window edges')], reward: 0.3, at: WINDOW_FROM }),
  trace('g6-to', { messages: [user('Window edges')], reward: 0.4, at: REQUESTED_AT }),
  trace('g6-before', { messages: [user('Window edges')], reward: 1.0, at: WINDOW_FROM, atDeltaMs: -1 }),
  trace('g6-after', { messages: [user('Window edges')], reward: 1.0, at: REQUESTED_AT, atDeltaMs: 1 }),
  // G7: a tie at the top is broken by trace id.
  trace('g7-b', { messages: [user('Tie')], reward: 0.9 }),
  trace('g7-a', { messages: [user('Tie')], reward: 0.9 }),
  trace('g7-c', { messages: [user('Tie')], reward: 0.3 }),
  // No user message: no prompt, never grouped.
  trace('n1', { messages: [{ role: 'system', content: 'cron' }], reward: 0.8 }),
  trace('n2', { messages: [{ role: 'system', content: 'cron' }], reward: 0.2 }),
];

function feedback(id: string, requestId: string, outcome: string, at = IN_WINDOW, agent = 'rag-qa-agent'): FeedbackRow {
  return { feedback_id: id, agent_id: agent, request_id: requestId, trace_id: null, outcome, quality: null, latency_ms: null, token_count: null, received_at: micros(at) };
}

const FEEDBACK: FeedbackRow[] = [
  feedback('f1', 'req-1', 'success'),
  feedback('f1', 'req-1', 'success'), // a client retry: the same feedback_id
  feedback('f2', 'req-2', 'success'),
  feedback('f3', 'req-2', 'error'),
  feedback('f4', 'req-9', 'success', '2026-10-01T00:00:00.000Z'), // before the window
  feedback('f5', 'req-3', 'success'), // the same interaction as g1-best's own success feedback
  feedback('f6', 'req-4', 'success', IN_WINDOW, 'code-reviewer'), // another agent's req-4: does not stand in for g1-mid's
];

function audit(id: string, gate: string, at = IN_WINDOW, boundary: GateAuditRow['data_boundary'] = 'US'): GateAuditRow {
  return { trace_id: id, gate, reason: `${gate}: test`, discarded_at: micros(at), agent_id: 'rag-qa-agent', model: 'qwen3-4b', data_boundary: boundary, subject_key: null };
}

const AUDIT: GateAuditRow[] = [
  audit('d1', 'region'),
  audit('d2', 'region'),
  audit('d3', 'consent'),
  audit('d4', 'pii'),
  audit('d5', 'pii'),
  audit('d6', 'pii'),
  audit('d7', 'pii', IN_WINDOW, 'EU'),
  audit('d8', 'consent', '2026-10-01T00:00:00.000Z'),
];

async function openLake(dir: string, traces: readonly TraceLakeRow[]): Promise<LocalLake> {
  const lake = await LocalLake.open(dir);
  await lake.append('traces', traces);
  await lake.append('feedback', FEEDBACK);
  await lake.append('gate_audit', AUDIT);
  return lake;
}

let buildCount = 0;

interface Built {
  manifest: DatasetManifest;
  grpo: Array<{ group_id: string; agent_id: string; prompt: Message[]; completions: Array<{ trace_id: string; reward: number; completion: Message[]; reward_components: Record<string, number | null> }> }>;
  dpo: Array<{ agent_id: string; prompt: Message[]; chosen: Message[]; rejected: Message[]; chosen_trace_id: string; rejected_trace_id: string; chosen_reward: number; rejected_reward: number }>;
  traceIds: string[];
  manifestFile: unknown;
}

async function build(lake: LocalLake, store: FsObjectStore, req: ValidatedRequest, withSettings: PipelineSettings = settings): Promise<Built> {
  // Each build is an attempt of its own (a later clock), as a retry would be: attempts never share a folder.
  const startedAt = new Date(Date.parse('2026-11-20T12:05:00.000Z') + 1000 * buildCount++);
  const manifest = await buildDataset(req, { sql: new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, settings: withSettings, clock: () => startedAt });
  const read = async (uris: readonly string[]): Promise<string> => {
    let out = '';
    for (const uri of uris) {
      const text = await store.getText(uri);
      if (text === undefined) throw new Error(`${uri} was not written`);
      out += text;
    }
    return out;
  };
  const lines = (text: string): unknown[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
  return {
    manifest,
    grpo: lines(await read(manifest.files.grpo)) as Built['grpo'],
    dpo: lines(await read(manifest.files.dpo)) as Built['dpo'],
    traceIds: (await read(manifest.files.traceIds)).split('\n').filter((l) => l !== ''),
    manifestFile: JSON.parse(await read([manifest.manifestUri])),
  };
}

const groupOf = (b: Built, firstTraceId: string) => b.grpo.find((g) => g.completions.some((c) => c.trace_id === firstTraceId));
const pairOf = (b: Built, traceId: string) => b.dpo.find((p) => p.chosen_trace_id === traceId || p.rejected_trace_id === traceId);

describe('buildDataset on the local lake (DuckDB, the same SQL as Athena)', () => {
  let dir: string;
  let lake: LocalLake;
  let store: FsObjectStore;
  let general: Built;
  let internal: Built;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sial-dataset-'));
    lake = await openLake(join(dir, 'lake'), TRACES);
    store = new FsObjectStore(join(dir, 's3'));
    general = await build(lake, store, request());
    internal = await build(lake, store, internalRequest());
  });

  afterAll(() => {
    lake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a manifest that satisfies the contract, next to the files it describes', () => {
    expect(datasetManifestSchema.parse(general.manifestFile)).toEqual(general.manifest);
    const attempt = general.manifest.grpoUri.replace(/grpo\/$/, '');
    expect(attempt).toMatch(/^s3:\/\/sial-dev-artifacts\/runs\/run-20261120-1\/dataset\/build-20261120T1205\d{5}Z\/$/);
    expect(general.manifest).toEqual(
      expect.objectContaining({
        datasetId: 'ds-run-20261120-1',
        boundary: 'US',
        targetModelId: 'qwen3-4b',
        rewardPolicyVersion: 'v1',

        window: { from: WINDOW_FROM, to: REQUESTED_AT },
        manifestUri: 's3://sial-dev-artifacts/runs/run-20261120-1/dataset/manifest.json',
        dpoUri: `${attempt}dpo/`,
        traceIdsUri: `${attempt}trace-ids/`,
        acceptedRewardPolicyVersions: ['v1'],
        dpoMinRewardMargin: 0.2,
      }),
    );
    expect(general.manifest.files).toEqual({ grpo: [`${attempt}grpo/part-00000.jsonl`], dpo: [`${attempt}dpo/part-00000.jsonl`], traceIds: [`${attempt}trace-ids/part-00000.txt`] });
  });

  it('reads only its own boundary, the current reward policy and the window (both bounds inclusive)', () => {
    const used = new Set(general.traceIds);
    for (const excluded of ['g1-eu', 'g1-policy-v0', 'g1-old', 'g1-future', 'g6-before', 'g6-after']) expect(used.has(excluded)).toBe(false);
    expect(groupOf(general, 'g6-from')?.completions.map((c) => c.trace_id)).toEqual(['g6-to', 'g6-from']);
  });

  it('gives a general target only all-models rows and an internal-only target both scopes', () => {
    expect(groupOf(general, 'g1-best')?.completions.map((c) => c.trace_id)).toEqual(['g1-best', 'g1-mid', 'g1-worst']);
    expect(general.traceIds).not.toContain('g1-internal');
    // g1-best's late feedback (reward 1) puts it above g1-internal (0.95).
    expect(groupOf(internal, 'g1-best')?.completions.map((c) => c.trace_id)).toEqual(['g1-best', 'g1-internal', 'g1-mid', 'g1-worst']);
    expect(pairOf(internal, 'g1-internal')).toBeUndefined();
    expect(pairOf(internal, 'g1-best')).toEqual(expect.objectContaining({ chosen_trace_id: 'g1-best', rejected_trace_id: 'g1-worst' }));
  });

  it('groups completions by agent and whole conversation, with at least two per group', () => {
    const groups = general.grpo.map((g) => ({ agent: g.agent_id, prompt: g.prompt.filter((m) => m.role === 'user').map((m) => m.content), ids: g.completions.map((c) => c.trace_id) }));
    expect(groups).toEqual(
      expect.arrayContaining([
        { agent: 'rag-qa-agent', prompt: ['What is our refund policy?'], ids: ['g1-best', 'g1-mid', 'g1-worst'] },
        { agent: 'rag-qa-agent', prompt: ['Hi', 'Reset my password'], ids: ['g2-a', 'g2-b'] },
        { agent: 'code-reviewer', prompt: ['Review this diff'], ids: ['g3-hi', 'g3-lo'] },
        { agent: 'code-reviewer', prompt: ['Review this diff please'], ids: ['g4-hi', 'g4-lo'] },
        { agent: 'rag-qa-agent', prompt: ['Window edges'], ids: ['g6-to', 'g6-from'] },
        { agent: 'rag-qa-agent', prompt: ['Tie'], ids: ['g7-a', 'g7-b', 'g7-c'] },
      ]),
    );
    expect(groups).toHaveLength(6);
    expect(general.grpo.every((g) => g.completions.length >= 2)).toBe(true);
    // Prompts are the whole conversation as chat messages, contexts beside them; completions carry their reward and trace id.
    const g1 = groupOf(general, 'g1-best')!;
    expect(g1.prompt).toEqual([{ role: 'user', content: 'What is our refund policy?' }]);
    expect(groupOf(general, 'g2-a')!.prompt).toEqual(PASSWORD_A);
    expect(general.traceIds).not.toContain('g2-other-system');
    // g1-best's request got a success event (f5): late feedback re-scores it under the policy,
    // (0.4 x 1 + 0.2 x 1 + 0.1 x 1) / 0.7 = 1.
    expect(g1.completions[0]).toEqual({
      trace_id: 'g1-best',
      reward: 1,
      completion: [{ role: 'assistant', content: 'answer of g1-best' }],
      reward_components: { feedback: 1, errors: 1, latency: 1, groundedness: null, judge: null },
      reward_policy_version: 'v1',
      late_feedback: true,
    });
    expect(g1.completions[1]).toEqual(expect.objectContaining({ trace_id: 'g1-mid', reward: 0.7, late_feedback: false }));
    expect(general.manifest.counts).toEqual(expect.objectContaining({ grpoGroups: 6, grpoCompletions: 14 }));
  });

  it('pairs the best over the worst completion only when the reward gap reaches the minimum', () => {
    expect(settings.dataset.dpoMinRewardMargin).toBe(0.2);
    expect(general.dpo.map((p) => [p.chosen_trace_id, p.rejected_trace_id]).sort()).toEqual([
      ['g1-best', 'g1-worst'],
      ['g3-hi', 'g3-lo'], // 0.7 - 0.5: exactly the minimum despite float rounding
      ['g7-a', 'g7-c'], // a tie at the top goes to the lower trace id
    ]);
    expect(pairOf(general, 'g4-hi')).toBeUndefined(); // gap 0.19
    expect(pairOf(general, 'g2-a')).toBeUndefined(); // gap 0.15
    expect(pairOf(general, 'g6-to')).toBeUndefined(); // gap 0.1
    expect(pairOf(general, 'g1-best')).toEqual({
      group_id: groupOf(general, 'g1-best')!.group_id,
      agent_id: 'rag-qa-agent',
      prompt: [{ role: 'user', content: 'What is our refund policy?' }],
      contexts: [],
      chosen: [{ role: 'assistant', content: 'answer of g1-best' }],
      rejected: [{ role: 'assistant', content: 'answer of g1-worst' }],
      chosen_trace_id: 'g1-best',
      rejected_trace_id: 'g1-worst',
      chosen_reward: 1,
      rejected_reward: 0.5,
    });
    expect(general.manifest.counts.dpoPairs).toBe(3);
  });

  it('lists every trace in either file, and nothing else, for erasure lineage', () => {
    const inFiles = new Set([...general.grpo.flatMap((g) => g.completions.map((c) => c.trace_id)), ...general.dpo.flatMap((p) => [p.chosen_trace_id, p.rejected_trace_id])]);
    expect(general.traceIds).toEqual([...inFiles].sort());
    expect(general.traceIds).toEqual(['g1-best', 'g1-mid', 'g1-worst', 'g2-a', 'g2-b', 'g3-hi', 'g3-lo', 'g4-hi', 'g4-lo', 'g6-from', 'g6-to', 'g7-a', 'g7-b', 'g7-c']);
    expect(general.manifest.counts.tracesUsed).toBe(14);
  });

  it('counts gate_audit discards per gate of its boundary in the window', () => {
    expect(general.manifest.counts.discardedByGate).toEqual({ consent: 1, pii: 3, region: 2 });
  });

  it('counts positive feedback once per interaction and high-quality traces at the threshold', () => {
    // Events: f1 (once, despite the retry), f2, f5, f6 (f3 is an error, f4 before the window). Traces' own
    // success without a success event of the same agent and request: g1-mid (f6 is another agent's req-4)
    // and s1-single (no request id); g1-best is f5's interaction, counted once.
    // High quality (reward >= 0.8, exactly 0.8 included): g1-best, g2-a (0.8), s1-single, g7-a, g7-b, n1 (0.8):
    // every selected trace counts, grouped or not.
    // Per agent: rag-qa-agent has events f1, f2, f5 and traces g1-mid, s1-single, g1-policy-v0 (feedback
    // counts whatever policy scored the trace); code-reviewer has f6. High quality counts usable traces only
    // (n1 has no user turn, g1-policy-v0 is not an accepted version): g1-best (1 after late feedback), g2-a
    // (0.8, the threshold), s1-single, g7-a, g7-b.
    expect(general.manifest.eligibility).toEqual({
      positiveFeedback: 7,
      positiveFeedbackWindowDays: 30,
      highQualityTraces: 5,
      highQualityReward: 0.8,
      agents: [
        { agentId: 'code-reviewer', positiveFeedback: 1, highQualityTraces: 0, eligible: true },
        { agentId: 'rag-qa-agent', positiveFeedback: 6, highQualityTraces: 5, eligible: true },
      ],
    });
    // The internal-only target also reads g1-internal (success without an event, reward 0.95).
    expect(internal.manifest.eligibility).toEqual(expect.objectContaining({ positiveFeedback: 8, highQualityTraces: 6 }));
  });

  it('hashes the same data the same, whatever order it was written in, and different data differently', async () => {
    const again = await build(lake, store, request());
    expect(again.manifest.contentSha256).toBe(general.manifest.contentSha256);

    const reversedLake = await LocalLake.open(join(dir, 'lake-reversed'));
    try {
      const reversed = [...TRACES].reverse();
      await reversedLake.append('traces', reversed.slice(0, 10));
      await reversedLake.append('traces', reversed.slice(10));
      await reversedLake.append('feedback', FEEDBACK);
      await reversedLake.append('gate_audit', AUDIT);
      const fromReversed = await build(reversedLake, new FsObjectStore(join(dir, 's3-reversed')), request());
      expect(fromReversed.manifest.contentSha256).toBe(general.manifest.contentSha256);

      await reversedLake.append('traces', [trace('g1-late', { messages: REFUND, reward: 0.6 })]);
      const changed = await build(reversedLake, new FsObjectStore(join(dir, 's3-changed')), request());
      expect(changed.manifest.contentSha256).not.toBe(general.manifest.contentSha256);
      expect(changed.traceIds).toContain('g1-late');
    } finally {
      reversedLake.close();
    }
    expect(internal.manifest.contentSha256).not.toBe(general.manifest.contentSha256);
  });

  it('writes empty files and zero counts when nothing qualifies', async () => {
    const emptyLake = await LocalLake.open(join(dir, 'lake-empty'));
    try {
      const built = await build(emptyLake, new FsObjectStore(join(dir, 's3-empty')), request());
      expect(built.grpo).toEqual([]);
      expect(built.dpo).toEqual([]);
      expect(built.traceIds).toEqual([]);
      expect(built.manifest.counts).toEqual({
        tracesUsed: 0,
        grpoGroups: 0,
        grpoCompletions: 0,
        dpoPairs: 0,
        rowsInWindow: 0,
        duplicateCopies: 0,
        excludedPolicyVersion: 0,
        excludedNoUserTurn: 0,
        excludedGoldenOverlap: 0,
        excludedIneligibleAgent: 0,
        lateFeedbackApplied: 0,
        rescoredOlderPolicy: 0,
        discardedByGate: {},
      });
      expect(built.manifest.eligibility).toEqual(expect.objectContaining({ positiveFeedback: 0, highQualityTraces: 0 }));
    } finally {
      emptyLake.close();
    }
  });

  it('refuses a request for another boundary or a target the stage does not list', async () => {
    const deps = { sql: new DuckDbSqlEngine(lake), store, settings, clock: () => new Date() };
    await expect(buildDataset(request({ boundary: 'EU' }), deps)).rejects.toThrow('a dataset never crosses its boundary');
    await expect(buildDataset(request({ targetModelId: 'llama4-8b' }), deps)).rejects.toThrow('which this stage does not list');
    await expect(buildDataset(request({ internalOnly: true }), deps)).rejects.toThrow('internalOnly=false');
  });
});

describe('buildDataset: re-delivery, re-scoring, decontamination, per-agent eligibility', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-dataset-rules-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function buildOn(name: string, batches: ReadonlyArray<readonly TraceLakeRow[]>, withSettings: PipelineSettings, extra: { audit?: GateAuditRow[]; feedback?: FeedbackRow[]; golden?: string[]; judgments?: JudgmentLakeRow[] } = {}): Promise<Built> {
    const lake = await LocalLake.open(join(dir, name, 'lake'));
    try {
      // Each batch is its own append: Firehose delivering the same trace twice writes two files.
      for (const batch of batches) await lake.append('traces', batch);
      await lake.append('gate_audit', extra.audit ?? []);
      await lake.append('feedback', extra.feedback ?? []);
      await lake.append('judgments', extra.judgments ?? []);
      const store = new FsObjectStore(join(dir, name, 's3'));
      if (extra.golden !== undefined) {
        const lines = extra.golden.map((q, i) => JSON.stringify({ id: `g${i}`, messages: [user(q)], contexts: [], reference: 'x' })).join('\n');
        await store.putText('s3://sial-dev-artifacts/golden-sets/qwen3-4b/golden.jsonl', `${lines}\n`);
        await store.putText('s3://sial-dev-artifacts/golden-sets/qwen3-4b/golden.json', JSON.stringify({ version: 'test-v1', sha256: 'a'.repeat(64), examples: extra.golden.length }));
      }
      const manifest = await buildDataset(request(), { sql: new DuckDbSqlEngine(lake, (uri) => store.pathOf(uri)), store, settings: withSettings, clock: () => new Date('2026-11-20T12:05:00.000Z'), goldenSetsUri: 's3://sial-dev-artifacts/golden-sets/' });
      const read = async (uris: readonly string[]): Promise<string> => (await Promise.all(uris.map(async (u) => (await store.getText(u)) ?? ''))).join('');
      const lines = (text: string): unknown[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
      return {
        manifest,
        grpo: lines(await read(manifest.files.grpo)) as Built['grpo'],
        dpo: lines(await read(manifest.files.dpo)) as Built['dpo'],
        traceIds: (await read(manifest.files.traceIds)).split('\n').filter((l) => l !== ''),
        manifestFile: null,
      };
    } finally {
      lake.close();
    }
  }

  it('reads a trace delivered in two batches once (the latest gated copy) and audits a re-delivered discard once', async () => {
    const first = trace('r1', { messages: REFUND, reward: 0.2 });
    const redelivered = { ...first, reward: 0.3, gated_at: first.gated_at + 60_000_000 };
    const built = await buildOn('redelivery', [[first, trace('r2', { messages: REFUND, reward: 0.9 })], [redelivered]], settings, {
      audit: [audit('d1', 'pii'), audit('d1', 'pii', '2026-11-10T10:00:00.000Z'), audit('d2', 'consent')],
    });
    expect(built.traceIds).toEqual(['r1', 'r2']);
    expect(groupOf(built, 'r1')?.completions.map((c) => [c.trace_id, c.reward])).toEqual([['r2', 0.9], ['r1', 0.3]]);
    expect(built.manifest.counts).toEqual(expect.objectContaining({ rowsInWindow: 3, duplicateCopies: 1, grpoCompletions: 2, discardedByGate: { consent: 1, pii: 1 } }));
  });

  it('re-scores rows of an older accepted policy version under the current policy, and counts the versions it does not accept', async () => {
    // errors 1, latency 1, no feedback or groundedness under v1's weights: (0.2 + 0.1) / 0.3 = 1.
    const batches = [[trace('o1', { messages: REFUND, reward: 0.1, policy: 'v0' }), trace('o2', { messages: REFUND, reward: 0.5 })]];
    const onlyCurrent = await buildOn('policy-current', batches, settings);
    expect(onlyCurrent.traceIds).toEqual([]);
    expect(onlyCurrent.manifest.counts).toEqual(expect.objectContaining({ excludedPolicyVersion: 1, grpoGroups: 0 }));
    const accepting: PipelineSettings = { ...settings, dataset: { ...settings.dataset, acceptedRewardPolicyVersions: ['v1', 'v0'] } };
    const built = await buildOn('policy-accepted', batches, accepting);
    expect(groupOf(built, 'o1')?.completions.map((c) => [c.trace_id, c.reward])).toEqual([['o1', 1], ['o2', 0.5]]);
    expect(built.manifest.counts).toEqual(expect.objectContaining({ excludedPolicyVersion: 0, rescoredOlderPolicy: 1 }));
    expect(built.manifest.acceptedRewardPolicyVersions).toEqual(['v1', 'v0']);
  });

  it('folds late feedback (by request id or trace id) into the reward, the latest event winning', async () => {
    const rows = [trace('l1', { messages: REFUND, reward: 0.5, requestId: 'req-l1' }), trace('l2', { messages: REFUND, reward: 0.5 })];
    const events = [
      feedback('e1', 'req-l1', 'success', '2026-11-11T00:00:00.000Z'),
      feedback('e2', 'req-l1', 'user_rejected', '2026-11-12T00:00:00.000Z'),
      { ...feedback('e3', 'req-other', 'success', '2026-11-12T00:00:00.000Z'), trace_id: 'l2' },
    ];
    const built = await buildOn('late-feedback', [rows], settings, { feedback: events });
    const rewards = Object.fromEntries(groupOf(built, 'l1')!.completions.map((c) => [c.trace_id, c.reward]));
    // l1: user_rejected (0) is its latest event: (0.4 x 0 + 0.2 + 0.1) / 0.7; l2: success by trace id: 1.
    expect(rewards.l1).toBeCloseTo(0.3 / 0.7, 12);
    expect(rewards.l2).toBe(1);
    expect(built.manifest.counts.lateFeedbackApplied).toBe(2);
  });

  it('reads the judge component from the latest judgment under the current policy\'s judge prompts', async () => {
    const judgedScoring = { ...settings.rewardScoring!, weights: { ...settings.rewardScoring!.weights, judge: 0.3 }, judgePromptHash: 'sha256:current' };
    const judgedSettings: PipelineSettings = { ...settings, rewardScoring: judgedScoring };
    const rows = [trace('j1', { messages: REFUND, reward: 0.6 }), trace('j2', { messages: REFUND, reward: 0.6 }), trace('j3', { messages: REFUND, reward: 0.6 })];
    const judgment = (traceId: string, score: number | null, promptHash: string, judgedAt: string): JudgmentLakeRow => ({
      trace_id: traceId,
      trace_ts: micros(IN_WINDOW),
      agent_id: 'rag-qa-agent',
      model: 'qwen3-4b',
      model_variant: 'current',
      route_tier: null,
      reward_policy_version: 'v1',
      judge_model: 'judge-model',
      judge_endpoint: 'simulated',
      judge_prompt_hash: promptHash,
      faithfulness: score,
      answer_relevance: score,
      misrouted: null,
      claims: 2,
      judge_score: score,
      no_judgment: score === null ? 'faithfulness: malformed_answer' : null,
      input_tokens: 100,
      output_tokens: 20,
      judged_at: micros(judgedAt),
    });
    const judgments = [
      // j1: judged twice under the current prompts; the later judgment (0) wins.
      judgment('j1', 1, 'sha256:current', '2026-11-11T00:00:00.000Z'),
      judgment('j1', 0, 'sha256:current', '2026-11-12T00:00:00.000Z'),
      // j2: judged only under other prompts, which judge differently: not read.
      judgment('j2', 0, 'sha256:older', '2026-11-12T00:00:00.000Z'),
      // j3: the judge gave no judgment: the component stays out and the stored reward stands.
      judgment('j3', null, 'sha256:current', '2026-11-12T00:00:00.000Z'),
    ];
    const built = await buildOn('judged', [rows], judgedSettings, { judgments });
    const rewards = Object.fromEntries(groupOf(built, 'j1')!.completions.map((c) => [c.trace_id, c.reward]));
    // v1's other weights over errors (1) and latency (1): 0.2 + 0.1; with the judge (0.3 x 0): 0.3 / 0.6.
    expect(rewards.j1).toBeCloseTo(0.3 / 0.6, 12);
    expect(rewards.j2).toBe(0.6);
    expect(rewards.j3).toBe(0.6);
    const j1 = groupOf(built, 'j1')!.completions.find((c) => c.trace_id === 'j1')!;
    expect(j1.reward_components.judge).toBe(0);
  });

  it('keys a group by the specified text, whatever characters the prompt holds (the same id in every engine)', async () => {
    // Characters engines print differently as JSON (outside the BMP), the key's escape and its separators.
    const tricky: Message[] = [
      { role: 'system', content: 'Reply \\ briefly \u001d\u001e\u001f.' },
      user('¿Cómo cancelo? 🙏 «ＦＵＬＬ» naïve\u00a0café'),
    ];
    const rows = [
      trace('t1', { messages: tricky, reward: 0.9 }),
      trace('t2', { messages: tricky, reward: 0.3 }),
      trace('r1', { messages: REFUND, reward: 0.8 }),
      trace('r2', { messages: REFUND, reward: 0.4 }),
    ];
    const built = await buildOn('group-key', [rows], settings);
    expect(groupOf(built, 't1')!.group_id).toBe(groupIdOf('rag-qa-agent', tricky, []));
    expect(groupOf(built, 'r1')!.group_id).toBe(groupIdOf('rag-qa-agent', REFUND, []));
    expect(groupOf(built, 't1')!.completions.map((c) => c.trace_id)).toEqual(['t1', 't2']);
  });

  it('excludes and counts traces whose prompt overlaps the golden set', async () => {
    const golden = 'How do I rotate my API key without downtime for the production service?';
    const rows = [
      trace('c1', { messages: [user(golden)], reward: 0.9 }),
      trace('c2', { messages: [user(`Please: ${golden.toUpperCase()}`)], reward: 0.1 }),
      trace('k1', { messages: [user('How do I rotate my password')], reward: 0.9 }),
      trace('k2', { messages: [user('How do I rotate my password')], reward: 0.2 }),
    ];
    const built = await buildOn('golden', [rows], settings, { golden: [golden] });
    expect(built.traceIds).toEqual(['k1', 'k2']);
    expect(built.manifest.counts.excludedGoldenOverlap).toBe(2);
    expect(built.manifest.decontamination).toEqual({
      goldenSet: { uri: 's3://sial-dev-artifacts/golden-sets/qwen3-4b/golden.jsonl', version: 'test-v1', sha256: 'a'.repeat(64), examples: 1 },
      ngramWords: 8,
      maxOverlap: 0.5,
    });
  });

  it('makes each agent eligible on its own figures: one agent\'s feedback never carries another', async () => {
    const strict: PipelineSettings = { ...settings, eligibility: { ...settings.eligibility, minPositiveFeedback: 2, minHighQualityTraces: 2 } };
    const rows = [
      trace('a1', { messages: REFUND, reward: 0.9 }),
      trace('a2', { messages: REFUND, reward: 0.85 }),
      trace('b1', { agent: 'code-reviewer', messages: REFUND, reward: 0.9 }),
      trace('b2', { agent: 'code-reviewer', messages: REFUND, reward: 0.95 }),
    ];
    const events = [feedback('p1', 'req-1', 'success'), feedback('p2', 'req-2', 'success'), feedback('p3', 'req-3', 'success')];
    const built = await buildOn('per-agent', [rows], strict, { feedback: events });
    expect(built.traceIds).toEqual(['a1', 'a2']);
    expect(built.manifest.eligibility.agents).toEqual([
      { agentId: 'code-reviewer', positiveFeedback: 0, highQualityTraces: 2, eligible: false },
      { agentId: 'rag-qa-agent', positiveFeedback: 3, highQualityTraces: 2, eligible: true },
    ]);
    expect(built.manifest.counts.excludedIneligibleAgent).toBe(2);
  });
});

describe('datasetIdFor', () => {
  it('derives the id from the run id and keeps it within the 128-character id limit', () => {
    expect(datasetIdFor('run-1')).toBe('ds-run-1');
    const long = 'r'.repeat(128);
    const id = datasetIdFor(long);
    expect(id).toHaveLength(128);
    expect(id).toMatch(/^ds-r+-[0-9a-f]{24}$/);
    expect(datasetIdFor(`${'r'.repeat(127)}x`)).not.toBe(id);
  });
});

describe('FsObjectStore', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sial-fs-store-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps s3://bucket/key to rootDir/bucket/key and reads back what it wrote', async () => {
    const store = new FsObjectStore(dir);
    expect(store.pathOf('s3://my-bucket/a/b.json')).toBe(join(dir, 'my-bucket', 'a', 'b.json'));
    await store.putText('s3://my-bucket/a/b.json', '{"x":1}');
    expect(await store.getText('s3://my-bucket/a/b.json')).toBe('{"x":1}');
    expect(await store.getText('s3://my-bucket/a/missing.json')).toBeUndefined();
  });

  it('refuses URIs that are not objects or that would leave the bucket folder', async () => {
    const store = new FsObjectStore(dir);
    await expect(store.putText('s3://my-bucket/../other-bucket/x', 'x')).rejects.toThrow('outside its bucket folder');
    await expect(store.putText('s3://my-bucket/a/../../x', 'x')).rejects.toThrow('outside its bucket folder');
    await expect(store.putText('s3://my-bucket/prefix/', 'x')).rejects.toThrow('names a prefix');
    await expect(store.putText('/etc/passwd', 'x')).rejects.toThrow('is not an s3://bucket/key URI');
  });
});
