/**
 * A bounded LRU whose entries expire at a time the caller gives, on the
 * caller's clock (the actor's injected clock, so replay sees the same hits).
 * A Map keeps insertion order: a hit moves the entry to the end, and the
 * first entry is the least recently used.
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V, expiresAt: number }>()

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('capacity must be a non-negative integer')
  }

  get size (): number {
    return this.entries.size
  }

  /** the value and its expiry time, if present and not expired at `now` (an expired entry is dropped) */
  get (key: string, now: number): { value: V, expiresAt: number } | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    this.entries.delete(key)
    if (now >= e.expiresAt) return undefined
    this.entries.set(key, e)
    return e
  }

  set (key: string, value: V, expiresAt: number): void {
    this.entries.delete(key)
    if (this.capacity === 0) return
    this.entries.set(key, { value, expiresAt })
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next()
      if (oldest.done === true) break
      this.entries.delete(oldest.value)
    }
  }

  delete (key: string): void {
    this.entries.delete(key)
  }
}
