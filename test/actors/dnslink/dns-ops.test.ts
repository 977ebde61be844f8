/**
 * nodeDnsOps against the real test DNS server on 127.0.0.1: DNS-over-HTTPS
 * (through @multiformats/dns) and plain UDP (src/platform/dns-wire.ts), both
 * with the answer's TTL, the servers tried in the order given.
 */
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeDnsOps, txtData } from '../../../src/actors/dnslink/dns-ops.js'
import { startDnsServer } from '../../helpers/dns-server.js'
import type { TestDnsServer } from '../../helpers/dns-server.js'

const LINK = 'dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function server (): Promise<TestDnsServer> {
  const dns = await startDnsServer()
  cleanups.push(async () => { await dns.close() })
  return dns
}

const opts = (ms = 3_000): { timeoutMs: number, signal: AbortSignal } => ({ timeoutMs: ms, signal: new AbortController().signal })

/** a loopback TCP port with nothing listening on it */
async function closedPort (): Promise<number> {
  const s = createServer()
  await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
  const { port } = s.address() as { port: number }
  await new Promise<void>(resolve => s.close(() => { resolve() }))
  return port
}

describe('nodeDnsOps over DNS-over-HTTPS', () => {
  it('returns the TXT records and the TTL the record carries', async () => {
    const dns = await server()
    dns.setTxt('_dnslink.ttl.test', [LINK, 'v=spf1 -all'], 17)
    const ops = nodeDnsOps({ servers: [dns.doh] })
    const answer = await ops.lookupTxt('_dnslink.ttl.test', opts())
    expect(answer.records.sort()).toEqual([LINK, 'v=spf1 -all'].sort())
    expect(answer.ttlMs).toBe(17_000)
    // a trailing dot is the same name
    expect((await ops.lookupTxt('_dnslink.ttl.test.', opts())).ttlMs).toBe(17_000)
    expect(dns.queries).toEqual([{ name: '_dnslink.ttl.test', type: 'TXT' }, { name: '_dnslink.ttl.test', type: 'TXT' }])
  })

  it('joins a record sent as several character-strings', async () => {
    const dns = await server()
    const long = `dnslink=/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/${'p'.repeat(400)}`
    dns.setTxt('_dnslink.long.test', [long], 5)
    expect((await nodeDnsOps({ servers: [dns.doh] }).lookupTxt('_dnslink.long.test', opts())).records).toEqual([long])
  })

  it('NXDOMAIN and a name without TXT records are NotFoundError', async () => {
    const dns = await server()
    dns.setTxt('_dnslink.empty.test', [])
    const ops = nodeDnsOps({ servers: [dns.doh] })
    await expect(ops.lookupTxt('_dnslink.nowhere.test', opts())).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(ops.lookupTxt('_dnslink.empty.test', opts())).rejects.toMatchObject({ name: 'NotFoundError' })
  })

  it('a server that never answers is ended by the signal (AbortError); nothing listening is FailedError with its cause', async () => {
    const dns = await server()
    dns.mode = 'silent'
    const abort = new AbortController()
    const pending = nodeDnsOps({ servers: [dns.doh] }).lookupTxt('_dnslink.silent.test', { timeoutMs: 3_000, signal: abort.signal })
    await new Promise(resolve => setTimeout(resolve, 50))
    abort.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })

    const url = `http://127.0.0.1:${await closedPort()}/dns-query`
    const err = await nodeDnsOps({ servers: [url] }).lookupTxt('_dnslink.x.test', opts()).then(() => new Error('answered'), (e: unknown) => e as Error)
    expect(err).toMatchObject({ name: 'FailedError' })
    expect(err.message).toContain(url)
    expect(err.cause).toBeInstanceOf(Error)
  })

  it('tries the servers in order: a failing DoH server, then plain UDP (with the TTL too); a not-found is final', async () => {
    const dns = await server()
    dns.setTxt('_dnslink.order.test', [LINK], 30)
    const down = `http://127.0.0.1:${await closedPort()}/dns-query`
    const answer = await nodeDnsOps({ servers: [down, dns.server] }).lookupTxt('_dnslink.order.test', opts())
    expect(answer).toEqual({ records: [LINK], ttlMs: 30_000 })
    // DoH first when it is listed first
    expect((await nodeDnsOps({ servers: [dns.doh, dns.server] }).lookupTxt('_dnslink.order.test', opts())).ttlMs).toBe(30_000)
    // NXDOMAIN from the first server: the second is not asked
    const other = await server()
    other.setTxt('_dnslink.only-other.test', [LINK])
    await expect(nodeDnsOps({ servers: [dns.doh, other.doh] }).lookupTxt('_dnslink.only-other.test', opts())).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(other.count('_dnslink.only-other.test')).toBe(0)
  })

  it('refuses a malformed URL or address at once', () => {
    expect(() => nodeDnsOps({ servers: ['https://'] })).toThrow(TypeError)
    expect(() => nodeDnsOps({ servers: ['not an address'] })).toThrow()
  })
})

describe('txtData', () => {
  it('joins wire-format character-strings and unquotes JSON-style text', () => {
    const enc = new TextEncoder()
    expect(txtData([enc.encode('dnslink='), enc.encode('/ipfs/x')])).toBe('dnslink=/ipfs/x')
    expect(txtData('"dnslink=" "/ipfs/x"')).toBe('dnslink=/ipfs/x')
    expect(txtData('"a \\"quoted\\" b"')).toBe('a "quoted" b')
    expect(txtData('bare')).toBe('bare')
  })
})
