/**
 * Deterministic demo traffic for local mode: realistic RAG traces in the native format with personal
 * data in the text, a mix of consent, regions, confidentiality and languages so every gate has work,
 * two serving variants (the candidate answers less faithfully), feedback on some traces, and a few
 * malformed and duplicate records. Session ids are what messaging channels send (a WhatsApp number
 * for some), so the local lake shows them pseudonymised. Seeded, so every run produces the same batch.
 */
import type { DataBoundary } from '../config/boundaries';
import { BOUNDARY_REGIONS } from '../config/boundaries';

/** mulberry32: a tiny seeded PRNG; good enough to vary demo data reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fact {
  readonly question: string;
  readonly context: string;
  readonly answer: string;
  readonly hallucination: string;
}

const FACTS: readonly Fact[] = [
  {
    question: 'What is the refund window for annual plans?',
    context: 'Annual plans can be refunded in full within 30 days of purchase. After 30 days refunds are prorated.',
    answer: 'Annual plans can be refunded in full within 30 days of purchase. After that, refunds are prorated.',
    hallucination: 'Annual plans are never refundable. Contact your bank to dispute the charge.',
  },
  {
    question: 'How do I rotate my API key?',
    context: 'API keys are rotated from the Settings page under Security. A rotated key stays valid for 24 hours.',
    answer: 'Rotate API keys from the Settings page under Security. The old key stays valid for 24 hours.',
    hallucination: 'Email the support team and they will mail you a new key within six weeks.',
  },
  {
    question: 'Which regions store my data?',
    context: 'Customer data is stored in the region selected at signup. Backups stay within the same data boundary.',
    answer: 'Your data is stored in the region you selected at signup, and backups stay within the same data boundary.',
    hallucination: 'Data is replicated to every continent for speed, including Antarctica.',
  },
  {
    question: 'What is the maximum upload size?',
    context: 'Uploads are limited to 5 GB per file. Larger files must use the multipart upload API.',
    answer: 'Each upload is limited to 5 GB per file; use the multipart upload API for larger files.',
    hallucination: 'There is no upload limit at all, any size works instantly.',
  },
];

const PERSONAL_DATA = [
  'My name is Jane Doe and my email is jane.doe@example.com.',
  'Call me back on +1 415 555 0134 please.',
  'I paid with card 4111 1111 1111 1111 last week.',
  'My SSN is 536-22-1234 if you need it.',
  '',
  '',
];

const KOREAN = {
  question: '연간 요금제 환불 기간은 얼마인가요? 제 전화번호는 010-1234-5678 입니다.',
  context: '연간 요금제는 구매 후 30일 이내에 전액 환불됩니다.',
  answer: '연간 요금제는 구매 후 30일 이내에 전액 환불됩니다.',
};

export interface DemoOptions {
  readonly count: number;
  readonly boundary: DataBoundary;
  readonly seed?: number;
  readonly start?: Date;
}

/** The cascade router's tiers in the demo traffic, cheapest first (the dev stage's support-router). */
export const DEMO_ROUTE_TIERS = ['small', 'medium', 'large'] as const;
type DemoTier = (typeof DEMO_ROUTE_TIERS)[number];

/**
 * The tier a demo request needs: a learnable routing signal for the router classifier. Code review, and
 * a data-residency or upload question that needs a tool call (several steps), need the large tier; those
 * questions without a tool call, any other question with one, or a non-English one, the medium tier; a
 * plain FAQ question (refunds, API keys) the small one.
 */
export function neededTier(agentId: string, factIndex: number, toolCalls: number, language: string): DemoTier {
  const involved = factIndex >= 2;
  if (agentId === 'code-reviewer' || (involved && toolCalls > 0)) return 'large';
  if (involved || toolCalls > 0 || language !== 'en') return 'medium';
  return 'small';
}

/**
 * The tier the serving router chose, drawn from `roll` (0..1): right three times in four, else one
 * of the others. Not a second draw from the generator, so the rest of the batch is what it was before the
 * routing signal existed.
 */
function servedTier(needed: DemoTier, roll: number): DemoTier {
  const index = DEMO_ROUTE_TIERS.indexOf(needed);
  if (roll < 0.75) return needed;
  const others = DEMO_ROUTE_TIERS.filter((_, i) => i !== index);
  return others[roll < 0.875 ? 0 : 1] as DemoTier;
}

