/**
 * Small pure helpers of the libp2p port: peer infos and addresses as the
 * port reports them, parameter parsing into the port's typed error, kad-dht's
 * record keys, bounded de-duplication of streamed peers, and an error's text
 * with its causes (for bootstrap failures).
 */
import { Key } from 'interface-datastore'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { DHT_RECORD_PREFIX } from './ipns-dht.js'
import { DhtPortError, PortInvalidParametersError } from '../port-errors.js'
import type { QueryContext } from './query-stream.js'
import type { DhtPeerInfo } from '../dht-port.js'
import type { PeerInfo } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Most values / peers one streaming operation produces before it stops its query. */
export const MAX_STREAM_RESULTS = 256
/** libp2p's protocol code for /p2p/<peerId>. */
const P2P_CODE = 421

export function toPeerInfo (info: PeerInfo): DhtPeerInfo {
  // a peer record can list one address twice (with and without /p2p/)
  return { peerId: info.id.toString(), multiaddrs: [...new Set(info.multiaddrs.map(addrWithoutPeer))] }
}

export function addrWithoutPeer (addr: Multiaddr): string {
  return addr.decapsulateCode(P2P_CODE).toString()
}

export function parsed<T> (what: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw new PortInvalidParametersError(`invalid ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

/** where kad-dht keeps the record for key in its datastore */
export function recordKey (key: Uint8Array): Key {
  return new Key(`${DHT_RECORD_PREFIX}${uint8ArrayToString(key, 'base32')}`, false)
}

export function pushNew (seen: Set<string>, info: DhtPeerInfo, ctx: QueryContext<DhtPeerInfo>): void {
  // bounded: only pushed peers are remembered, and a stream stops at MAX_STREAM_RESULTS
  if (seen.has(info.peerId) || seen.size >= MAX_STREAM_RESULTS) return
  seen.add(info.peerId)
  ctx.push(info)
}

/** an error's name and message, and its causes' (a dial's AggregateError names each address tried) */
export function errorText (err: unknown): string {
  const parts: string[] = []
  // a port error that only wraps libp2p's (same words, kept as cause) is said once, in libp2p's words
  let e: unknown = err instanceof DhtPortError && err.cause instanceof Error && err.cause.message === err.message ? err.cause : err
  for (let depth = 0; depth < 4 && e !== undefined; depth++) {
    if (e instanceof AggregateError && e.errors.length > 0) {
      parts.push(`${e.name}: ${e.message} [${e.errors.slice(0, 4).map(x => x instanceof Error ? `${x.name}: ${x.message}` : String(x)).join('; ')}]`)
      break
    }
    parts.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e))
    e = e instanceof Error ? e.cause : undefined
  }
  return parts.join(' ← ').slice(0, 500)
}
