/**
 * Our DHT requests (GET_VALUE, PUT_VALUE) reuse streams: one request, one
 * answer, and the stream goes back to a per-peer pool for the next request
 * to that peer, as go-libp2p-kad-dht's message sender does. A kad-dht (or
 * go) server reads requests from a stream in a loop, so a stream carries any
 * number of them one after the other.
 *
 * Why: a fresh stream costs both ends far more than the request itself
 * (multistream-select, a yamux stream, and a peer-store write of the
 * protocol on each end); in a loopback burst of 1,600 GET_VALUEs reused
 * streams took about a fifth of the CPU of fresh ones (docs/libp2p-notes.md).
 *
 * Bounds:
 * - the PeerGate admits at most `perPeer` requests to one peer at a time, and
 *   a stream is kept idle only while (streams in use to that peer + idle
 *   streams to it) stays within `perPeer`: we never hold more than `perPeer`
 *   streams to a peer (kad-dht resets inbound streams past 32 per connection);
 * - at most `maxIdle` idle streams over all peers;
 * - a stream idle for `idleMs` is closed (kad-dht's server closes one idle for
 *   10 s; ours closes first), by a sweep on the injected clock that runs only
 *   while streams are idle.
 * A reused stream that fails (the peer closed it as we wrote) is retried once
 * on a fresh stream: both requests are idempotent. A stream that failed or
 * was aborted is never reused.
 *
 * Opening a stream (dial, noise, yamux, multistream-select: several round
 * trips on a slow link) has its own limit, `openMs` (4 s), on the injected
 * clock, apart from the request's: a caller that leaves while the stream is
 * still opening gets its AbortError at once, but the open goes on within its
 * limit (the peer's gate slot is held till then): a stream that opens joins
 * the idle pool, and an open that fails — refused, reset, over the limit —
 * is reported (`onOpenFailed`: the port makes the peer a suspect,
 * suspects.ts). That is how a frozen peer, whose connection is open but
 * whose streams never finish negotiating, is told from a slow one. The
 * request's phases are reported to the caller (`phase`: 'negotiating' when
 * a stream is opened on a connection already open, 'sent' once written).
 */
import { pbStream } from '@libp2p/utils'
import { Message } from './pb/dht.js'
import { TimeoutError } from '../../../messages/errors.js'
import { raceAbort } from '../libp2p/wakeup.js'
import type { PeerGate, RequestPhase } from './kad-rpc.js'
import type { DhtRequestStats } from '../../../messages/swarm.js'
import type { Clock, TimerId } from '../../runtime/clock.js'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Largest answer accepted: a record (≤ 10 KiB for IPNS) and k = 20 peers with their addresses. */
export const MAX_ANSWER_BYTES = 256 * 1024

export interface StreamPoolLimits {
  /** most idle streams over all peers */
  maxIdle: number
  /** an idle stream is closed after this long */
  idleMs: number
  /** a stream's graceful close gets this long before it is aborted */
  closeMs: number
  /** opening a stream (dialling the peer if need be) fails after this long */
  openMs: number
}

export const DEFAULT_STREAM_POOL: StreamPoolLimits = { maxIdle: 1_024, idleMs: 5_000, closeMs: 5_000, openMs: 4_000 }

/** opening a stream took longer than the pool's openMs */
export class StreamOpenTimeoutError extends TimeoutError {
  readonly code = 'stream-open-timeout'
}

/** One request to send; `closer` is always empty in requests. */
export interface KadRequest { type: Message['type'], key: Uint8Array, record?: Uint8Array }


type PbCodec = Parameters<ReturnType<typeof pbStream>['pb']>[0]
/** the generated codec, typed for the stream helper (protons' output is typed for an older runtime) */
const messageCodec: PbCodec = {
  encode: (m: Message): Uint8Array => Message.encode(m),
  decode: (data: Uint8Array | { subarray: () => Uint8Array }): Message => Message.decode(data instanceof Uint8Array ? data : data.subarray())
} as unknown as PbCodec

interface PooledStream {
  stream: Stream
  messages: ReturnType<ReturnType<typeof pbStream>['pb']>
  idleSince: number
}

