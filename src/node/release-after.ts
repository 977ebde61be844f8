/** createNode's cleanup of a failed start. */
/**
 * Runs each cleanup of a failed start in order. The start's error is what the
 * caller gets; if a cleanup fails too, that is not dropped: the caller gets an
 * AggregateError of the start's error (first) and each cleanup's.
 */
export async function releaseAfter (err: unknown, steps: Array<(() => Promise<void>) | undefined>): Promise<unknown> {
  const failed: unknown[] = []
  for (const step of steps) {
    try {
      await step?.()
    } catch (e) {
      failed.push(e)
    }
  }
  if (failed.length === 0) return err
  const first = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return new AggregateError([err, ...failed], `createNode: ${first.slice(0, 500)}; and ${failed.length} cleanup step(s) failed after it`, { cause: err })
}
