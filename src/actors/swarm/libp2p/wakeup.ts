/**
 * Small waiting primitives for the DhtPort: no timers, only events and
 * AbortSignals (the swarm actor owns every deadline).
 */
import { abortError } from '../port-errors.js'

/** A one-slot wake-up: a wake() that comes before wait() is remembered, never lost. */
export class Wakeup {
  private resolve: (() => void) | undefined
  private pending = false

  wait (): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise<void>(resolve => { this.resolve = resolve })
  }

  wake (): void {
    const resolve = this.resolve
    if (resolve === undefined) {
      this.pending = true
      return
    }
    this.resolve = undefined
    resolve()
  }
}

/**
 * Settles with the promise, or rejects with an AbortError as soon as the
 * signal fires (the promise is then left to settle by itself, its outcome
 * ignored).
 */
export function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // the abort is the answer; the work's own outcome is not wanted, and must not become an unhandled rejection
    // eslint-disable-next-line no-restricted-syntax -- deliberately ignored, see above
    promise.catch(() => {})
    return Promise.reject(abortError(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(abortError(signal)) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(value => {
      signal.removeEventListener('abort', onAbort)
      resolve(value)
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    })
  })
}
