/**
 * Which peers are stalled: they have our requests (GET_VALUE, FIND_NODE)
 * written on open streams and have answered none of them for a while. The
 * lookups use it to stop waiting on such a peer (kad-walk.ts, `routeAround`;
 * route-around.ts reports to it). A request counts from the moment it is
 * written: the dial and the stream's negotiation before it (several round
 * trips on a slow link) have their own, longer limit.
 *
 * Why per peer and not per request: under a burst every answer is slow
 * (requests queue at both ends), so a request's age says little; but a peer
 * that is only busy keeps answering something, while a frozen or badly slowed
 * one answers nothing. A peer counts as making progress when a request to it
 * is written with none open, and whenever it answers one.
 *
 * How long "a while" is follows how fast peers answer here: four times the
 * median time (write to answer: one round trip, no dial) of the last 64
 * answers, within 200 ms … 2 s. On loopback that is the 200 ms floor when
 * idle; with 30 ms links (60 ms round trips) about 250–300 ms; under a burst,
 * when answers queue, it grows toward 2 s; across the internet it follows
 * the round trips. Before any answer it is 750 ms; with 1 to 7 answers, four
 * times the slowest of them, within 200 … 750 ms: the first answers of a
 * node's first lookup already tell it how far its peers are, so that lookup
 * (which reads the stall time afresh at every check, kad-walk.ts) need not
 * wait 750 ms on a frozen peer, while the slowest answer seen keeps a slow
 * link from being taken for a stalled one.
 *
 * Bounded: an entry exists only while the peer has requests open (the gate
 * bounds those), and is dropped with the last one; 64 answer times.
 */
import type { PeerId } from '@libp2p/interface'

export const STALL = { initialMs: 750, minMs: 200, maxMs: 2_000, factor: 4, samples: 64, minSamples: 8 }

interface Entry { open: number, progressAt: number }

export class PeerLiveness {
  private readonly peers = new Map<string, Entry>()
  private readonly times: number[] = []
  private nextTime = 0
  /** stallMs(), computed when an answer time comes in */
  private stall: number = STALL.initialMs

  constructor (private readonly now: () => number) {}

  /** a request to peer is written on an open stream */
  opened (peer: PeerId): void {
    const key = peer.toString()
    const e = this.peers.get(key)
    if (e === undefined) this.peers.set(key, { open: 1, progressAt: this.now() })
    else e.open++
  }

  /** a request to peer ended: answered after `ms` (progress), or not (ms undefined) */
  closed (peer: PeerId, ms: number | undefined): void {
    const key = peer.toString()
    const e = this.peers.get(key)
    if (e === undefined) return
    if (ms !== undefined) {
      e.progressAt = this.now()
      if (ms >= 0) {
        this.times[this.nextTime] = ms
        this.nextTime = (this.nextTime + 1) % STALL.samples
        this.stall = this.computeStall()
      }
    }
    if (--e.open <= 0) this.peers.delete(key)
  }

  /** how long a peer with requests open may answer nothing before it counts as stalled */
  stallMs (): number {
    return this.stall
  }

  private computeStall (): number {
    const n = this.times.length
    if (n === 0) return STALL.initialMs
    // too few answers for a median: the slowest of them, and never longer than before any answer
    if (n < STALL.minSamples) return Math.min(STALL.initialMs, Math.max(STALL.minMs, STALL.factor * Math.max(...this.times)))
    const sorted = [...this.times].sort((a, b) => a - b)
    const median = sorted[Math.floor(n / 2)] as number
    return Math.min(STALL.maxMs, Math.max(STALL.minMs, STALL.factor * median))
  }

  /** when peer last made progress while it has requests open (undefined: none open) */
  progressAt (peer: PeerId): number | undefined {
    return this.peers.get(peer.toString())?.progressAt
  }

  /** peers with requests open, for tests */
  get size (): number {
    return this.peers.size
  }
}
