/**
 * The findprovs / findpeer streams of several sources (the DHT, the HTTP
 * routers) as one: items as they come, each peer id once (the first source
 * to name it wins), up to a limit.
 */

/** a peer one source named */
export interface Found { peerId: string, multiaddrs: string[], from: string }

/** Items of several streams as they come, each peer id once (the first source wins); ends when all have ended. A source that fails ends; all failing is the first failure. */
export async function * merged (sources: Array<{ from: string, items: AsyncIterable<{ peerId: string, multiaddrs: string[], endpoint?: string }> }>, limit: number): AsyncGenerator<Found> {
  const seen = new Set<string>()
  const queue: Array<Found | { end: true, error?: unknown }> = []
  let wake: (() => void) | undefined
  const push = (x: Found | { end: true, error?: unknown }): void => { queue.push(x); wake?.() }
  const pumps = sources.map(async s => {
    try {
      for await (const item of s.items) {
        if (seen.size >= limit) break
        push({ peerId: item.peerId, multiaddrs: item.multiaddrs, from: item.endpoint ?? s.from })
      }
      push({ end: true })
    } catch (error) {
      push({ end: true, error })
    }
  })
  let ended = 0
  const errors: unknown[] = []
  try {
    while (ended < sources.length && seen.size < limit) {
      const next = queue.shift()
      if (next === undefined) {
        await new Promise<void>(resolve => { wake = resolve })
        wake = undefined
        continue
      }
      if ('end' in next) {
        ended++
        if (next.error !== undefined) errors.push(next.error)
        continue
      }
      if (seen.has(next.peerId)) continue
      seen.add(next.peerId)
      yield next
    }
    if (errors.length === sources.length && errors.length > 0) throw errors[0]
  } finally {
    // the streams' own deadlines end any still running; their results are not needed
    void Promise.allSettled(pumps)
  }
}

