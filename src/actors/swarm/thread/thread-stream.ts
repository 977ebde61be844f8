/**
 * The host's end of one streamed op (get, findProviders, closestPeers) of the
 * network thread: an AsyncIterator over items the worker pushes on credit.
 * At most `window` items wait here (the worker sends one per credit); credit
 * goes back in batches of half the window as the consumer takes items. The
 * caller's signal firing ends the iteration at once with PortAbortError
 * (buffered items dropped) and cancels the worker's query, as leaving the
 * loop early (`return`) does. An error is reported exactly once, then the
 * stream is done; once ended or closed nothing arriving changes it.
 */
import { abortError, type DhtPortError, PortFailedError } from '../port-errors.js'

export interface StreamLink {
  /** grant the worker n more items */
  credit(n: number): void
  /** stop the worker's query; no more messages for this stream */
  cancel(): void
}


export class ThreadStream<T> implements AsyncIterator<T> {
  private readonly buffer: T[] = []
  private state: 'open' | 'ended' | 'failed' | 'closed' = 'open'
  private error: DhtPortError | undefined
  private waiter: { resolve: (r: IteratorResult<T>) => void, reject: (err: unknown) => void } | undefined
  private taken = 0
  private readonly onAbort: () => void

  constructor (private readonly window: number, private readonly signal: AbortSignal, private readonly link: StreamLink) {
    this.onAbort = () => {
      if (this.state !== 'open') return
      this.link.cancel()
      this.fail(abortError(signal))
    }
    signal.addEventListener('abort', this.onAbort, { once: true })
  }

  /** an item from the worker */
  push (item: T): void {
    if (this.state !== 'open') return
    if (this.buffer.length >= this.window) {
      // the worker sent past its credit: a broken protocol, not a value to keep
      this.link.cancel()
      this.fail(new PortFailedError(`the network thread sent more than ${this.window} items ahead of the reader`))
      return
    }
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      this.took()
      w.resolve({ value: item, done: false })
      return
    }
    this.buffer.push(item)
  }

  end (): void {
    if (this.state !== 'open') return
    this.state = 'ended'
    this.signal.removeEventListener('abort', this.onAbort)
    const w = this.waiter
    if (w !== undefined && this.buffer.length === 0) {
      this.waiter = undefined
      w.resolve({ value: undefined, done: true })
    }
  }

  /**
   * The worker's error, the signal's abort or a protocol failure: reported
   * once (to the waiting reader, or else to the next read), then the stream
   * is done. Only an open stream can fail: an ended one keeps its items, and
   * a second error (the worker's answer to a cancelled call, say) is dropped.
   */
  fail (err: DhtPortError): void {
    if (this.state !== 'open') return
    this.buffer.length = 0
    this.signal.removeEventListener('abort', this.onAbort)
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      this.state = 'closed'
      w.reject(err)
      return
    }
    this.state = 'failed'
    this.error = err
  }

  private took (): void {
    if (this.state !== 'open') return
    if (++this.taken >= Math.max(1, this.window >> 1)) {
      this.link.credit(this.taken)
      this.taken = 0
    }
  }

  async next (): Promise<IteratorResult<T>> {
    if (this.state === 'failed') {
      // the error once, then done
      const err = this.error
      this.error = undefined
      this.state = 'closed'
      throw err
    }
    const item = this.buffer.shift()
    if (item !== undefined) {
      this.took()
      return { value: item, done: false }
    }
    if (this.state !== 'open') return { value: undefined, done: true }
    if (this.waiter !== undefined) throw new PortFailedError('a thread stream was read by two readers at once')
    return await new Promise<IteratorResult<T>>((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  async return (): Promise<IteratorResult<T>> {
    if (this.state === 'open') this.link.cancel()
    this.state = 'closed'
    this.error = undefined
    this.buffer.length = 0
    this.signal.removeEventListener('abort', this.onAbort)
    const w = this.waiter
    this.waiter = undefined
    w?.resolve({ value: undefined, done: true })
    return { value: undefined, done: true }
  }
}
