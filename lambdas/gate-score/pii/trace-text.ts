/**
 * The free-text fields of a trace that may hold personal data, as one flat list, and the inverse that
 * writes (masked) texts back. Every field that reaches the lake as text is in the list; identifiers,
 * model names and numbers are not free text and are validated by the trace schema instead.
 *
 * Order (a contract between the two functions): every `input_messages[].content`, every
 * `retrieved_contexts[]`, `output`, then for each tool call its `arguments` and, when present, its
 * `result`.
 */
import type { Trace } from '../trace';

/** The trace's free-text fields in the documented order. */
export function traceTexts(trace: Trace): string[] {
  const texts: string[] = [];
  for (const message of trace.input_messages) texts.push(message.content);
  for (const context of trace.retrieved_contexts) texts.push(context);
  texts.push(trace.output);
  for (const call of trace.tool_calls) {
    texts.push(call.arguments);
    if (call.result !== undefined) texts.push(call.result);
  }
  return texts;
}

/**
 * A copy of the trace with its free-text fields replaced by `texts` (same order and count as
 * `traceTexts`). The input trace is not modified.
 *
 * @throws Error when the number of texts does not match the trace's fields: writing texts to the
 *   wrong fields would leak or corrupt data, so the caller must fail closed.
 */
export function withTraceTexts(trace: Trace, texts: readonly string[]): Trace {
  let k = 0;
  const next = (): string => {
    const text = texts[k];
    if (text === undefined) throw new Error(`withTraceTexts: ${texts.length} texts for a trace with more text fields`);
    k += 1;
    return text;
  };
  const input_messages = trace.input_messages.map((m) => ({ ...m, content: next() }));
  const retrieved_contexts = trace.retrieved_contexts.map(() => next());
  const output = next();
  const tool_calls = trace.tool_calls.map((call) => {
    const args = next();
    return call.result === undefined ? { ...call, arguments: args } : { ...call, arguments: args, result: next() };
  });
  if (k !== texts.length) throw new Error(`withTraceTexts: ${texts.length} texts for a trace with ${k} text fields`);
  return { ...trace, input_messages, retrieved_contexts, output, tool_calls };
}
