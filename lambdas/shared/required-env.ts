/**
 * Reading a function's environment. Its own module, free of schemas: every handler reads its settings
 * this way, and a handler must not bundle the pipeline's settings schema (and the stage schema behind it)
 * only to read one variable.
 */

/** The value of an environment variable the construct always sets. @throws Error naming the variable when it is missing or empty. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: the construct passes it`);
  return value;
}
