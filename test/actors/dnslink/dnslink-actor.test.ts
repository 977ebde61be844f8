/**
 * The DNSLink actor against a real DNS server on 127.0.0.1 (test/helpers/
 * dns-server.ts), over UDP: the actor on a bare ActorSystem with the
 * live DnsOps, so every answer here crossed a UDP socket.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { dnslinkActor } from '../../../src/actors/dnslink/dnslink-actor.js'
import { nodeDnsOps } from '../../../src/actors/dnslink/dns-ops.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { SimulatedClock } from '../../../src/actors/runtime/clock.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import { startDnsServer } from '../../helpers/dns-server.js'
import type { DnsLinkSettings } from '../../../src/actors/dnslink/dnslink-actor.js'
import type { DnsOps } from '../../../src/actors/dnslink/dns-ops.js'
import type { Clock, TimerId } from '../../../src/actors/runtime/clock.js'
import type { TestDnsServer } from '../../helpers/dns-server.js'

const CID_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const CID_B = 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR'
const KEY = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'

/** real time plus an offset the test can move forward (cache expiry without waiting) */
class ShiftedClock implements Clock {
  private readonly real = new RealClock()
  offset = 0
  now (): number { return this.real.now() + this.offset }
  wall (): number { return this.real.wall() + this.offset }
  setTimer (at: number, fn: () => void): TimerId { return this.real.setTimer(at - this.offset, fn) }
  clearTimer (id: TimerId): void { this.real.clearTimer(id) }
}

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function setup (settings: DnsLinkSettings & { ops?: DnsOps, servers?: string[], doh?: boolean } = {}): Promise<{ dns: TestDnsServer, system: ActorSystem, clock: ShiftedClock }> {
  const dns = await startDnsServer()
  cleanups.push(async () => { await dns.close() })
  const clock = new ShiftedClock()
  const system = new ActorSystem({ clock, defaultTimeoutMs: 5_000 })
  cleanups.push(async () => { await system.stop() })
  const { ops, servers, doh, ...rest } = settings
  system.spawn(dnslinkActor({ ops: ops ?? nodeDnsOps({ servers: servers ?? [doh === true ? dns.doh : dns.server] }), ...rest }))
  return { dns, system, clock }
}

async function errorOf (p: Promise<unknown>): Promise<Error & { field?: string }> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a failure, got a reply')
}

