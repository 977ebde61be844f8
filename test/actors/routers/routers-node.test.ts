/**
 * The routers actor on a real node: createNode({ routers: { endpoints } })
 * pointed at local Routing V1 servers, asked through node.ask / node.stream;
 * its counters in swarm.status; its trace replays identically with the
 * endpoints' answers taken from the recording (no server then).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../../src/node/create-node.js'
import { replayNodeTraceFile } from '../../../src/node/replay-node.js'
import { startRoutingV1Server } from '../../helpers/routing-v1-server.js'
import { waitUntilQuiet } from '../../helpers/live-scenario.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (options: Parameters<typeof createNode>[0]): Promise<SwarmNode> {
  const n = await createNode({ transport: 'memory', verifier: 'inline', republish: false, ...options })
  cleanups.push(async () => { await n.stop() })
  return n
}

describe('routers on a node', () => {
  it('puts and gets its own record through the endpoints, reports them in swarm.status, and replays', async () => {
    const good = await startRoutingV1Server()
    const down = await startRoutingV1Server({ behaviour: { status: 503 } })
    cleanups.push(async () => { await good.close() }, async () => { await down.close() })
    const dir = await mkdtemp(join(tmpdir(), 'swarmbus-routers-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const trace = join(dir, 'trace.jsonl')
    const n = await node({ routers: { endpoints: [good.url, down.url], timeoutMs: 2_000, retries: 1, backoffMs: 10 }, trace })

    const created = await n.ask({ type: 'record.create', value: '/ipfs/bafkqaaa', sequence: 4 })
    const put = await n.ask({ type: 'routers.putIpns', name: created.name, record: created.record })
    expect(put.accepted).toBe(1)
    expect(put.outcomes).toEqual([
      { endpoint: good.url, ok: true, attempts: 1 },
      // a PUT's 503 is not told apart by the client from a refusal: not retried
      expect.objectContaining({ endpoint: down.url, ok: false, kind: 'failed', attempts: 1 })
    ])
    const got = await n.ask({ type: 'routers.getIpns', name: created.name })
    expect(got).toMatchObject({ name: created.name, endpoint: good.url, sequence: 4n, value: '/ipfs/bafkqaaa' })
    expect(await collectAll(n.stream({ type: 'routers.findProviders', cid: CID_A }))).toEqual([])

    const status = await n.ask({ type: 'swarm.status' })
    expect(status.routers?.endpoints.map(e => e.endpoint)).toEqual([good.url, down.url])
    expect(status.routers?.endpoints[0]).toMatchObject({ breaker: 'closed', ok: 3, errors: 0 })
    // the 503 endpoint: put (1) + get (1, its retry dropped once the good one answered, or 2) + providers (2 tries: a stream waits for every endpoint)
    const bad = status.routers?.endpoints[1]
    expect(bad?.requests).toBeGreaterThanOrEqual(4)
    expect(bad?.retries).toBeGreaterThanOrEqual(1)
    expect(bad?.errors).toBe(bad?.requests)
    expect(await waitUntilQuiet(n)).toBe(true)
    await n.stop()

    const report = await replayNodeTraceFile(trace)
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.header.config.actors).toContain('routers')
    expect(report.header.config).toMatchObject({ routers: { endpoints: [good.url, down.url], timeoutMs: 2_000 } })
  })

  it('an IPNS publish and resolve through the routers (the composite router) replay identically', async () => {
    const srv = await startRoutingV1Server()
    cleanups.push(async () => { await srv.close() })
    const dir = await mkdtemp(join(tmpdir(), 'swarmbus-routers-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const trace = join(dir, 'trace.jsonl')
    const n = await node({ routers: { endpoints: [srv.url], settleMs: 50 }, trace })
    const pub = await n.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa' })
    expect(pub.routers).toEqual([{ endpoint: srv.url, ok: true, attempts: 1 }])
    const got = await n.ask({ type: 'ipns.resolve', name: pub.name, nocache: true })
    // a lone node: its own DHT copy is the DHT's answer, the router's the same bytes
    expect(got).toMatchObject({ sequence: 0n, value: '/ipfs/bafkqaaa' })
    // the resolve's store write runs on after its answer: a completion cut by stop would replay otherwise
    expect(await waitUntilQuiet(n)).toBe(true)
    await n.stop()
    const report = await replayNodeTraceFile(trace)
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.header.config).toMatchObject({ ipns: { routers: { settleMs: 50 } } })
  })

  it('has no routers actor without endpoints, and refuses a malformed endpoint', async () => {
    const n = await node({})
    await expect(n.ask({ type: 'routers.status' })).rejects.toThrow()
    expect((await n.ask({ type: 'swarm.status' })).routers).toBeUndefined()
    await expect(createNode({ transport: 'memory', verifier: 'inline', routers: { endpoints: ['not a url'] } })).rejects.toThrow()
    await expect(createNode({ transport: 'memory', verifier: 'inline', routers: { endpoints: ['ftp://127.0.0.1/'] } })).rejects.toThrow(RangeError)
    await expect(createNode({ transport: 'memory', verifier: 'inline', routers: { endpoints: ['http://127.0.0.1:1'], timeoutMs: -1 } })).rejects.toThrow(RangeError)
  })
})

async function collectAll<T> (it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