/** A demo record: its JSON text (or raw bytes for the broken ones) as a producer would PUT it. */
export interface DemoRecord {
  readonly data: Buffer;
  readonly label: string;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function otherBoundaryRegion(boundary: DataBoundary): string {
  return boundary === 'EU' ? 'ap-northeast-2' : 'eu-central-1';
}

/** Generates the demo batch: `count` traces plus malformed and duplicate records. */
export function generateDemoRecords(options: DemoOptions): DemoRecord[] {
  const random = seededRandom(options.seed ?? 7);
  const start = options.start ?? new Date('2026-11-20T09:00:00.000Z');
  const homeRegion = BOUNDARY_REGIONS[options.boundary][0] as string;
  const records: DemoRecord[] = [];

  for (let i = 0; i < options.count; i++) {
    const variant = random() < 0.3 ? 'candidate' : 'current';
    const factIndex = Math.floor(random() * FACTS.length);
    const fact = FACTS[factIndex] as Fact;
    const r = random();
    const language = r < 0.8 ? 'en' : r < 0.9 ? 'es' : r < 0.97 ? 'ko' : 'de';
    const korean = language === 'ko';
    const drawnFaithful = variant === 'current' ? random() < 0.95 : random() < 0.85;
    const consentRoll = random();
    const regionRoll = random();
    // Drawn in the order the trace's fields were always drawn, so the batch is the same as before the
    // routing signal existed except for what the signal changes.
    const agentId = pick(random, ['rag-qa-agent', 'rag-qa-agent', 'rag-qa-agent', 'code-reviewer', 'support-bot']);
    const confidentiality = pick(random, ['public', 'internal', 'internal', 'customer-confidential', 'internal-only', 'restricted'] as const);
    const userContent = korean ? KOREAN.question : `${pick(random, PERSONAL_DATA)} ${fact.question}`.trim();
    const toolCalls =
      random() < 0.3
        ? [{ name: 'kb_search', arguments: JSON.stringify({ q: fact.question }), result: 'ok', status: random() < 0.85 ? 'ok' : 'error' }]
        : [];
    // The routing decision: served on a tier below what the request needs, the answer misses (the judge
    // flags it as misrouted); on a tier above, it is fine but wasted money (misrouted too).
    const needed = neededTier(agentId, factIndex, toolCalls.length, language);
    const routeRoll = ((i * 0.6180339887) % 1 + ((i * 7) % 13) / 13) % 1;
    const served = servedTier(needed, routeRoll);
    const underRouted = DEMO_ROUTE_TIERS.indexOf(served) < DEMO_ROUTE_TIERS.indexOf(needed);
    const faithful = drawnFaithful && !underRouted;
    const trace = {
      trace_id: `demo-${String(i).padStart(5, '0')}`,
      timestamp: new Date(start.getTime() + i * 7_000).toISOString(),
      // Most traffic is the RAG agent's, so it alone meets the per-agent eligibility rule in a demo run.
      agent_id: agentId,
      request_id: `req-demo-${i}`,
      // Not drawn from `random`, so the rest of the batch is the same as without session ids.
      session_id: i % 3 === 0 ? `whatsapp:+1415555${String(1000 + Math.floor(i / 3) % 100)}` : `web-session-${Math.floor(i / 4)}`,
      // The end user (an e-mail address, as producers often send): 40 people, so `sial erase --subject
      // demo-user-7@example.com` has rows to erase. Not drawn from `random` either.
      user_id: `demo-user-${i % 40}@example.com`,
      model: {
        family: 'qwen3',
        name: 'qwen3-4b',
        version: variant === 'current' ? '2026-11-01' : '2026-11-15',
        variant,
      },
      ...(consentRoll < 0.05 ? {} : { consent: consentRoll < 0.9 }),
      ...(regionRoll < 0.03 ? {} : { data_region: regionRoll < 0.9 ? homeRegion : regionRoll < 0.97 ? otherBoundaryRegion(options.boundary) : 'xx-unknown-1' }),
      confidentiality,
      language,
      input_messages: [
        { role: 'system', content: 'You answer product questions using only the retrieved context.' },
        { role: 'user', content: userContent },
      ],
      retrieved_contexts: [korean ? KOREAN.context : fact.context],
      output: korean ? KOREAN.answer : faithful ? fact.answer : fact.hallucination,
      tool_calls: toolCalls,
      ...(random() < 0.4 ? { feedback: { outcome: faithful ? 'success' : 'user_rejected', quality: faithful ? 8 : 2 } } : {}),
      error: random() < 0.03,
      latency_ms: Math.round(300 + random() * 4000),
      usage: { input_tokens: 200 + Math.round(random() * 300), output_tokens: 40 + Math.round(random() * 120) },
      // A judge flags most wrong tiers; the draw (always made, so the sequence stays) keeps a few unflagged.
      route: { tier: served, misrouted: random() < 0.9 && served !== needed },
    };
    records.push({ data: Buffer.from(JSON.stringify(trace)), label: 'trace' });
  }

  // Hostile and broken input, to show it is counted and explained without losing its neighbours.
  records.push({ data: Buffer.from('{"trace_id": "broken-1", "output": '), label: 'broken JSON' });
  records.push({ data: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), label: 'invalid UTF-8' });
  records.push({ data: Buffer.from(JSON.stringify({ trace_id: 'bad-types', timestamp: 12, agent_id: [] })), label: 'wrong types' });
  const first = records[0];
  if (first !== undefined) records.push({ data: first.data, label: 'duplicate of the first trace' });
  return records;
}