describe('dnslink.resolve against a DNS server on 127.0.0.1', () => {
  it('resolves dnslink=/ipfs/… from _dnslink.<domain>, and /ipns/… with a path', async () => {
    const { dns, system } = await setup()
    dns.setTxt('_dnslink.example.test', [`dnslink=/ipfs/${CID_A}`])
    dns.setTxt('_dnslink.docs.example.test', [`dnslink=/ipns/${KEY}/guide/index.html`])
    dns.setTxt('_dnslink.alias.example.test', ['dnslink=/ipns/example.test/sub'])

    expect(await system.ask({ type: 'dnslink.resolve', domain: 'example.test' }))
      .toEqual({ value: `/ipfs/${CID_A}`, ttlMs: 60_000, source: 'dns', from: '_dnslink.example.test' })
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'docs.example.test' }))
      .toMatchObject({ value: `/ipns/${KEY}/guide/index.html`, source: 'dns' })
    // an /ipns/ link to another domain is handed back as is: following it is the IPNS resolver's hop
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'alias.example.test' })).value).toBe('/ipns/example.test/sub')
    // the lookups went to the _dnslink. names as absolute names, TXT only
    expect(dns.queries).toEqual([
      { name: '_dnslink.example.test', type: 'TXT' },
      { name: '_dnslink.docs.example.test', type: 'TXT' },
      { name: '_dnslink.alias.example.test', type: 'TXT' }
    ])
  })

  it('normalises the domain: case, trailing dot and a leading _dnslink. all reach one cache entry', async () => {
    const { dns, system } = await setup()
    dns.setTxt('_dnslink.example.test', [`dnslink=/ipfs/${CID_A}`])
    const a = await system.ask({ type: 'dnslink.resolve', domain: 'Example.TEST.' })
    const b = await system.ask({ type: 'dnslink.resolve', domain: '_dnslink.example.test' })
    expect(a.source).toBe('dns')
    expect(b).toMatchObject({ source: 'cache', value: `/ipfs/${CID_A}` })
    expect(dns.count('_dnslink.example.test')).toBe(1)
  })

  it('with several TXT records, ignores the non-DNSLink and invalid ones and picks the smallest valid link, whatever the order', async () => {
    const { dns, system } = await setup()
    const records = [
      'v=spf1 -all',
      'google-site-verification=abc',
      'dnslink=/hyper/0123456789abcdef',
      'dnslink=/ipfs/not-a-cid',
      'dnslink=/ipfs/',
      'dnslink=ipfs/' + CID_A,
      `dnslink=/ipns/${KEY}`,
      `dnslink=/ipfs/${CID_B}`,
      `dnslink=/ipfs/${CID_A}/b`,
      `dnslink=/ipfs/${CID_A}/a`
    ]
    dns.setTxt('_dnslink.multi.test', records)
    // '/ipfs/Qm…' < '/ipfs/bafy…' < '/ipns/…' by code unit
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'multi.test' })).value).toBe(`/ipfs/${CID_B}`)
    dns.setTxt('_dnslink.multi.test', [...records].reverse().filter(r => !r.includes(CID_B)))
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'multi.test', nocache: true })).value).toBe(`/ipfs/${CID_A}/a`)
    dns.setTxt('_dnslink.multi.test', ['dnslink=/hyper/x', `dnslink=/ipns/${KEY}`, 'dnslink=/ipfs/bad'])
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'multi.test', nocache: true })).value).toBe(`/ipns/${KEY}`)
  })

  it('joins a record the server sends as several character-strings (longer than 255 bytes)', async () => {
    const { dns, system } = await setup()
    const path = '/' + 'd'.repeat(300)
    dns.setTxt('_dnslink.long.test', [`dnslink=/ipfs/${CID_A}${path}`])
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'long.test' })).value).toBe(`/ipfs/${CID_A}${path}`)
  })

  it('falls back to the bare domain when _dnslink.<domain> has no DNSLink, and prefers _dnslink. when both have one', async () => {
    const { dns, system } = await setup()
    dns.setTxt('bare.test', ['v=spf1 -all', `dnslink=/ipfs/${CID_A}`])
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'bare.test' })).toMatchObject({ value: `/ipfs/${CID_A}`, from: 'bare.test' })
    expect(dns.queries.map(q => q.name)).toEqual(['_dnslink.bare.test', 'bare.test'])

    // _dnslink. exists but holds no DNSLink: still falls back
    dns.setTxt('_dnslink.other.test', ['hello'])
    dns.setTxt('other.test', [`dnslink=/ipns/${KEY}`])
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'other.test' })).from).toBe('other.test')

    dns.setTxt('_dnslink.both.test', [`dnslink=/ipfs/${CID_B}`])
    dns.setTxt('both.test', [`dnslink=/ipfs/${CID_A}`])
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'both.test' })).toMatchObject({ value: `/ipfs/${CID_B}`, from: '_dnslink.both.test' })
    expect(dns.count('both.test')).toBe(0)
  })

  it('does not fall back when bareDomainFallback is false (as Kubo)', async () => {
    const { dns, system } = await setup({ bareDomainFallback: false })
    dns.setTxt('bare.test', [`dnslink=/ipfs/${CID_A}`])
    const err = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'bare.test' }))
    expect(err.name).toBe('NotFoundError')
    expect(dns.count('bare.test')).toBe(0)
  })

  it('fails with NotFoundError for NXDOMAIN, for a name with no TXT records, and for TXT records without a DNSLink', async () => {
    const { dns, system } = await setup()
    const nx = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'missing.test' }))
    expect(nx.name).toBe('NotFoundError')
    expect(nx.message).toContain('_dnslink.missing.test')
    expect(dns.queries.map(q => q.name)).toEqual(['_dnslink.missing.test', 'missing.test'])

    dns.setTxt('_dnslink.empty.test', [])
    dns.setTxt('empty.test', [])
    expect((await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'empty.test' }))).name).toBe('NotFoundError')

    dns.setTxt('_dnslink.junk.test', ['dnslink=/ipfs/nope', 'dnslink=/foo/bar'])
    dns.setTxt('junk.test', ['v=spf1 -all'])
    expect((await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'junk.test' }))).name).toBe('NotFoundError')

    // a not-found answer is not cached: the record, once set, is found
    dns.setTxt('_dnslink.missing.test', [`dnslink=/ipfs/${CID_A}`])
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'missing.test' })).source).toBe('dns')
  })

  it('answers from the cache within the TTL and asks DNS again after it', async () => {
    const { dns, system, clock } = await setup()
    dns.setTxt('_dnslink.cache.test', [`dnslink=/ipfs/${CID_A}`], 30)
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'cache.test' })).toMatchObject({ source: 'dns', ttlMs: 30_000 })

    dns.setTxt('_dnslink.cache.test', [`dnslink=/ipfs/${CID_B}`], 30)
    clock.offset += 20_000
    const hit = await system.ask({ type: 'dnslink.resolve', domain: 'cache.test' })
    expect(hit).toMatchObject({ source: 'cache', value: `/ipfs/${CID_A}` })
    expect(hit.ttlMs).toBeGreaterThan(9_000)
    expect(hit.ttlMs).toBeLessThanOrEqual(10_000)
    expect(dns.count('_dnslink.cache.test')).toBe(1)

    // nocache asks DNS, and its answer refreshes the cache
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'cache.test', nocache: true })).toMatchObject({ source: 'dns', value: `/ipfs/${CID_B}` })
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'cache.test' })).toMatchObject({ source: 'cache', value: `/ipfs/${CID_B}` })
    expect(dns.count('_dnslink.cache.test')).toBe(2)

    dns.setTxt('_dnslink.cache.test', [`dnslink=/ipns/${KEY}`], 30)
    clock.offset += 30_001
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'cache.test' })).toMatchObject({ source: 'dns', value: `/ipns/${KEY}` })
    expect(dns.count('_dnslink.cache.test')).toBe(3)
  })

  it('offline: answers from the cache only, and never asks DNS (NotFoundError when it is not cached)', async () => {
    const { dns, system } = await setup()
    dns.setTxt('_dnslink.off.test', [`dnslink=/ipfs/${CID_A}`], 30)
    const missing = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'off.test', offline: true }))
    expect(missing.name).toBe('NotFoundError')
    expect(missing.message).toContain('offline')
    expect(dns.count('_dnslink.off.test')).toBe(0)
    await system.ask({ type: 'dnslink.resolve', domain: 'off.test' })
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'off.test', offline: true })).toMatchObject({ source: 'cache', value: `/ipfs/${CID_A}` })
    expect(dns.count('_dnslink.off.test')).toBe(1)
    expect((await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'off.test', offline: 'yes' } as never))).name).toBe('InvalidCommandError')
  })

  it('keeps the cache bounded (least recently used goes first) and caches nothing with a TTL of 0', async () => {
    const { dns, system } = await setup({ cacheSize: 2 })
    for (const d of ['a.test', 'b.test', 'c.test']) dns.setTxt(`_dnslink.${d}`, [`dnslink=/ipfs/${CID_A}`])
    await system.ask({ type: 'dnslink.resolve', domain: 'a.test' })
    await system.ask({ type: 'dnslink.resolve', domain: 'b.test' })
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'a.test' })).source).toBe('cache') // a is now the most recent
    await system.ask({ type: 'dnslink.resolve', domain: 'c.test' }) // evicts b
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'a.test' })).source).toBe('cache')
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'b.test' })).source).toBe('dns')
    expect(system.status().actors.find(a => a.name === 'dnslink')?.detail).toMatchObject({ cached: 2 })

    // a record's TTL of 0 over plain UDP, and a default of 0 for an answer without one
    dns.setTxt('_dnslink.zero.test', [`dnslink=/ipfs/${CID_A}`], 0)
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'zero.test' })).toMatchObject({ source: 'dns', ttlMs: 0 })
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'zero.test' })).source).toBe('dns')
    const noTtl = nodeDnsOps({ servers: [dns.server] })
    const { system: system0 } = await setup({ ttlMs: 0, ops: { lookupTxt: async (name, o) => ({ records: (await noTtl.lookupTxt(name, o)).records }) } })
    expect(await system0.ask({ type: 'dnslink.resolve', domain: 'a.test' })).toMatchObject({ source: 'dns', ttlMs: 0 })
    expect((await system0.ask({ type: 'dnslink.resolve', domain: 'a.test' })).source).toBe('dns')
  })

  it('over DNS-over-HTTPS a cache entry lives as long as its record\'s TTL says, on the simulated clock', async () => {
    const dns = await startDnsServer()
    cleanups.push(async () => { await dns.close() })
    const clock = new SimulatedClock(1_000_000)
    const system = new ActorSystem({ clock, defaultTimeoutMs: 5_000 })
    cleanups.push(async () => { await system.stop() })
    system.spawn(dnslinkActor({ ops: nodeDnsOps({ servers: [dns.doh] }), ttlMs: 60_000 }))
    dns.setTxt('_dnslink.ttl.test', [`dnslink=/ipfs/${CID_A}`], 7)
    const ask = async (): Promise<{ source: string, ttlMs: number, value: string }> => await system.ask({ type: 'dnslink.resolve', domain: 'ttl.test' })
    // the record says 7 s, not the 60 s default
    expect(await ask()).toMatchObject({ source: 'dns', ttlMs: 7_000 })
    dns.setTxt('_dnslink.ttl.test', [`dnslink=/ipfs/${CID_B}`], 3)
    clock.advance(6_999)
    expect(await ask()).toMatchObject({ source: 'cache', ttlMs: 1, value: `/ipfs/${CID_A}` })
    expect(dns.count('_dnslink.ttl.test')).toBe(1)
    // at received + TTL it is gone: DNS again, with the new record's TTL
    clock.advance(1)
    expect(await ask()).toMatchObject({ source: 'dns', ttlMs: 3_000, value: `/ipfs/${CID_B}` })
    clock.advance(2_999)
    expect((await ask()).source).toBe('cache')
    clock.advance(1)
    expect((await ask()).source).toBe('dns')
    expect(dns.count('_dnslink.ttl.test')).toBe(3)
    // a record's TTL of 0: not cached
    dns.setTxt('_dnslink.zero.test', [`dnslink=/ipfs/${CID_A}`], 0)
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'zero.test' })).toMatchObject({ source: 'dns', ttlMs: 0 })
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'zero.test' })).source).toBe('dns')
  })

  it('a cache entry does not outlive its TTL by the calendar: a sleep or a step forward ends it, a step backward does not stretch it', async () => {
    const dns = await startDnsServer()
    cleanups.push(async () => { await dns.close() })
    const clock = new SimulatedClock(1_000, Date.UTC(2026, 11, 3))
    const system = new ActorSystem({ clock, defaultTimeoutMs: 5_000 })
    cleanups.push(async () => { await system.stop() })
    system.spawn(dnslinkActor({ ops: nodeDnsOps({ servers: [dns.doh] }) }))
    dns.setTxt('_dnslink.sleep.test', [`dnslink=/ipfs/${CID_A}`], 60)
    const ask = async (): Promise<{ source: string, ttlMs: number }> => await system.ask({ type: 'dnslink.resolve', domain: 'sleep.test' })
    expect((await ask()).source).toBe('dns')
    expect((await ask()).source).toBe('cache')
    clock.sleep(3 * 3_600_000) // monotonic time stands still while the machine sleeps
    expect((await ask()).source).toBe('dns')
    clock.stepWall(61_000)
    expect((await ask()).source).toBe('dns')
    clock.stepWall(-3_600_000)
    clock.advance(30_000)
    expect(await ask()).toMatchObject({ source: 'cache', ttlMs: 30_000 })
    clock.advance(30_000)
    expect((await ask()).source).toBe('dns')
  })

  it('bounds a record\'s TTL by minTtlMs and maxTtlMs, over DoH and plain UDP; an answer without one gets the default', async () => {
    const bounds = { minTtlMs: 5_000, maxTtlMs: 600_000, ttlMs: 42_000 }
    const { dns, system, clock } = await setup({ ...bounds, doh: true })
    dns.setTxt('_dnslink.short.test', [`dnslink=/ipfs/${CID_A}`], 1)
    dns.setTxt('_dnslink.long.test', [`dnslink=/ipfs/${CID_A}`], 86_400)
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'short.test' })).toMatchObject({ source: 'dns', ttlMs: 5_000 })
    clock.offset += 4_000
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'short.test' })).source).toBe('cache')
    expect(await system.ask({ type: 'dnslink.resolve', domain: 'long.test' })).toMatchObject({ source: 'dns', ttlMs: 600_000 })
    // plain UDP: the record's TTL, bounded the same way
    const { dns: udp, system: plain } = await setup(bounds)
    udp.setTxt('_dnslink.long.test', [`dnslink=/ipfs/${CID_A}`], 86_400)
    expect(await plain.ask({ type: 'dnslink.resolve', domain: 'long.test' })).toMatchObject({ source: 'dns', ttlMs: 600_000 })
    // a lookup that knows no TTL (node:dns's own resolver, when the system names no server): the configured default
    const wire = nodeDnsOps({ servers: [udp.server] })
    const { system: blind } = await setup({ ...bounds, ops: { lookupTxt: async (name, o) => ({ records: (await wire.lookupTxt(name, o)).records }) } })
    expect(await blind.ask({ type: 'dnslink.resolve', domain: 'long.test' })).toMatchObject({ source: 'dns', ttlMs: 42_000 })
    expect(() => dnslinkActor({ ops: nodeDnsOps({ servers: [dns.doh] }), minTtlMs: 10, maxTtlMs: 5 })).toThrow(RangeError)
  })

  it('shares one DNS lookup among concurrent resolves of a domain', async () => {
    const { dns, system } = await setup()
    dns.setTxt('_dnslink.busy.test', [`dnslink=/ipfs/${CID_A}`])
    const replies = await Promise.all(Array.from({ length: 100 }, async () => await system.ask({ type: 'dnslink.resolve', domain: 'busy.test', nocache: true })))
    expect(new Set(replies.map(r => r.value))).toEqual(new Set([`/ipfs/${CID_A}`]))
    expect(dns.count('_dnslink.busy.test')).toBe(1)
  })

  it('fails with InvalidCommandError (field domain) before any DNS query', async () => {
    const { dns, system } = await setup()
    const bad: unknown[] = ['', 'localhost', 'com', '.', 'a..b', '-a.test', 'a-.test', 'exa mple.test', 'ex/ample.test', 'bücher.test',
      '127.0.0.1', `${'a'.repeat(64)}.test`, `${'abcdefghi.'.repeat(25)}test`, 42, null, undefined]
    for (const domain of bad) {
      const err = await errorOf(system.ask({ type: 'dnslink.resolve', domain } as { type: 'dnslink.resolve', domain: string }))
      expect([String(domain), err.name, err.field]).toEqual([String(domain), 'InvalidCommandError', 'domain'])
    }
    const nocache = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'a.test', nocache: 'yes' } as unknown as { type: 'dnslink.resolve', domain: string }))
    expect([nocache.name, nocache.field]).toEqual(['InvalidCommandError', 'nocache'])
    expect(dns.queries).toEqual([])
  })

  it('fails with FailedError when the server answers SERVFAIL or nothing listens on the port', async () => {
    const { dns, system } = await setup()
    dns.mode = 'servfail'
    const err = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'fail.test' }))
    expect(err.name).toBe('FailedError')
    expect(err.message).toContain('SERVFAIL')
    expect(dns.count('fail.test')).toBe(0) // a server failure is no "not found": no fallback

    const closed = await startDnsServer()
    const port = closed.server
    await closed.close()
    const { system: nobody } = await setup({ servers: [port] })
    const refused = await errorOf(nobody.ask({ type: 'dnslink.resolve', domain: 'fail.test' }, { timeoutMs: 2_000 }))
    expect(refused.name).toBe('FailedError')
    expect(refused.message).toContain('ECONNREFUSED')
  })

  for (const timeoutMs of [150, 400, 1_200]) {
    it(`fails with TimeoutError within the ask's deadline when the server never answers (${timeoutMs} ms)`, async () => {
      const { dns, system } = await setup()
      dns.mode = 'silent'
      const t0 = performance.now()
      const err = await errorOf(system.ask({ type: 'dnslink.resolve', domain: 'silent.test' }, { timeoutMs }))
      const elapsed = performance.now() - t0
      expect(err.name).toBe('TimeoutError')
      // the bound is the deadline (plus event-loop slack on a busy host)
      expect(elapsed).toBeLessThan(timeoutMs + 200)
      expect(dns.count('_dnslink.silent.test')).toBeGreaterThanOrEqual(1)
      // a timeout is no "not found": no fallback to the bare domain
      expect(dns.count('silent.test')).toBe(0)
    })
  }

  it('lookups at a plain server end with their own TimeoutError, naming the server, inside the time they are given', async () => {
    const dns = await startDnsServer()
    cleanups.push(async () => { await dns.close() })
    dns.mode = 'silent'
    const ops = nodeDnsOps({ servers: [dns.server] })
    const signal = new AbortController().signal
    await Promise.all([150, 400, 1_200, 2_500].map(async budget => {
      const t0 = performance.now()
      const err = await errorOf(ops.lookupTxt(`_dnslink.b${budget}.test`, { timeoutMs: budget, signal }))
      const elapsed = performance.now() - t0
      expect([budget, err.name]).toEqual([budget, 'TimeoutError'])
      expect(err.message).toContain(dns.server)
      expect(elapsed).toBeLessThan(budget + 100)
    }))
    // no time at all: fails at once without a query
    expect((await errorOf(ops.lookupTxt('_dnslink.none.test', { timeoutMs: 0, signal }))).name).toBe('TimeoutError')
    expect(dns.count('_dnslink.none.test')).toBe(0)
  })

  it('an ask that joined with a later deadline is not failed by the first asker\'s timeout: the lookup is tried again for it', async () => {
    const { dns, system } = await setup()
    dns.mode = 'silent'
    dns.setTxt('_dnslink.late.test', [`dnslink=/ipfs/${CID_A}`])
    const t0 = performance.now()
    const early = errorOf(system.ask({ type: 'dnslink.resolve', domain: 'late.test' }, { timeoutMs: 300 }))
    const late = system.ask({ type: 'dnslink.resolve', domain: 'late.test' }, { timeoutMs: 5_000 })
    // the first lookup's one try was dropped; the server answers from now on
    await new Promise(resolve => { setTimeout(resolve, 100) })
    dns.mode = 'answer'
    const err = await early
    expect(err.name).toBe('TimeoutError')
    expect(err.message).toContain('no answer')
    expect(await late).toMatchObject({ value: `/ipfs/${CID_A}`, source: 'dns' })
    expect(performance.now() - t0).toBeLessThan(2_000)
    expect(dns.queries.filter(q => q.name === '_dnslink.late.test')).toHaveLength(2)
  })

  it('cancels the lookup when every asker gave up (abort), and later asks still work', async () => {
    const { dns, system } = await setup()
    dns.mode = 'silent'
    const controller = new AbortController()
    const pending = errorOf(system.ask({ type: 'dnslink.resolve', domain: 'slow.test' }, { timeoutMs: 5_000, signal: controller.signal }))
    await new Promise(resolve => { setTimeout(resolve, 50) })
    controller.abort()
    expect((await pending).name).toBe('AbortError')
    expect(system.status().actors.find(a => a.name === 'dnslink')?.detail).toMatchObject({ lookups: 0 })
    dns.mode = 'answer'
    dns.setTxt('_dnslink.slow.test', [`dnslink=/ipfs/${CID_A}`])
    expect((await system.ask({ type: 'dnslink.resolve', domain: 'slow.test' })).source).toBe('dns')
  })
})
