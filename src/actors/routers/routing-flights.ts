/**
 * routing.findProviders and routing.findPeer, served by the routers actor:
 * the DHT and the HTTP routers at once, composed on the bus (the swarm
 * actor's dht.findProviders / dht.findPeer, this actor's own
 * routers.findProviders / routers.findPeers), so each source keeps its own
 * limits, retries and breaker. One operation per ask:
 *
 * - providers: each peer id once, the first source to name it wins, up to
 *   `limit`;
 * - a peer: each address once: an answer yields the addresses no earlier
 *   answer gave, or nothing;
 * - the stream ends when every source has ended (or at `limit`); it fails
 *   only when nothing was yielded and every source failed (a DHT without
 *   the peer and routers without it: not-found).
 *
 * Bounded: the routers actor's maxPending counts these too; seen sets are
 * bounded by `limit` (providers) and MAX_ADDRS (addresses).
 */
import { failure } from '../../messages/failure.js'
import { DEFAULT_ROUTER_STREAM_LIMIT, peerIdOf } from './validate.js'
import type { ActorContext, ReplyPort, Settled } from '../runtime/actor.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'
import type { PeerInfo } from '../../messages/swarm.js'
import type { RoutedPeer, RouterPeer, RoutingFindPeer, RoutingFindProviders } from '../../messages/routers.js'
import '../../messages/swarm.js'
import '../../messages/routers.js'

/** most distinct addresses one routing.findPeer gives */
export const MAX_ADDRS = 1000

type Source = 'dht' | 'routers'

export type RoutingMsg =
  | { type: 'rt.item', op: QueryId, source: Source, item: PeerInfo | RouterPeer }
  | { type: 'rt.end', op: QueryId, source: Source, result: Settled<number> }
  | { type: 'rt.peer', op: QueryId, result: Settled<PeerInfo> }

interface RoutingOp {
  id: QueryId
  kind: 'providers' | 'peer'
  port: ReplyPort<RoutingFindProviders | RoutingFindPeer>
  limit: number
  /** peer ids (providers) or addresses (peer) already given */
  seen: Set<string>
  yielded: number
  /** sources still running */
  running: Set<Source>
  failures: Array<{ source: Source, failure: Failure }>
  subs: QueryId[]
}

export interface RoutingFlights {
  /** false: the actor is full (the caller fails the ask) */
  start(port: ReplyPort<RoutingFindProviders | RoutingFindPeer>, cmd: RoutingFindProviders | RoutingFindPeer, deadline: number, withRouters: boolean): void
  onMsg(m: RoutingMsg): void
  /** true when the cancel was for one of these operations */
  cancel(id: QueryId): boolean
  stop(): void
  readonly size: number
}

export const isRoutingMsg = (m: { type: string }): m is RoutingMsg => m.type.startsWith('rt.')

export function routingFlights<I> (ctx: ActorContext<I>, toMsg: (m: RoutingMsg) => I): RoutingFlights {
  const ops = new Map<QueryId, RoutingOp>()

  const finish = (op: RoutingOp): void => {
    ops.delete(op.id)
    for (const sub of op.subs) ctx.cancel(sub)
    op.subs = []
  }

  const maybeDone = (op: RoutingOp): void => {
    if (op.running.size > 0) return
    finish(op)
    if (op.yielded > 0 || op.failures.length === 0) {
      op.port.end()
      return
    }
    const text = op.failures.map(f => `${f.source}: ${f.failure.message}`).join('; ').slice(0, 2000)
    const kinds = new Set(op.failures.map(f => f.failure.kind))
    if (op.kind === 'peer' && [...kinds].every(k => k === 'not-found')) op.port.fail(failure('not-found', `neither the DHT nor a router knows the peer (${text})`))
    else if ([...kinds].every(k => k === 'timeout')) op.port.fail(failure('timeout', `every source timed out (${text})`))
    else op.port.fail(failure('failed', `no source answered (${text})`))
  }

  const give = (op: RoutingOp, peer: PeerInfo | RouterPeer, from: string): void => {
    let item: RoutedPeer
    if (op.kind === 'providers') {
      if (op.seen.has(peer.peerId)) return
      op.seen.add(peer.peerId)
      item = { peerId: peer.peerId, multiaddrs: peer.multiaddrs, protocols: 'protocols' in peer ? peer.protocols : [], from }
    } else {
      const fresh = peer.multiaddrs.filter(a => !op.seen.has(a)).slice(0, MAX_ADDRS - op.seen.size)
      if (fresh.length === 0) return
      for (const a of fresh) op.seen.add(a)
      item = { peerId: peer.peerId, multiaddrs: fresh, protocols: 'protocols' in peer ? peer.protocols : [], from }
    }
    op.yielded++
    if (!op.port.next(item)) {
      finish(op)
      return
    }
    if (op.yielded >= op.limit || (op.kind === 'peer' && op.seen.size >= MAX_ADDRS)) {
      finish(op)
      op.port.end()
    }
  }

  return {
    start: (port, cmd, deadline, withRouters) => {
      const op: RoutingOp = {
        id: port.id,
        kind: cmd.type === 'routing.findProviders' ? 'providers' : 'peer',
        port,
        limit: cmd.limit ?? DEFAULT_ROUTER_STREAM_LIMIT,
        seen: new Set(),
        yielded: 0,
        running: new Set(withRouters ? ['dht', 'routers'] : ['dht']),
        failures: [],
        subs: []
      }
      ops.set(op.id, op)
      const o = { deadline }
      const item = (source: Source) => (it: PeerInfo | RouterPeer) => toMsg({ type: 'rt.item', op: op.id, source, item: it })
      const end = (source: Source) => (result: Settled<number>) => toMsg({ type: 'rt.end', op: op.id, source, result })
      if (cmd.type === 'routing.findProviders') {
        op.subs.push(ctx.stream({ type: 'dht.findProviders', cid: cmd.cid, limit: op.limit }, o, item('dht'), end('dht')))
        if (withRouters) op.subs.push(ctx.stream({ type: 'routers.findProviders', cid: cmd.cid, limit: op.limit }, o, item('routers'), end('routers')))
      } else {
        const peerId = peerIdOf(cmd.peerId) ?? cmd.peerId
        op.subs.push(ctx.ask({ type: 'dht.findPeer', peerId }, o, result => toMsg({ type: 'rt.peer', op: op.id, result })))
        if (withRouters) op.subs.push(ctx.stream({ type: 'routers.findPeers', peerId, limit: op.limit }, o, item('routers'), end('routers')))
      }
    },
    onMsg: m => {
      const op = ops.get(m.op)
      if (op === undefined) return
      switch (m.type) {
        case 'rt.item':
          give(op, m.item, m.source === 'dht' ? 'dht' : (m.item as RouterPeer).endpoint)
          return
        case 'rt.peer':
          op.running.delete('dht')
          if (m.result.ok) give(op, m.result.value, 'dht')
          else op.failures.push({ source: 'dht', failure: m.result.failure })
          if (ops.has(op.id)) maybeDone(op)
          return
        case 'rt.end':
          op.running.delete(m.source)
          if (!m.result.ok) op.failures.push({ source: m.source, failure: m.result.failure })
          maybeDone(op)
      }
    },
    cancel: id => {
      const op = ops.get(id)
      if (op === undefined) return false
      finish(op)
      return true
    },
    stop: () => { for (const op of [...ops.values()]) finish(op) },
    get size () { return ops.size }
  }
}
