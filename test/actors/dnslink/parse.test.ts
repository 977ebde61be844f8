/** The pure parts of DNSLink: domain checks, record selection, lookup timing plan. (The cache is the actor's: dnslink-actor.test.ts.) */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { checkDomain, parseDnsLinkRecord, selectDnsLink } from '../../../src/actors/dnslink/parse.js'
import { lookupPlan } from '../../../src/actors/dnslink/dns-ops.js'

const CID_A = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'
const CID_B = 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR'
const KEY = 'k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8'

describe('checkDomain', () => {
  it('normalises what it accepts', () => {
    expect(checkDomain('Example.COM.')).toEqual({ ok: true, domain: 'example.com' })
    expect(checkDomain('_dnslink.docs.example.com')).toEqual({ ok: true, domain: 'docs.example.com' })
    expect(checkDomain('xn--bcher-kva.example')).toEqual({ ok: true, domain: 'xn--bcher-kva.example' })
    expect(checkDomain('a_b.example-1.org')).toEqual({ ok: true, domain: 'a_b.example-1.org' })
    expect(checkDomain(`${'a'.repeat(63)}.test`).ok).toBe(true)
  })

  it('refuses what is no DNSLink domain, with a reason', () => {
    for (const d of ['', '.', 'localhost', '_dnslink.com', 'a..b', '.a.b', '-a.b', 'a-.b', 'a b.c', 'a/b.c', 'bücher.de', '10.0.0.1',
      `${'a'.repeat(64)}.test`, `${'a.'.repeat(122)}test`, 1, null, {}]) {
      const r = checkDomain(d)
      expect([d, r.ok]).toEqual([d, false])
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0)
    }
    // _dnslink. + the longest accepted domain fits a DNS name
    const longest = `${'abcdefghi.'.repeat(24)}abcd`
    expect(longest.length).toBe(244)
    expect(checkDomain(longest).ok).toBe(true)
    expect(checkDomain(`a${longest}`).ok).toBe(false)
  })
})

describe('DNSLink records', () => {
  it('parses /ipfs/ and /ipns/ links, with paths, and ignores everything else', () => {
    expect(parseDnsLinkRecord(`dnslink=/ipfs/${CID_A}`)).toBe(`/ipfs/${CID_A}`)
    expect(parseDnsLinkRecord(`dnslink=/ipfs/${CID_B}/a/b.html`)).toBe(`/ipfs/${CID_B}/a/b.html`)
    expect(parseDnsLinkRecord(`dnslink=/ipns/${KEY}`)).toBe(`/ipns/${KEY}`)
    expect(parseDnsLinkRecord('dnslink=/ipns/example.com/x')).toBe('/ipns/example.com/x')
    expect(parseDnsLinkRecord(`dnslink= /ipfs/${CID_A} `)).toBe(`/ipfs/${CID_A}`)
    for (const txt of ['', 'v=spf1 -all', `DNSLINK=/ipfs/${CID_A}`, `dnslink /ipfs/${CID_A}`, `dnslink=ipfs/${CID_A}`, `dnslink=${CID_A}`,
      'dnslink=/ipfs/', 'dnslink=/ipfs/nope', 'dnslink=/ipns/', 'dnslink=/ipns/not a name', 'dnslink=/hyper/abc', 'dnslink=/dnslink/example.com',
      `dnslink=/ipfs/${CID_A}/ä`, `dnslink=/ipfs/${CID_A}/a\tb`, `dnslink=/ipfs/${CID_A}/${'x'.repeat(5000)}`]) {
      expect([txt, parseDnsLinkRecord(txt)]).toEqual([txt, undefined])
    }
  })

  it('selects the smallest valid link, independent of the order the records came in', () => {
    const records = ['v=spf1', `dnslink=/ipns/${KEY}`, 'dnslink=/ipfs/bad', `dnslink=/ipfs/${CID_A}`, `dnslink=/ipfs/${CID_A}`, 'dnslink=/foo/bar']
    expect(selectDnsLink(records)).toBe(`/ipfs/${CID_A}`)
    expect(selectDnsLink([])).toBeUndefined()
    expect(selectDnsLink(['dnslink=/foo/bar', 'hello'])).toBeUndefined()
    fc.assert(fc.property(fc.shuffledSubarray(records, { minLength: 1 }), subset => {
      const a = selectDnsLink(subset)
      expect(selectDnsLink([...subset].reverse())).toBe(a)
    }))
  })
})

describe('lookupPlan', () => {
  it('fits the latest end of every try (timeout + min(timeout, 1 s) each) into the budget', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 1, max: 4 }), (budget, servers) => {
      const plan = lookupPlan(budget, servers)
      if (plan === undefined) {
        expect(budget).toBeLessThan(20 * servers)
        return
      }
      expect(plan.timeoutMs).toBeGreaterThanOrEqual(1)
      expect(plan.timeoutMs).toBeLessThanOrEqual(5_000)
      expect(plan.tries).toBeGreaterThanOrEqual(1)
      const worst = servers * plan.tries * (plan.timeoutMs + Math.min(plan.timeoutMs, 1_000))
      expect(worst).toBeLessThanOrEqual(budget)
    }))
    // with time to spare, a lost UDP packet gets retransmitted
    expect(lookupPlan(30_000, 1)).toEqual({ timeoutMs: 5_000, tries: 3 })
    expect(lookupPlan(1_000, 1)).toEqual({ timeoutMs: 475, tries: 1 })
  })
})
