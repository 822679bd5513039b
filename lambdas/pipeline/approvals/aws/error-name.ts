/**
 * The name of an AWS SDK error (its exception class, e.g. `ConditionalCheckFailedException`), read
 * without `instanceof`: a second copy of an SDK package, or a test's mocked error, is a different
 * class with the same name.
 */
export function errorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}
