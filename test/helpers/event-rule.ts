/**
 * Just enough of EventBridge to run a synthesized rule against sample events in a test: matching an
 * event pattern made of literal lists (the only form the project's rules use), and applying a target's
 * InputTransformer. Anything else in a pattern fails the test rather than matching by accident.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Whether `event` matches `pattern` (keys as in the template: `source`, `detail-type`, `detail`, ...). */
export function matchesEventPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    const actual = event[key];
    if (Array.isArray(expected)) {
      for (const value of expected) if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`matchesEventPattern: ${key} holds ${JSON.stringify(value)}; only literal lists are supported`);
      return expected.includes(actual as string | number);
    }
    if (typeof expected === 'object' && expected !== null) {
      return typeof actual === 'object' && actual !== null && !Array.isArray(actual) && matchesEventPattern(expected as Record<string, unknown>, actual as Record<string, unknown>);
    }
    throw new Error(`matchesEventPattern: ${key} is ${JSON.stringify(expected)}; expected a list or an object`);
  });
}

function atPath(event: Record<string, unknown>, jsonPath: string): Json | undefined {
  if (!jsonPath.startsWith('$.')) throw new Error(`applyInputTransformer: ${jsonPath} is not a $. path`);
  let value: unknown = event;
  for (const part of jsonPath.slice(2).split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value as Json | undefined;
}

/** The target input EventBridge builds from `event` (InputPathsMap values spliced into InputTemplate). */
export function applyInputTransformer(transformer: { InputPathsMap: Record<string, string>; InputTemplate: string }, event: Record<string, unknown>): unknown {
  const text = transformer.InputTemplate.replace(/<([A-Za-z0-9_-]+)>/g, (_, name: string) => {
    const jsonPath = transformer.InputPathsMap[name];
    if (jsonPath === undefined) throw new Error(`applyInputTransformer: <${name}> is not in InputPathsMap`);
    const value = atPath(event, jsonPath);
    return value === undefined ? 'null' : JSON.stringify(value);
  });
  return JSON.parse(text) as unknown;
}
