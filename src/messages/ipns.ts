/**
 * Protocol of the IPNS actor: publish and resolve, each one XState machine per
 * request (the machine id is the query id).
 */
import type { RouterPutOutcome } from './routers.js'

export interface IpnsPublish {
  type: 'ipns.publish'
  /** key name (default 'self') */
  key?: string
  /** /ipfs/… or /ipns/… path, optionally with a sub-path */
  value: string
  /** default 48 h */
  lifetimeMs?: number
  /** default 5 min */
  ttlMs?: number
  /** store locally only, do not put to the DHT */
  offline?: boolean
}

export interface PublishReply {
  /** IPNS name, base36 (k51…) */
  name: string
  value: string
  sequence: bigint
  record: Uint8Array
  /** DHT peers that stored the record (0 when offline) */
  peers: number
  /** with HTTP routers: each router's outcome (docs/routing.md) */
  routers?: RouterPutOutcome[]
  /**
   * with HTTP routers: the DHT put had not answered when a router took the
   * record, so the publish was acknowledged without it; the put goes on in
   * the background until the ask's deadline (its end is an
   * `ipns:publish:dht` progress event and counted in the actor's status)
   */
  dhtPending?: boolean
}

export interface IpnsResolve {
  type: 'ipns.resolve'
  /** k51…, base32 CID, peer id, a DNSLink domain, /ipns/<name or domain>[/path] */
  name: string
  /** skip the cache and the repo's within-TTL answer: ask the network (the repo's record still competes; default false) */
  nocache?: boolean
  /** answer from the cache and the records stored in this repo only, whatever their TTL; no network request (default false) */
  offline?: boolean
  /** follow /ipns/ values to their end, at most 32 hops (default true) */
  recursive?: boolean
  /** valid answers from peers that end the DHT query (default 16) */
  quorum?: number
  /** also answer with the bytes of the last record followed (`ResolveReply.record`; default false) */
  record?: boolean
}

export type ResolveSource = 'cache' | 'local' | 'dht' | 'router' | 'dns'

export interface ResolveReply {
  /** the resolved path, with any sub-path of the name joined on */
  value: string
  /** of the last record followed (0n when the last hop was a DNSLink) */
  sequence: bigint
  /** EOL of the last record followed, RFC 3339 ('' when the last hop was a DNSLink) */
  validity: string
  /** TTL of the last hop, ns (a DNSLink's cache TTL for a DNSLink hop) */
  ttl: bigint
  /** where the answer came from: 'dht' if any hop's record came from DHT peers, else 'router' if one came only from an HTTP router, else 'dns' if any hop was a DNSLink lookup, else 'local' or 'cache' */
  source: ResolveSource
  /** records followed (1 for a direct name) */
  hops: number
  /** the marshalled IpnsEntry of the last record followed, when the resolve asked for it (`record: true`) and the last hop was a record */
  record?: Uint8Array
}

/**
 * kubo's `name resolve --stream`: each better answer as it is found. First
 * the cached answer (and the repo's record) if there is one, then each valid
 * record from the DHT or an HTTP router that is strictly better than the last
 * one yielded (higher sequence, then later EOL); the stream ends when the DHT
 * reaches its quorum, when the DHT and the routers have all ended, or at the
 * soft deadline (docs/routing.md#stream-resolves). A separate type because
 * the registry routes each type to one kind of reply (ask or stream).
 */
export interface IpnsResolveStream {
  type: 'ipns.resolveStream'
  /** as ipns.resolve's */
  name: string
  /** skip the cached answer (default false) */
  nocache?: boolean
  /** follow /ipns/ values (default true): a record that points at another name is followed once its hop has settled */
  recursive?: boolean
  /** valid answers from peers that end the DHT query (default 16) */
  quorum?: number
  /** also give the bytes of each item's last record (default false) */
  record?: boolean
}

/**
 * Store and put to the network a record signed elsewhere (a Routing V1 PUT,
 * a routing/put): checked by record.verify against `name`, refused if this
 * node holds a higher sequence for the name, stored in the repo as a
 * resolved record, then put to the DHT (unless `offline`).
 */
export interface IpnsPut {
  type: 'ipns.put'
  /** the name the record must belong to (k51…, base32 CID, peer id, /ipns/…) */
  name: string
  /** the marshalled IpnsEntry, at most 10 KiB */
  record: Uint8Array
  /** store locally only, do not put to the DHT */
  offline?: boolean
}

export interface PutReply {
  /** IPNS name, base36 (k51…) */
  name: string
  sequence: bigint
  /** DHT peers that stored the record (0 when offline) */
  peers: number
}

declare module './commands.js' {
  interface CommandMap {
    'ipns.publish': { command: IpnsPublish, reply: PublishReply }
    'ipns.resolve': { command: IpnsResolve, reply: ResolveReply }
    'ipns.put': { command: IpnsPut, reply: PutReply }
  }
  interface StreamMap {
    /** each strictly better answer as it is found; items are ResolveReply (source 'cache' for the first one when it came from the cache) */
    'ipns.resolveStream': { command: IpnsResolveStream, item: ResolveReply }
  }
}
