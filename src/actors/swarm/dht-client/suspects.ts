/**
 * Suspect peers: peers our DHT requests could not get an answer from. A
 * lookup asks a suspect too, but on the side: its request holds none of the
 * lookup's slots and the lookup never waits for it (value-lookup.ts); its
 * answer, if one comes while the lookup runs, counts like any other (a
 * suspect that answers is in closest-peer results like any peer, and stops
 * being a suspect).
 *
 * A peer becomes a suspect on a strike (kad-walk.ts, kad-stream-pool.ts):
 * - a request written on an open stream stalled (no answer for the stall
 *   time) and was still unanswered when its lookup ended — one slow answer
 *   that comes late, before the end, is not a strike;
 * - opening a stream to it failed (a dial refused, reset, or over the open
 *   limit). A slow dial is not a strike: only a failed one.
 *
 * It stays a suspect for 30 s after the first strike; each strike while a
 * suspect, or within that many ms after the suspicion ended, doubles the
 * time, up to 8 min. An answer from it ends the suspicion at once (the
 * doubling is remembered until the entry expires). All on the injected
 * clock.
 *
 * Bounded: at most `max` entries (1,024); when full, the entry that expires
 * first is dropped. An entry expires (is forgotten) at the end of its
 * suspicion plus its backoff.
 */

export const SUSPECTS = { baseMs: 30_000, maxMs: 8 * 60_000, max: 1_024 }

export interface SuspectStats {
  /** peers suspect now */
  suspects: number
  /** times a peer was made suspect (strikes), since start */
  suspected: number
}

interface Entry {
  /** suspect until then */
  until: number
  /** the length of the last suspicion */
  backoffMs: number
}

export class SuspectTable {
  private readonly entries = new Map<string, Entry>()
  private strikes = 0

  constructor (
    private readonly now: () => number,
    private readonly limits: { baseMs: number, maxMs: number, max: number } = SUSPECTS
  ) {}

  /** the peer failed us: suspect from now, for longer if it was one lately */
  strike (peer: string): void {
    const now = this.now()
    const e = this.entries.get(peer)
    const recent = e !== undefined && now < e.until + e.backoffMs
    const backoffMs = recent ? Math.min(this.limits.maxMs, e.backoffMs * 2) : this.limits.baseMs
    this.strikes++
    this.entries.delete(peer)
    if (this.entries.size >= this.limits.max) this.evict(now)
    this.entries.set(peer, { until: now + backoffMs, backoffMs })
  }

  /** the peer answered: no longer a suspect (its backoff is remembered until the entry expires) */
  answered (peer: string): void {
    const e = this.entries.get(peer)
    if (e === undefined) return
    const now = this.now()
    if (e.until > now) e.until = now
  }

  isSuspect (peer: string): boolean {
    const e = this.entries.get(peer)
    if (e === undefined) return false
    const now = this.now()
    if (now >= e.until + e.backoffMs) {
      this.entries.delete(peer)
      return false
    }
    return now < e.until
  }

  /** how long the peer stays a suspect from now (0: not one) */
  remainingMs (peer: string): number {
    return this.isSuspect(peer) ? (this.entries.get(peer) as Entry).until - this.now() : 0
  }

  stats (): SuspectStats {
    const now = this.now()
    let suspects = 0
    for (const e of this.entries.values()) if (now < e.until) suspects++
    return { suspects, suspected: this.strikes }
  }

  /** entries held (suspect now or remembered), for tests */
  get size (): number {
    return this.entries.size
  }

  /** drops expired entries; if none expired, the one that expires first */
  private evict (now: number): void {
    let first: string | undefined
    let firstAt = Infinity
    for (const [peer, e] of this.entries) {
      const expires = e.until + e.backoffMs
      if (expires <= now) this.entries.delete(peer)
      else if (expires < firstAt) { first = peer; firstAt = expires }
    }
    if (this.entries.size >= this.limits.max && first !== undefined) this.entries.delete(first)
  }
}
