/**
 * What the bus answers (PeerInfo: a base58 peer id and its multiaddrs)
 * written as the Routing V1 Peer schema, and the closest-peers order.
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import type { PeerInfo } from '../../messages/swarm.js'

/** `{"Schema":"peer","ID":"12D3…","Addrs":[…]}`; Protocols only when known (absent = unknown) */
export interface PeerRecordJson {
  Schema: 'peer'
  /** base58btc: the Helia client drops a record whose ID is a CID */
  ID: string
  Addrs: string[]
  Protocols?: string[]
}

/** the multiaddr without a trailing /p2p/<id> (the record's ID says it) */
function bare (addr: string): string {
  const i = addr.lastIndexOf('/p2p/')
  return i === -1 ? addr : addr.slice(0, i)
}

export function toPeerRecord (info: PeerInfo): PeerRecordJson {
  return { Schema: 'peer', ID: info.peerId, Addrs: [...new Set(info.multiaddrs.map(bare))] }
}

const sha256 = (bytes: Uint8Array): Buffer => createHash('sha256').update(bytes).digest()

/**
 * Kademlia XOR distance order to a key (sha256 of the key bytes against
 * sha256 of each peer id's multihash), closest first: what the spec asks
 * of /dht/closest/peers.
 */
export function sortByDistance (key: Uint8Array, records: PeerRecordJson[]): PeerRecordJson[] {
  const target = sha256(key)
  const distance = (r: PeerRecordJson): Buffer => {
    const id = sha256(base58btc.baseDecode(r.ID))
    for (let i = 0; i < id.length; i++) id[i] = (id[i] as number) ^ (target[i] as number)
    return id
  }
  return records.map(r => ({ r, d: distance(r) })).sort((a, b) => Buffer.compare(a.d, b.d)).map(x => x.r)
}