const usable = (s: Stream): boolean =>
  s.status === 'open' && s.readStatus === 'readable' && s.writeStatus === 'writable' &&
  s.remoteReadStatus === 'readable' && s.remoteWriteStatus === 'writable'

export class KadStreamPool {
  private readonly idle = new Map<string, PooledStream[]>()
  /** per peer, requests holding a stream now (at most the gate's perPeer) */
  private readonly busy = new Map<string, number>()
  private idleCount = 0
  private sweep: TimerId | undefined
  private closed = false
  private readonly counters = { opened: 0, reused: 0, retried: 0, openFailed: 0 }
  private readonly limits: StreamPoolLimits
  /** aborts the opens still running when the pool closes */
  private readonly closing = new AbortController()

  constructor (
    private readonly node: Libp2p,
    private readonly protocol: string,
    private readonly gate: PeerGate,
    private readonly clock: Clock,
    limits: Partial<StreamPoolLimits> = {},
    /** an open to the peer failed (not because the pool closed) */
    private readonly onOpenFailed?: (peer: PeerId, err: unknown) => void
  ) {
    this.limits = { ...DEFAULT_STREAM_POOL, ...limits }
  }

  /**
   * Sends one request to peer and reads its answer, on an idle stream to it
   * when there is one, else on a new stream dialled to `target` (the peer's
   * id, or addresses ending in /p2p/<peer>), telling `phase` where the
   * request stands.
   */
  async exchange (peer: PeerId, target: PeerId | Multiaddr[], request: KadRequest, signal: AbortSignal, phase?: (p: RequestPhase) => void): Promise<Message> {
    const key = peer.toString()
    await this.gate.enter(key, signal)
    let leave = true
    try {
      const reused = this.checkout(key)
      if (reused !== undefined) {
        this.counters.reused++
        try {
          return await this.roundTrip(key, reused, request, signal, phase)
        } catch (err) {
          if (signal.aborted) throw err
          this.counters.retried++
        }
      }
      if (this.node.getConnections(peer).some(c => c.status === 'open')) phase?.('negotiating')
      const opening = this.open(peer, key, target)
      let fresh: PooledStream
      try {
        fresh = await raceAbort(opening, signal)
      } catch (err) {
        if (signal.aborted) {
          // the caller left: the open goes on within its limit, holding the gate slot
          leave = false
          // eslint-disable-next-line no-restricted-syntax -- a failed open is counted and reported in open()
          opening.then(p => { this.release(key, p) }, () => {}).finally(() => { this.gate.leave(key) })
        }
        throw err
      }
      return await this.roundTrip(key, fresh, request, signal, phase)
    } finally {
      if (leave) this.gate.leave(key)
    }
  }

  stats (): Omit<DhtRequestStats, 'stalls' | 'lateAnswers' | 'suspects' | 'suspected'> {
    const gate = this.gate.counts()
    return { streamsOpened: this.counters.opened, streamsReused: this.counters.reused, streamsRetried: this.counters.retried, streamsIdle: this.idleCount, openFailed: this.counters.openFailed, open: gate.open, waiting: gate.waiting }
  }

  /** Stops pooling and closes every idle stream (the port calls it before libp2p stops). */
  close (): void {
    this.closed = true
    this.closing.abort()
    if (this.sweep !== undefined) this.clock.clearTimer(this.sweep)
    this.sweep = undefined
    for (const list of this.idle.values()) for (const p of list) this.closeStream(p.stream)
    this.idle.clear()
    this.idleCount = 0
  }

