/**
 * A node with no peer: name/publish fails (no peer stored the record)
 * unless `allow-offline`, which stores it without broadcasting, as kubo
 * does offline; the record then resolves from the repo. Keys given by id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../../src/node/create-node.js'
import { all, failure, startFace } from './support.js'
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

  it('the key option takes a key\'s id as well as its name', async () => {
    const k = await face.client.key.gen('by-id')
    const byName = await face.client.name.publish(`/ipfs/${CID}`, { key: 'by-id', allowOffline: true })
    const byId = await face.client.name.publish(`/ipfs/${CID}/b`, { key: k.id, allowOffline: true })
    expect(byId.name).toBe(byName.name)
    expect(byId.name).toBe(k.id)
  })
})
