/**
 * A node with no peer: name/publish fails (no peer stored the record)
 * unless `allow-offline`, which stores it without broadcasting, as kubo
 * does offline; the record then resolves from the repo. Keys given by id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../../src/node/create-node.js'
import { inspectRecord } from '../../../src/cli/record-inspect.js'
import { all, failure, post, startFace } from './support.js'
import type { Face } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('kubo RPC on a node alone', () => {
  let node: SwarmNode
  let face: Face

  beforeAll(async () => {
    node = await createNode({ seed: 79_000, verifier: 'inline', republish: false })
    face = await startFace(node)
  }, 30_000)

  afterAll(async () => {
    await face?.close()
    await node?.stop()
  }, 20_000)

  it('publish without peers fails; with allow-offline it is stored and resolves locally', async () => {
    const err = await failure(face.client.name.publish(`/ipfs/${CID}`))
    expect(err.message).toMatch(/no peer accepted/)
    const pub = await face.client.name.publish(`/ipfs/${CID}`, { allowOffline: true })
    expect(pub.value).toBe(`/ipfs/${CID}`)
    expect(await all(face.client.name.resolve(pub.name))).toEqual([`/ipfs/${CID}`])
  })

  it('name/resolve offline=true answers from the repo and never queries the DHT; a name it lacks is not found, saying offline', async () => {
    const pub = await face.client.name.publish(`/ipfs/${CID}/offline`, { allowOffline: true })
    const dhtQueries = async (): Promise<number> => {
      const st = await node.ask({ type: 'swarm.status' })
      return Number((st.actors.find(a => a.name === 'ipns')?.detail as { dhtQueries?: number } | undefined)?.dhtQueries ?? 0)
    }
    const before = await dhtQueries()
    // kubo-rpc-client always streams: an offline resolve is one line
    expect(await all(face.client.name.resolve(pub.name, { searchParams: { offline: true, nocache: true } } as never))).toEqual([`/ipfs/${CID}/offline`])
    const one = await post(face, 'name/resolve', [['arg', pub.name], ['offline', 'true']])
    expect(await one.json()).toEqual({ Path: `/ipfs/${CID}/offline` })
    const other = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'
    const missing = await post(face, 'name/resolve', [['arg', other], ['offline', 'true']])
    expect(missing.status).toBe(500)
    expect(((await missing.json()) as { Message: string }).Message).toMatch(/offline/)
    expect(await dhtQueries()).toBe(before)
  })

  it('the face\'s publish defaults apply when a call names no lifetime or ttl', async () => {
    const tuned = await startFace(node, { publish: { lifetimeMs: 3_600_000, ttlMs: 30_000 } })
    try {
      const before = Date.now()
      const pub = await tuned.client.name.publish(`/ipfs/${CID}/tuned`, { allowOffline: true })
      const { record } = await node.ask({ type: 'store.get', kind: 'published', name: pub.name })
      const inspected = inspectRecord(record, Date.now())
      expect(inspected.ttl).toBe(30_000_000_000n)
      expect((inspected.validityMs ?? 0) - before).toBeGreaterThan(3_500_000)
      expect((inspected.validityMs ?? 0) - before).toBeLessThan(3_700_000)
      // a call's own ttl wins
      const own = await tuned.client.name.publish(`/ipfs/${CID}/own`, { allowOffline: true, ttl: '2s' })
      const again = await node.ask({ type: 'store.get', kind: 'published', name: own.name })
      expect(inspectRecord(again.record, Date.now()).ttl).toBe(2_000_000_000n)
    } finally {
      await tuned.close()
    }
  })

  it('the key option takes a key\'s id as well as its name', async () => {
    const k = await face.client.key.gen('by-id')
    const byName = await face.client.name.publish(`/ipfs/${CID}`, { key: 'by-id', allowOffline: true })
    const byId = await face.client.name.publish(`/ipfs/${CID}/b`, { key: k.id, allowOffline: true })
    expect(byId.name).toBe(byName.name)
    expect(byId.name).toBe(k.id)
  })
})