  /** a new stream to the peer, within openMs; counted as in use (hold) once open */
  private async open (peer: PeerId, key: string, target: PeerId | Multiaddr[]): Promise<PooledStream> {
    const limit = new AbortController()
    const timer = this.clock.setTimer(this.clock.now() + this.limits.openMs, () => {
      limit.abort(new StreamOpenTimeoutError(`opening a DHT stream to ${key} took over ${this.limits.openMs} ms`))
    })
    try {
      const stream = await this.node.dialProtocol(target, this.protocol, { signal: AbortSignal.any([limit.signal, this.closing.signal]) })
      this.counters.opened++
      this.hold(key, 1)
      return { stream, messages: pbStream(stream, { maxDataLength: MAX_ANSWER_BYTES }).pb(messageCodec), idleSince: 0 }
    } catch (err) {
      const e = limit.signal.aborted ? limit.signal.reason as Error : err
      if (!this.closed) {
        this.counters.openFailed++
        this.onOpenFailed?.(peer, e)
      }
      throw e
    } finally {
      this.clock.clearTimer(timer)
    }
  }

  private async roundTrip (key: string, pooled: PooledStream, request: KadRequest, signal: AbortSignal, phase: ((p: RequestPhase) => void) | undefined): Promise<Message> {
    try {
      await pooled.messages.write({ ...request, closer: [] }, { signal })
      phase?.('sent')
      const answer = await pooled.messages.read({ signal }) as Message
      this.release(key, pooled)
      return answer
    } catch (err) {
      this.hold(key, -1)
      pooled.stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  /** counts the streams to a peer in use now (taken from the pool or dialled, not yet released) */
  private hold (key: string, delta: 1 | -1): void {
    const n = (this.busy.get(key) ?? 0) + delta
    if (n <= 0) this.busy.delete(key)
    else this.busy.set(key, n)
  }

  /** the most recently used idle stream to the peer that is still open and fresh */
  private checkout (key: string): PooledStream | undefined {
    const list = this.idle.get(key)
    if (list === undefined) return undefined
    const now = this.clock.now()
    let found: PooledStream | undefined
    while (found === undefined && list.length > 0) {
      const p = list.pop() as PooledStream
      this.idleCount--
      if (usable(p.stream) && now - p.idleSince < this.limits.idleMs) found = p
      else this.closeStream(p.stream)
    }
    if (list.length === 0) this.idle.delete(key)
    if (found !== undefined) this.hold(key, 1)
    return found
  }

  private release (key: string, pooled: PooledStream): void {
    const list = this.idle.get(key) ?? []
    this.hold(key, -1)
    // kept, the peer would have `busy` streams in use and list.length + 1
    // idle: never more than perPeer in all
    const keep = !this.closed && usable(pooled.stream) && this.idleCount < this.limits.maxIdle &&
      list.length + 1 + (this.busy.get(key) ?? 0) <= this.gate.perPeer
    if (!keep) {
      this.closeStream(pooled.stream)
      return
    }
    pooled.idleSince = this.clock.now()
    list.push(pooled)
    this.idle.set(key, list)
    this.idleCount++
    this.armSweep(pooled.idleSince + this.limits.idleMs)
  }

  private armSweep (at: number): void {
    if (this.sweep !== undefined || this.closed) return
    this.sweep = this.clock.setTimer(at, () => {
      this.sweep = undefined
      this.sweepIdle()
    })
  }

  /** closes streams idle for idleMs or no longer open; re-arms for the oldest one left */
  private sweepIdle (): void {
    const now = this.clock.now()
    let oldest = Infinity
    for (const [key, list] of this.idle) {
      const kept = list.filter(p => {
        if (usable(p.stream) && now - p.idleSince < this.limits.idleMs) {
          oldest = Math.min(oldest, p.idleSince)
          return true
        }
        this.closeStream(p.stream)
        return false
      })
      this.idleCount -= list.length - kept.length
      if (kept.length === 0) this.idle.delete(key)
      else this.idle.set(key, kept)
    }
    if (oldest !== Infinity) this.armSweep(oldest + this.limits.idleMs)
  }

  /** a graceful close (the server ends its loop and closes too), aborted if it takes longer than closeMs */
  private closeStream (stream: Stream): void {
    if (stream.status !== 'open') return
    const controller = new AbortController()
    const timer = this.clock.setTimer(this.clock.now() + this.limits.closeMs, () => { controller.abort() })
    stream.close({ signal: controller.signal })
      .catch((err: unknown) => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
      .finally(() => { this.clock.clearTimer(timer) })
  }
}
