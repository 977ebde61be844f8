/**
 * DNSLink through a real node: createNode({ dns: { servers } }) pointed at a
 * DNS server on 127.0.0.1, asked through node.ask; its trace replays with
 * the answers taken from the recording (no DNS server then).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNode } from '../../../src/node/create-node.js'
import { replayNodeTraceFile } from '../../../src/node/replay-node.js'
import { parseTrace } from '../../../src/actors/runtime/trace-recorder.js'
import { startDnsServer } from '../../helpers/dns-server.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { TestDnsServer } from '../../helpers/dns-server.js'

const CID = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function node (options: Parameters<typeof createNode>[0]): Promise<SwarmNode> {
  const n = await createNode({ transport: 'memory', verifier: 'inline', republish: false, ...options })
  cleanups.push(async () => { await n.stop() })
  return n
}

/** a DNS server on 127.0.0.1 and a trace file in a temp dir, both gone after the test */
async function dnsAndTrace (): Promise<{ dns: TestDnsServer, trace: string }> {
  const dns = await startDnsServer()
  cleanups.push(async () => { await dns.close() })
  const dir = await mkdtemp(join(tmpdir(), 'swarmbus-dnslink-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  return { dns, trace: join(dir, 'trace.jsonl') }
}

describe('dnslink.resolve on a node', () => {
  it('resolves, caches and fails through node.ask, and the trace replays identically', async () => {
    const { dns, trace } = await dnsAndTrace()
    dns.setTxt('_dnslink.site.test', ['v=spf1 -all', `dnslink=/ipfs/${CID}/www`], 45)
    dns.setTxt('legacy.test', [`dnslink=/ipfs/${CID}`])

    // over plain UDP the answer carries the record's TTL (45 s), not the default
    const n = await node({ dns: { servers: [dns.server], ttlMs: 120_000 }, trace })
    expect(await n.ask({ type: 'dnslink.resolve', domain: 'site.test' })).toEqual({ value: `/ipfs/${CID}/www`, ttlMs: 45_000, source: 'dns', from: '_dnslink.site.test' })
    expect((await n.ask({ type: 'dnslink.resolve', domain: 'site.test' })).source).toBe('cache')
    expect((await n.ask({ type: 'dnslink.resolve', domain: 'legacy.test' })).from).toBe('legacy.test')
    await expect(n.ask({ type: 'dnslink.resolve', domain: 'nowhere.test' })).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(n.ask({ type: 'dnslink.resolve', domain: 'not a domain' })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'domain' })
    dns.mode = 'silent'
    await expect(n.ask({ type: 'dnslink.resolve', domain: 'slow.test' }, { timeoutMs: 300 })).rejects.toMatchObject({ name: 'TimeoutError' })
    const status = n.system.status().actors.find(a => a.name === 'dnslink')
    expect(status?.detail).toMatchObject({ cached: 2, hits: 1, lookups: 0 })
    await n.stop()

    // the DNS answers are recorded inputs (replay feeds them; it asks no DNS server)
    const { events } = parseTrace(await readFile(trace, 'utf8'))
    const answers = events.filter(e => e.dir === 'in' && e.type === 'external' && e.actor === 'dnslink')
    // site, legacy ×2 (_dnslink. then bare), nowhere ×2, and slow's timeout unless the node stopped first
    expect(answers.length).toBeGreaterThanOrEqual(5)
    const report = await replayNodeTraceFile(trace)
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.header.config).toMatchObject({ dnslink: { ttlMs: 120_000 } })
    expect(report.header.config.actors).toContain('dnslink')
  })

  it('over DNS-over-HTTPS the reply carries the record\'s TTL, the trace records it, and the replay gives the same', async () => {
    const { dns, trace } = await dnsAndTrace()
    dns.setTxt('_dnslink.doh.test', [`dnslink=/ipfs/${CID}`], 90)
    const n = await node({ dns: { servers: [dns.doh], minTtlMs: 1_000 }, trace })
    expect(await n.ask({ type: 'dnslink.resolve', domain: 'doh.test' })).toEqual({ value: `/ipfs/${CID}`, ttlMs: 90_000, source: 'dns', from: '_dnslink.doh.test' })
    const hit = await n.ask({ type: 'dnslink.resolve', domain: 'doh.test' })
    expect(hit.source).toBe('cache')
    expect(hit.ttlMs).toBeLessThanOrEqual(90_000)
    await n.stop()
    const { events } = parseTrace(await readFile(trace, 'utf8'))
    expect(JSON.stringify(events.filter(e => e.dir === 'in' && e.type === 'external' && e.actor === 'dnslink'))).toContain('"ttlMs":90000')
    const report = await replayNodeTraceFile(trace)
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.header.config).toMatchObject({ dnslink: { minTtlMs: 1_000 } })
  })

  it('refuses a malformed DNS server address or setting when the node is created', async () => {
    await expect(createNode({ transport: 'memory', verifier: 'inline', dns: { servers: ['not an address'] } })).rejects.toThrow()
    await expect(createNode({ transport: 'memory', verifier: 'inline', dns: { ttlMs: -1 } })).rejects.toThrow(RangeError)
  })
})
