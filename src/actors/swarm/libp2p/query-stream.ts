/**
 * Drives one kad-dht query and turns it into a bounded, abortable stream.
 *
 * Values can reach the stream two ways: from the query's own event iterator
 * (`onEvent`), or pushed from a side channel such as kad-dht's onProgress
 * callback (that is how `get` sees each VALUE the moment a peer returns it,
 * while kad-dht's iterator holds VALUE events back until the query ends).
 *
 * Guarantees:
 * - the caller's signal, and an internal one fired when the stream ends
 *   early, are both passed into libp2p (`QueryContext.signal`);
 * - an abort ends the stream at once with an AbortError, without waiting for
 *   libp2p to notice (the pending libp2p step is left to unwind by itself);
 * - at most `maxResults` values are ever produced, then the query is stopped
 *   (maxResults 0: the query runs to its end and produces nothing).
 */
import { abortError, toPortError } from '../port-errors.js'
import { Wakeup } from './wakeup.js'

export interface QueryContext<V> {
  /** The caller's signal, also fired when the stream ends early. Pass it to libp2p. */
  signal: AbortSignal
  /** Offer a value to the stream. Ignored once maxResults were accepted. */
  push: (value: V) => void
  /** False once the stream has ended: late progress events should be dropped. */
  isOpen: () => boolean
}

export interface QueryStreamInit<E, V> {
  signal: AbortSignal
  maxResults: number
  start: (ctx: QueryContext<V>) => AsyncIterable<E>
  onEvent?: (event: E, ctx: QueryContext<V>) => void
}

export async function * queryStream<E, V> (init: QueryStreamInit<E, V>): AsyncGenerator<V, void, undefined> {
  const { signal, maxResults } = init
  if (signal.aborted) {
    throw abortError(signal)
  }
  const controller = new AbortController()
  const wake = new Wakeup()
  const queue: V[] = []
  let accepted = 0
  let open = true
  const ctx: QueryContext<V> = {
    signal: AbortSignal.any([signal, controller.signal]),
    push: (value) => {
      if (!open || accepted >= maxResults) return
      accepted++
      queue.push(value)
      wake.wake()
    },
    isOpen: () => open
  }
  const onAbort = (): void => { wake.wake() }
  signal.addEventListener('abort', onAbort, { once: true })

  let iterator: AsyncIterator<E> | undefined
  let inFlight = false
  let sourceDone = false
  let failure: { error: unknown } | undefined
  try {
    iterator = init.start(ctx)[Symbol.asyncIterator]()
    const it = iterator
    while (true) {
      while (queue.length > 0) {
        if (signal.aborted) throw abortError(signal)
        yield queue.shift() as V
      }
      if (signal.aborted) throw abortError(signal)
      if (maxResults > 0 && accepted >= maxResults) return
      if (failure !== undefined) throw toPortError(failure.error, signal)
      if (sourceDone) return
      if (!inFlight) {
        inFlight = true
        it.next().then(result => {
          inFlight = false
          if (result.done === true) {
            sourceDone = true
          } else if (open) {
            init.onEvent?.(result.value, ctx)
          }
          wake.wake()
        }).catch((error: unknown) => {
          inFlight = false
          failure ??= { error }
          wake.wake()
        })
      }
      await wake.wait()
    }
  } catch (err) {
    // already-converted errors pass through unchanged
    throw toPortError(err, signal)
  } finally {
    open = false
    signal.removeEventListener('abort', onAbort)
    if (!sourceDone) {
      controller.abort()
      // If a step is still pending, return() queues behind it; either way the
      // aborted signal makes libp2p unwind and the result is not awaited. The
      // stream has ended with its own outcome already: a failure of libp2p's
      // unwinding (an aborted query rejecting) has no one left to tell.
      // eslint-disable-next-line no-restricted-syntax -- deliberately ignored, see above
      iterator?.return?.().catch(() => {})
    }
  }
}

/** Runs a query to its end for its side effects (put, provide). */
export async function drainQuery<E> (init: Omit<QueryStreamInit<E, never>, 'maxResults'>): Promise<void> {
  for await (const _ of queryStream<E, never>({ ...init, maxResults: 0 })) {
    // nothing is ever pushed
  }
}
