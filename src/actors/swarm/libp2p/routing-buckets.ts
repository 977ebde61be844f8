/**
 * The leaf buckets of kad-dht's routing table, for swarm.status (the status
 * page shows them). kad-dht 16.4 keeps them in `routingTable.kb.root`, a
 * binary trie on kad ids: an internal node has `left` (bit 0) and `right`
 * (bit 1), a leaf has `peers` (each with `peerId`, `lastPing`), and both
 * carry `depth` and `prefix` — only the last bit of the path ('0', '1', ''
 * at the root, which loses both once it splits); the full prefix is the path
 * down, built here. None of that is in the
 * public `KadDHT` type, so this narrows at runtime and answers `undefined`
 * when the shape is not there (a status never fails for want of buckets).
 */
import type { KadDHT } from '@libp2p/kad-dht'
import type { RoutingBucket } from '../../../messages/swarm.js'

/** peers listed per bucket (kad-dht's k; a split threshold above k may put more in one) */
export const MAX_BUCKET_PEERS = 20
/** buckets listed (kad-dht's default prefix length of 6 makes at most 64) */
export const MAX_BUCKETS = 256

type Obj = Record<string, unknown>

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null
}

function bitsOf (kadId: unknown, n: number): string | undefined {
  if (!(kadId instanceof Uint8Array)) return undefined
  let out = ''
  for (let i = 0; i < n && i < kadId.length * 8; i++) out += (((kadId[i >> 3] ?? 0) >> (7 - (i & 7))) & 1).toString()
  return out
}

function peerOf (p: unknown): { peerId: string, lastPing: number } | undefined {
  if (!isObj(p) || !isObj(p.peerId)) return undefined
  return { peerId: String(p.peerId), lastPing: typeof p.lastPing === 'number' ? p.lastPing : 0 }
}

export function routingBucketsOf (dht: KadDHT): RoutingBucket[] | undefined {
  const table: unknown = 'routingTable' in dht ? dht.routingTable : undefined
  const kb = isObj(table) ? table.kb : undefined
  if (!isObj(kb) || !isObj(kb.root)) return undefined
  const self = isObj(kb.localPeer) ? kb.localPeer.kadId : undefined
  const out: RoutingBucket[] = []
  const stack: Array<[unknown, string]> = [[kb.root, '']]
  while (stack.length > 0 && out.length < MAX_BUCKETS) {
    const [b, above] = stack.pop() ?? []
    if (!isObj(b)) return undefined
    // a split root drops its own prefix and depth
    const prefix = `${above ?? ''}${typeof b.prefix === 'string' ? b.prefix : ''}`
    if (Array.isArray(b.peers)) {
      const peers = b.peers.slice(0, MAX_BUCKET_PEERS).map(peerOf).filter(p => p !== undefined)
      out.push({ prefix, depth: typeof b.depth === 'number' ? b.depth : prefix.length, size: b.peers.length, self: bitsOf(self, prefix.length) === prefix, peers })
    } else if (isObj(b.left) && isObj(b.right)) {
      // right first so the left (bit 0) pops first: buckets come in prefix order
      stack.push([b.right, prefix], [b.left, prefix])
    } else {
      return undefined
    }
  }
  return out
}
