/**
 * Operating demo traffic for local mode: five weeks of [SIMULATED] requests of two agents, so the daily
 * reports (`sial report costs | regressions | confidence --local DIR`) have a baseline and a current
 * window to compare. `ide-assistant` stays steady; `chat-assistant` regresses in the last week: a new
 * model version answers slower, with longer outputs (dearer), more errors and more rejected answers.
 * Seeded and clean of personal data; internal-only, so no general model's training set takes it in.
 * Goes through the same gate and score code as every other trace (local-ingest.ts).
 */
import { BOUNDARY_REGIONS, type DataBoundary } from '../config/boundaries';
import { seededRandom, type DemoRecord } from './demo-traces';

/** The agents of the operating demo and the one that regresses in the current window. */
export const OPERATING_AGENTS = { steady: 'ide-assistant', regressing: 'chat-assistant' } as const;

/** Days of history: the default baseline (28) and current (7) windows. */
export const OPERATING_HISTORY_DAYS = 35;

/** The days, counted back from the end, in which the regressing agent serves its new version. */
export const REGRESSION_DAYS = 7;

const REQUESTS_PER_AGENT_PER_DAY = 6;
const DAY_MS = 86_400_000;

interface AgentBehaviour {
  readonly version: string;
  readonly errorRate: number;
  readonly positiveRate: number;
  readonly latencyMs: readonly [number, number];
  readonly outputTokens: readonly [number, number];
}

const STEADY: AgentBehaviour = { version: '2026-10-01', errorRate: 0.02, positiveRate: 0.88, latencyMs: [40, 95], outputTokens: [20, 60] };
const CHAT_BEFORE: AgentBehaviour = { version: '2026-10-01', errorRate: 0.02, positiveRate: 0.86, latencyMs: [250, 480], outputTokens: [80, 160] };
const CHAT_REGRESSED: AgentBehaviour = { version: '2026-11-28', errorRate: 0.2, positiveRate: 0.5, latencyMs: [450, 1100], outputTokens: [220, 420] };

const QUESTIONS = ['Complete this function signature.', 'Explain the failing test.', 'Summarise the release notes.', 'How do I rotate my API key?'];

/** The operating demo's records, ending at `end` (the report's end), oldest first. */
export function generateOperatingRecords(options: { readonly end: Date; readonly boundary: DataBoundary; readonly seed?: number }): DemoRecord[] {
  const random = seededRandom(options.seed ?? 41);
  const region = BOUNDARY_REGIONS[options.boundary][0] as string;
  const records: DemoRecord[] = [];
  const between = ([low, high]: readonly [number, number]) => Math.round(low + random() * (high - low));
  for (let day = OPERATING_HISTORY_DAYS; day >= 1; day--) {
    const dayStart = options.end.getTime() - day * DAY_MS;
    for (let n = 0; n < REQUESTS_PER_AGENT_PER_DAY; n++) {
      for (const agentId of [OPERATING_AGENTS.steady, OPERATING_AGENTS.regressing]) {
        const behaviour = agentId === OPERATING_AGENTS.steady ? STEADY : day <= REGRESSION_DAYS ? CHAT_REGRESSED : CHAT_BEFORE;
        const error = random() < behaviour.errorRate;
        const positive = !error && random() < behaviour.positiveRate;
        const id = `ops-${agentId}-${String(OPERATING_HISTORY_DAYS - day).padStart(2, '0')}-${n}`;
        const question = QUESTIONS[Math.floor(random() * QUESTIONS.length)] as string;
        const trace = {
          trace_id: id,
          // Spread over the day's working hours, so the day partitions look like traffic.
          timestamp: new Date(dayStart + (7 + n * 2) * 3_600_000 + Math.floor(random() * 3_600_000)).toISOString(),
          agent_id: agentId,
          request_id: `req-${id}`,
          model: { family: 'qwen3', name: 'qwen3-4b', version: behaviour.version, variant: 'current' },
          consent: true,
          data_region: region,
          confidentiality: 'internal-only',
          language: 'en',
          input_messages: [
            { role: 'system', content: 'You are a helpful assistant.' },
            { role: 'user', content: question },
          ],
          retrieved_contexts: [],
          output: error ? 'The request failed.' : 'Here is the answer you asked for.',
          tool_calls: [],
          // Most requests get feedback, as a thumbs up or down in the client would give it.
          ...(random() < 0.9 ? { feedback: { outcome: positive ? 'success' : 'user_rejected', quality: positive ? 8 : 3 } } : {}),
          error,
          latency_ms: between(behaviour.latencyMs),
          // No cost: the gate prices the tokens with the stage's operations.modelPrices.
          usage: { input_tokens: between([120, 260]), output_tokens: between(behaviour.outputTokens) },
        };
        records.push({ data: Buffer.from(JSON.stringify(trace)), label: 'operating trace' });
      }
    }
  }
  return records;
}
