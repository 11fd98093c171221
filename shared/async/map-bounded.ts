/**
 * `items` mapped through `each` with at most `width` calls in flight, results
 * in input order. A document of 500 entities read all at once queues 500
 * requests on the SDK's connection pool, and the ones waiting longest fail
 * on its connection timeout although DynamoDB is healthy.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  width: number,
  each: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await each(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
  return results;
}
