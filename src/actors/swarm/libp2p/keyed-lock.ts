/**
 * One critical section at a time per key: `run(key, fn)` starts `fn` only
 * after every earlier `run` of the same key has settled, in arrival order.
 * Runs of different keys do not wait for each other. Bounded: at most
 * `maxKeys` keys busy at once and `maxPerKey` runs queued or running per key;
 * beyond either, `run` fails at once with OverloadedError and `fn` never runs.
 * A key's entry is dropped as soon as its last run settles, so an idle lock
 * holds nothing.
 */
import { OverloadedError } from '../../../messages/errors.js'

export interface KeyedLockLimits {
  /** keys with a run queued or running (default 4 096) */
  maxKeys?: number
  /** runs queued or running for one key, the running one included (default 64) */
  maxPerKey?: number
}

export const DEFAULT_LOCK_KEYS = 4096
export const DEFAULT_LOCK_PER_KEY = 64

interface Entry {
  /** settles when the last run queued on this key has settled */
  tail: Promise<void>
  /** runs queued or running */
  count: number
}

const settled = (): void => {}

export class KeyedLock {
  private readonly entries = new Map<string, Entry>()
  private readonly maxKeys: number
  private readonly maxPerKey: number

  constructor (limits: KeyedLockLimits = {}) {
    this.maxKeys = limits.maxKeys ?? DEFAULT_LOCK_KEYS
    this.maxPerKey = limits.maxPerKey ?? DEFAULT_LOCK_PER_KEY
  }

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key)
    if (entry === undefined) {
      if (this.entries.size >= this.maxKeys) throw new OverloadedError(`keyed lock: ${this.maxKeys} keys busy at once`)
      entry = { tail: Promise.resolve(), count: 0 }
      this.entries.set(key, entry)
    } else if (entry.count >= this.maxPerKey) {
      throw new OverloadedError(`keyed lock: ${this.maxPerKey} runs already queued for one key`)
    }
    entry.count++
    const own = entry.tail.then(fn)
    // the next run waits for this one to settle either way; this run's
    // failure is not lost: it reaches the caller through `own` below
    entry.tail = own.then(settled, settled)
    try {
      return await own
    } finally {
      entry.count--
      if (entry.count === 0 && this.entries.get(key) === entry) this.entries.delete(key)
    }
  }

  /** keys with a run queued or running */
  get busyKeys (): number {
    return this.entries.size
  }
}
