/**
 * The in-process memory transport carries the DHT too, and a directory repo
 * keeps a node's identity (and its DHT datastore) across a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { createTestnet } from '../../src/node/create-testnet.js'
import { collect, quiet, status } from './support.js'
import type { Testnet } from '../../src/node/create-testnet.js'

describe('a memory-transport testnet', () => {
  let net: Testnet

  beforeAll(async () => {
    net = await createTestnet({ nodes: 4, transport: 'memory', seed: 63_000, settleTimeoutMs: 15_000 })
  }, 60_000)

  afterAll(async () => {
    await net?.stop()
  })

  it('meshes over /memory/ addresses', () => {
    console.info(`memory testnet: settled=${net.report.settled} in ${Math.round(net.report.elapsedMs)} ms`)
    expect(net.report.settled).toBe(true)
    expect(net.report.routingTableSizes).toEqual([3, 3, 3, 3])
    for (const node of net.nodes) expect(node.multiaddrs[0]).toMatch(/^\/memory\/[^/]+\/p2p\/12D3KooW/)
  })

  it('dht.put on one node, dht.get on another', async () => {
    const [a, , , d] = net.nodes
    const value = new TextEncoder().encode('over the memory transport')
    const put = await a?.ask({ type: 'dht.put', key: '/swarmbus/memory/k', value }, { timeoutMs: 10_000 })
    expect(put?.peers).toBeGreaterThanOrEqual(1)
    const got = await d?.ask({ type: 'dht.get', key: '/swarmbus/memory/k' }, { timeoutMs: 10_000 })
    expect(new Uint8Array(got?.value ?? [])).toEqual(value)
    expect(net.nodes.map(n => n.peerId)).toContain(got?.from)
  })

  it('provide / findProviders across nodes', async () => {
    const [, b, c] = net.nodes
    const cid = 'bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom'
    await b?.ask({ type: 'dht.provide', cid }, { timeoutMs: 10_000 })
    const found = await collect(c!.stream({ type: 'dht.findProviders', cid, limit: 3 }, { timeoutMs: 10_000 }))
    expect(found.map(p => p.peerId)).toContain(b?.peerId)
    const q = await quiet(c!)
    expect(q.pendingQueries).toBe(0)
  })
})

describe('a directory repo', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmbus-repo-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps its peer id (and its DHT records) across a restart; a second process cannot open it meanwhile', async () => {
    const repo = join(dir, 'node')
    const first = await createNode({ repo, loopback: true })
    const id = first.peerId
    try {
      // a lone node's put reaches no peer, but kad-dht stored the record locally first
      const put = await first.ask({ type: 'dht.put', key: '/swarmbus/repo/k', value: new Uint8Array([4, 2]) }, { timeoutMs: 5_000 }).catch((e: unknown) => e as Error)
      expect(put instanceof Error && put.name).toBe('FailedError')
      await expect(createNode({ repo, loopback: true })).rejects.toThrow(/cannot open the repo/)
    } finally {
      await first.stop()
    }

    // a seed does not override the identity already in the repo
    const second = await createNode({ repo, loopback: true, seed: 1 })
    try {
      expect(second.peerId).toBe(id)
      expect((await status(second)).peerId).toBe(id)
      const got = await second.ask({ type: 'dht.get', key: '/swarmbus/repo/k' }, { timeoutMs: 5_000 })
      expect(new Uint8Array(got.value)).toEqual(new Uint8Array([4, 2]))
      expect(got.from).toBe(id)
    } finally {
      await second.stop()
    }

    // a different directory is a different identity
    const other = await createNode({ repo: join(dir, 'other'), loopback: true })
    try {
      expect(other.peerId).not.toBe(id)
    } finally {
      await other.stop()
    }
  })
})
