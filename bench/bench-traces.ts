/**
 * Benchmark traffic: native-format traces of a target size that all pass the local gates (consent,
 * US region, English), so every one reaches the PII scan, with personal data in about a third. Half
 * declare no language, as Langfuse and OTLP exports usually do, so the language is read from the text.
 */
import type { FirehoseInputRecord } from '../lambdas/gate-score/firehose-records';
import { seededRandom } from '../local/demo-traces';

const WORDS = 'the refund policy covers annual plans purchased within thirty days and prorates later requests for business accounts across every supported region'.split(' ');
const PII = ['Contact me at jane.doe@example.com.', 'My phone is +1 415 555 0134.', 'Card 4111 1111 1111 1111 was charged twice.', ''];

function words(random: () => number, chars: number): string {
  const out: string[] = [];
  let length = 0;
  while (length < chars) {
    const word = WORDS[Math.floor(random() * WORDS.length)] as string;
    out.push(word);
    length += word.length + 1;
  }
  return out.join(' ');
}

/** `count` Firehose records of about `bytes` bytes each. */
export function benchTraceRecords(count: number, bytes: number): FirehoseInputRecord[] {
  const random = seededRandom(42);
  const records: FirehoseInputRecord[] = [];
  for (let i = 0; i < count; i++) {
    const trace = {
      trace_id: `bench-${i}`,
      timestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, i % 60)).toISOString(),
      agent_id: 'rag-qa-agent',
      request_id: `req-${i}`,
      model: { family: 'qwen3', name: 'qwen3-4b', version: '2026-11-01', variant: i % 10 === 0 ? 'candidate' : 'current' },
      consent: true,
      data_region: 'us-east-1',
      confidentiality: 'internal',
      ...(i % 2 === 0 ? { language: 'en' } : {}),
      input_messages: [{ role: 'user', content: `${PII[i % PII.length]} ${words(random, 200)}?` }],
      retrieved_contexts: [''],
      output: '',
      tool_calls: [],
      error: false,
      latency_ms: 900,
      usage: { input_tokens: 300, output_tokens: 120 },
    };
    // Fill the context and answer so the whole record is about `bytes` long.
    const fill = Math.max(0, bytes - JSON.stringify(trace).length);
    trace.retrieved_contexts = [words(random, Math.floor(fill * 0.6))];
    trace.output = words(random, Math.floor(fill * 0.4) - 2);
    records.push({ recordId: `r${i}`, data: Buffer.from(JSON.stringify(trace)).toString('base64') });
  }
  return records;
}
