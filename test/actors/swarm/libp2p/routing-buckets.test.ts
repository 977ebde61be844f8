/**
 * routingBucketsOf on kad-dht's own KBucket (its routing-table trie, loaded
 * from the installed @libp2p/kad-dht by file, since the package does not
 * export it), grown until it has split into many buckets: every peer is in
 * the bucket whose full prefix its kad id starts with, the prefixes cover the
 * id space once, in order, and exactly one bucket holds this node's own id.
 * A DHT without that shape gives undefined, not a throw.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import { MAX_BUCKET_PEERS, routingBucketsOf } from '../../../../src/actors/swarm/libp2p/routing-buckets.js'
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerId } from '@libp2p/interface'

interface KBucketLike {
  addSelfPeer: (p: PeerId) => Promise<void>
  add: (p: PeerId) => Promise<void>
  count: () => number
  toIterable: () => Iterable<{ kadId: Uint8Array, peerId: PeerId }>
  localPeer?: { kadId: Uint8Array }
}
type KBucketCtor = new (components: { peerId: PeerId }, options: Record<string, unknown>) => KBucketLike

const { KBucket } = await import(new URL('../../../../node_modules/@libp2p/kad-dht/dist/src/routing-table/k-bucket.js', import.meta.url).href) as { KBucket: KBucketCtor }

function bits (id: Uint8Array, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += String(((id[i >> 3] ?? 0) >> (7 - (i & 7))) & 1)
  return s
}

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('routingBucketsOf', () => {
  it('lists the leaf buckets of a split trie with their full prefixes, members and the self bucket', async () => {
    const self = await peer()
    const kb = new KBucket({ peerId: self }, { prefixLength: 6, kBucketSize: 3, splitThreshold: 3, ping: async function * () {}, verify: async () => true })
    await kb.addSelfPeer(self)
    for (let i = 0; i < 60; i++) await kb.add(await peer())
    const buckets = routingBucketsOf({ routingTable: { kb } } as unknown as KadDHT)
    expect(buckets).toBeDefined()
    if (buckets === undefined) return
    expect(buckets.length).toBeGreaterThan(4)
    expect(buckets.reduce((n, b) => n + b.size, 0)).toBe(kb.count())
    // a prefix-free cover of the id space, in order
    expect(buckets.reduce((sum, b) => sum + 2 ** -b.prefix.length, 0)).toBe(1)
    expect(buckets.map(b => b.prefix)).toEqual(buckets.map(b => b.prefix).sort())
    for (const b of buckets) expect(b.depth).toBe(b.prefix.length)
    // each peer sits in the bucket its kad id's bits name
    const where = new Map(buckets.flatMap(b => b.peers.map(p => [p.peerId, b.prefix] as const)))
    for (const p of kb.toIterable()) {
      const prefix = where.get(p.peerId.toString())
      expect(prefix).toBeDefined()
      expect(bits(p.kadId, prefix?.length ?? 0)).toBe(prefix)
    }
    const selves = buckets.filter(b => b.self)
    expect(selves.length).toBe(1)
    expect(bits(kb.localPeer?.kadId ?? new Uint8Array(), selves[0]?.prefix.length ?? 0)).toBe(selves[0]?.prefix)
    for (const b of buckets) expect(b.peers.length).toBeLessThanOrEqual(MAX_BUCKET_PEERS)
  })

  it('answers undefined for a DHT that does not expose the trie', () => {
    expect(routingBucketsOf({} as unknown as KadDHT)).toBeUndefined()
    expect(routingBucketsOf({ routingTable: { kb: { root: { depth: 0 } } } } as unknown as KadDHT)).toBeUndefined()
  })
})
