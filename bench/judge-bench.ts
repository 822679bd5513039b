/**
 * `npm run bench -- judge`: judged traces per second and tokens per trace against a local
 * OpenAI-compatible endpoint (node:http on 127.0.0.1, answering with the SIMULATED judge after a
 * configurable latency per request), through the real OpenAI-compatible adapter and the real judging
 * code, two ways side by side:
 *   one at a time   one trace after another, one request after another (the naive loop);
 *   shipped         `maxConcurrency` traces at once, each with its faithfulness, relevance and misroute
 *                   requests in flight together (what a vLLM or SGLang server batches on the GPU).
 * The endpoint answers every request after the same latency however many are in flight, like a server
 * with spare batch capacity: the figure shows what concurrency buys, not a GPU's limit.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OpenAiCompatibleJudge } from '../lambdas/judge/adapters/openai-compatible-judge';
import { judgeBatch } from '../lambdas/judge/judge-batch';
import { judgePolicySchema } from '../lambdas/judge/judge-policy';
import type { JudgeInput } from '../lambdas/judge/judge-trace';
import { SimulatedJudgeModel } from '../local/simulated-judge';

const policy = judgePolicySchema.parse(JSON.parse(readFileSync(join(__dirname, '..', 'config', 'judge-prompts', 'ragas-style-v1.json'), 'utf8')));

function benchInputs(count: number): JudgeInput[] {
  return Array.from({ length: count }, (_, i) => ({
    traceId: `bench-${i}`,
    question: `How long do refunds take for annual plan ${i}?`,
    answer: 'Refunds for annual plans are accepted within thirty days. Later requests are prorated. Business accounts follow the same policy.',
    contexts: ['Refunds for annual plans are accepted within thirty days of purchase.', 'Requests after thirty days are prorated for business accounts.'],
    routeTier: i % 2 === 0 ? 'small' : 'large',
  }));
}

/** A chat-completions endpoint backed by the simulated judge, answering after `latencyMs`. */
async function startEndpoint(latencyMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const simulated = new SimulatedJudgeModel(policy);
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string; messages: Array<{ content: string }>; temperature: number; max_tokens: number };
      setTimeout(() => {
        void simulated
          .complete({ model: body.model, system: body.messages[0]?.content ?? '', user: body.messages[1]?.content ?? '', temperature: body.temperature, maxOutputTokens: body.max_tokens })
          .then((completion) => {
            response.setHeader('content-type', 'application/json');
            response.end(
              JSON.stringify({
                choices: [{ index: 0, message: { role: 'assistant', content: completion.text }, finish_reason: 'stop' }],
                usage: { prompt_tokens: completion.inputTokens, completion_tokens: completion.outputTokens },
              }),
            );
          });
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function runJudgeBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { 'latency-ms': { type: 'string', default: '200' }, traces: { type: 'string', default: '40' }, concurrency: { type: 'string', default: '8' } },
  });
  const latencyMs = Number(values['latency-ms']);
  const traces = Number(values.traces);
  const concurrency = Number(values.concurrency);
  const endpoint = await startEndpoint(latencyMs);
  console.log(`Judge benchmark: ${traces} traces against a local OpenAI-compatible endpoint answering with the SIMULATED judge after ${latencyMs} ms per request\n`);
  try {
    const model = new OpenAiCompatibleJudge({ baseUrl: endpoint.url });
    const rows: Array<{ label: string; perSecond: number }> = [];
    for (const [label, maxConcurrency] of [
      ['one at a time', 1],
      [`shipped (${concurrency} traces at once)`, concurrency],
    ] as const) {
      const started = performance.now();
      const result = await judgeBatch(benchInputs(traces), {
        model,
        policy,
        routeTiers: ['small', 'large'],
        controls: { samplingRate: 1, maxTracesPerDay: traces, maxTokensPerDay: Number.MAX_SAFE_INTEGER, maxConcurrency },
        usedToday: { traces: 0, tokens: 0 },
        sampleSalt: 'bench',
        // The naive loop also sends its three dimensions one after another.
        ...(maxConcurrency === 1 ? { sequentialDimensions: true } : {}),
      });
      const seconds = (performance.now() - started) / 1000;
      const judged = result.judgments.length;
      const tokens = result.judgments.reduce((sum, j) => sum + j.inputTokens + j.outputTokens, 0);
      const calls = result.judgments.reduce((sum, j) => sum + j.calls, 0);
      rows.push({ label, perSecond: judged / seconds });
      console.log(`   ${label.padEnd(30)} ${(judged / seconds).toFixed(2).padStart(7)} judged traces/s  ${(tokens / judged).toFixed(0).padStart(5)} tokens/trace  ${(calls / judged).toFixed(1)} calls/trace  (${seconds.toFixed(1)} s)`);
    }
    const [naive, shipped] = rows;
    if (naive !== undefined && shipped !== undefined) console.log(`   shipped / one at a time: ${(shipped.perSecond / naive.perSecond).toFixed(1)}x the throughput`);
  } finally {
    await endpoint.close();
  }
}
