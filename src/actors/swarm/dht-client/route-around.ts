/**
 * The port's side of routing around frozen peers (kad-walk.ts has the
 * lookup's side): which peers answer (peer-liveness.ts), which are suspects
 * (suspects.ts), and the counters `swarm.status.dhtRequests` shows.
 *
 * `track` wraps a request function (GET_VALUE, FIND_NODE): the request
 * counts toward its peer's liveness from the moment it is written on an open
 * stream, its answer time (write to answer: a round trip, not a dial) feeds
 * the stall time, and any answer ends the peer's suspicion. `forWalk` gives
 * one lookup its RouteAround: the stall time as it is now, and the hooks that
 * count stalls and make a peer a suspect when a stalled request of it was
 * still unanswered at its lookup's end. The stream pool reports failed opens
 * (`openFailed`): a strike too.
 *
 * A new stream on a connection already open is one round trip: it stalls
 * after the stall time too. A request still waiting for the peer's slot, or
 * dialling it (TCP, noise, yamux: several round trips), stalls after the
 * open stall time: three times the stall time, at least 1 s. A stall before
 * the write, or a slow open, makes no suspect; a failed open does (the
 * pool's 4 s open limit).
 *
 * Bounded: the liveness entries by requests open, the suspects by their
 * table (1,024).
 */
import { PeerLiveness } from './peer-liveness.js'
import { SuspectTable } from './suspects.js'
import type { RouteAround } from './kad-walk.js'
import type { RequestPhase } from './kad-rpc.js'
import type { Clock } from '../../runtime/clock.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const OPEN_STALL = { minMs: 1_000, factor: 3 }

type Rpc<A> = (peer: PeerId, addrs: Multiaddr[], key: Uint8Array, signal: AbortSignal, phase?: (p: RequestPhase) => void) => Promise<A>

export class RouteAroundState {
  readonly liveness: PeerLiveness
  readonly suspects: SuspectTable
  private readonly counters = { stalls: 0, lateAnswers: 0 }

  constructor (private readonly clock: Clock) {
    this.liveness = new PeerLiveness(() => clock.now())
    this.suspects = new SuspectTable(() => clock.now())
  }

  /** the request function, with liveness counted from the write and suspicion ended by an answer */
  track<A> (rpc: Rpc<A>): Rpc<A> {
    return async (peer, addrs, key, signal, phase) => {
      let sentAt: number | undefined
      let ms: number | undefined
      try {
        const answer = await rpc(peer, addrs, key, signal, p => {
          if (p === 'sent' && sentAt === undefined) {
            sentAt = this.clock.now()
            this.liveness.opened(peer)
          }
          phase?.(p)
        })
        if (sentAt !== undefined) ms = this.clock.now() - sentAt
        this.suspects.answered(peer.toString())
        return answer
      } finally {
        if (sentAt !== undefined) this.liveness.closed(peer, ms)
      }
    }
  }

  /** one lookup's view: the stall times are read afresh at each check (they follow the answers, this lookup's too) */
  forWalk (): RouteAround {
    const liveness = this.liveness
    return {
      clock: this.clock,
      get stallMs () { return liveness.stallMs() },
      get openStallMs () { return Math.max(OPEN_STALL.minMs, OPEN_STALL.factor * liveness.stallMs()) },
      progressAt: peer => this.liveness.progressAt(peer),
      isSuspect: peer => this.suspects.isSuspect(peer.toString()),
      stalled: () => { this.counters.stalls++ },
      lateAnswer: () => { this.counters.lateAnswers++ },
      unanswered: peer => { this.suspects.strike(peer.toString()) }
    }
  }

  /** the stream pool could not open a stream to the peer */
  openFailed (peer: PeerId): void {
    this.suspects.strike(peer.toString())
  }

  stats (): { stalls: number, lateAnswers: number, suspects: number, suspected: number } {
    return { ...this.counters, ...this.suspects.stats() }
  }
}
