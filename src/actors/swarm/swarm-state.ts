/**
 * The swarm actor's own messages (plain data: they are recorded in traces),
 * the pending entry of an ask it serves (typed by the kind of its result, so
 * a port operation's result reaches the port of its own reply type without a
 * cast), and the small pure helpers of swarm-actor.ts.
 */
import { REPUBLISHER_ACTOR } from '../republisher/republisher-actor.js'
import { ROUTERS_ACTOR } from '../routers/routers-actor.js'
import type { BootstrapMsg } from './bootstrap-joiner.js'
import type { ReplyPort, Settled } from '../runtime/actor.js'
import type { DhtConnection, DhtGetValue, DhtPeerInfo, DhtPortStatus, DhtProgress } from './dht-port.js'
import type { Failure } from '../../messages/failure.js'
import { failureToError, SwarmbusError } from '../../messages/errors.js'
import type { QueryId } from '../../messages/ids.js'
import type {
  DhtClosestPeers, DhtFindPeer, DhtFindProviders, DhtGet, DhtGetValues, DhtProvide, DhtPut, DhtPutTo,
  NetworkStatus, SwarmBootstrap, SwarmDial, SwarmPeers, SwarmStatus
} from '../../messages/swarm.js'
import type { RepublishStatus } from '../../messages/republish.js'
import type { RoutersStatusReply } from '../../messages/routers.js'
import type { ActorStatus } from '../../messages/system.js'
import '../../messages/swarm.js'

export type PeersCommand = DhtPut | DhtPutTo | DhtProvide
export type PeerStreamCommand = DhtFindProviders | DhtClosestPeers

/**
 * The swarm actor's own messages: plain data, recorded in traces. A port
 * operation's result carries its kind and its type, so the port waiting for
 * it (same kind, in `pending`) takes it without a cast.
 */
export type SwarmMsg =
  | { type: 'op.done', id: QueryId, kind: 'peers', result: Settled<{ peers: number }> }
  | { type: 'op.done', id: QueryId, kind: 'findPeer', result: Settled<DhtPeerInfo> }
  | { type: 'op.done', id: QueryId, kind: 'dial', result: Settled<{ peerId: string }> }
  | { type: 'op.done', id: QueryId, kind: 'connections', result: Settled<{ peers: DhtConnection[] }> }
  | { type: 'op.done', id: QueryId, kind: 'bootstrap', result: Settled<{ connected: number, routingTableSize: number, failed?: Array<{ addr: string, error: string }> }> }
  | { type: 'op.done', id: QueryId, kind: 'status', result: Settled<DhtPortStatus> }
  | { type: 'op.item', id: QueryId, kind: 'value', item: DhtGetValue }
  | { type: 'op.item', id: QueryId, kind: 'peer', item: DhtPeerInfo }
  | { type: 'op.end', id: QueryId, result: Settled<number> }
  | { type: 'op.progress', id: QueryId, event: DhtProgress }
  | { type: 'port.ready', result: Settled<string> }
  | { type: 'boot', msg: BootstrapMsg }
  | { type: 'net.change', status: NetworkStatus }
  | { type: 'port.failed', failure: Failure }

/** an ask the swarm serves, with its typed port, by the kind of its result */
export type Pending =
  | { kind: 'peers', type: PeersCommand['type'], port: ReplyPort<PeersCommand> }
  | { kind: 'findPeer', port: ReplyPort<DhtFindPeer> }
  | { kind: 'dial', port: ReplyPort<SwarmDial> }
  | { kind: 'connections', port: ReplyPort<SwarmPeers> }
  | { kind: 'bootstrap', port: ReplyPort<SwarmBootstrap> }
  | { kind: 'status', port: ReplyPort<SwarmStatus> }
  | { kind: 'get', port: ReplyPort<DhtGet> }
  | { kind: 'values', port: ReplyPort<DhtGetValues> }
  | { kind: 'peerStream', port: ReplyPort<PeerStreamCommand>, limit: number, count: number, seen: Set<string> }

/**
 * The swarm's DhtPort failed for good (its network thread exited or threw):
 * what the swarm actor throws to crash into its supervisor, which restarts it
 * on a fresh port. The port's failure is the cause.
 */
export class PortDiedError extends SwarmbusError {
  override readonly name = 'PortDiedError'
  readonly kind = 'failed' as const
  readonly code = 'port-died'
  constructor (f: Failure) {
    super(`the swarm's network port died: ${f.message}`, { cause: failureToError(f) })
  }
}

/** settle a port with a result of its own reply type */
export function answer<T> (port: { reply: (value: T) => boolean, fail: (f: Failure) => boolean }, r: Settled<T>): void {
  if (r.ok) port.reply(r.value)
  else port.fail(r.failure)
}

/** the republisher's status detail becomes the `republish` section of swarm.status (name as in republisher-actor.ts) */
export function republishSection (actors: ActorStatus[]): { republish?: RepublishStatus } {
  const detail = actors.find(a => a.name === REPUBLISHER_ACTOR)?.detail
  return detail === undefined ? {} : { republish: detail as unknown as RepublishStatus }
}

/** the routers actor's status detail becomes the `routers` section of swarm.status (name as in routers-actor.ts) */
export function routersSection (actors: ActorStatus[]): { routers?: RoutersStatusReply } {
  const detail = actors.find(a => a.name === ROUTERS_ACTOR)?.detail
  return detail === undefined ? {} : { routers: detail as unknown as RoutersStatusReply }
}

const utf8 = new TextEncoder()
export const toKey = (key: Uint8Array | string): Uint8Array => typeof key === 'string' ? utf8.encode(key) : key
