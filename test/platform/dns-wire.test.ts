/**
 * The DNS wire client against the test DNS server on 127.0.0.1 (UDP and TCP)
 * and against hand-made UDP responders for what a server should never do.
 */
import { createSocket } from 'node:dgram'
import { afterEach, describe, expect, it } from 'vitest'
import { decode, encode } from 'dns-packet'
import { lookupWirePlan, parseWireServer, queryTxt, queryTxtUdp, WireQueryError } from '../../src/platform/dns-wire.js'
import { startDnsServer } from '../helpers/dns-server.js'
import type { TestDnsServer } from '../helpers/dns-server.js'
import type { Socket } from 'node:dgram'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function server (): Promise<TestDnsServer> {
  const dns = await startDnsServer()
  cleanups.push(async () => { await dns.close() })
  return dns
}

/** a UDP responder that answers each query with what `reply` makes of it */
async function responder (reply: (query: ReturnType<typeof decode>, send: (b: Buffer) => void) => void): Promise<{ port: number }> {
  const socket: Socket = createSocket('udp4')
  socket.on('message', (msg, rinfo) => { reply(decode(msg), b => socket.send(b, rinfo.port, rinfo.address)) })
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', () => { resolve() }))
  cleanups.push(async () => { await new Promise<void>(resolve => socket.close(() => { resolve() })) })
  return { port: socket.address().port }
}

const opts = (timeoutMs = 2_000): { timeoutMs: number, signal: AbortSignal } => ({ timeoutMs, signal: new AbortController().signal })
const txtOf = (answers: Array<{ type: string, data?: unknown }>): string[] => answers.filter(a => a.type === 'TXT').map(a => (a.data as Buffer[]).map(b => b.toString()).join(''))

describe('DNS over the wire (UDP, TCP on truncation)', () => {
  it('answers with the records and their TTLs over UDP; NXDOMAIN and SERVFAIL as response codes', async () => {
    const dns = await server()
    dns.setTxt('_dnslink.a.test', ['dnslink=/ipfs/x', 'other'], 17)
    const s = parseWireServer(dns.server)
    const ok = await queryTxt(s, '_dnslink.a.test', opts())
    expect(ok.rcode).toBe('NOERROR')
    expect(txtOf(ok.answers)).toEqual(['dnslink=/ipfs/x', 'other'])
    expect(ok.answers.map(a => a.type === 'OPT' ? undefined : a.ttl)).toEqual([17, 17])
    expect((await queryTxt(s, 'missing.test', opts())).rcode).toBe('NXDOMAIN')
    dns.mode = 'servfail'
    expect((await queryTxt(s, '_dnslink.a.test', opts())).rcode).toBe('SERVFAIL')
  })

  it('asks again over TCP when the UDP answer is truncated', async () => {
    const dns = await server()
    const long = 'x'.repeat(3_000)
    dns.setTxt('_dnslink.big.test', [long], 9)
    dns.truncateUdp = true
    const s = parseWireServer(dns.server)
    expect((await queryTxtUdp(s, '_dnslink.big.test', opts())).truncated).toBe(true)
    const full = await queryTxt(s, '_dnslink.big.test', opts())
    expect(txtOf(full.answers)).toEqual([long])
    expect(dns.count('_dnslink.big.test')).toBe(3) // UDP alone, then UDP and TCP
  })

  it('ignores a response with another id or to another question, and takes the right one after it', async () => {
    const r = await responder((q, send) => {
      const question = q.questions?.[0]
      if (question === undefined) return
      send(encode({ type: 'response', id: ((q.id ?? 0) + 1) % 65_536, questions: [question], answers: [{ type: 'TXT', name: question.name, ttl: 1, data: 'forged' }] }))
      send(encode({ type: 'response', id: q.id ?? 0, questions: [{ ...question, name: 'other.test' }], answers: [{ type: 'TXT', name: 'other.test', ttl: 1, data: 'forged' }] }))
      send(encode({ type: 'response', id: q.id ?? 0, questions: [question], answers: [{ type: 'TXT', name: question.name, ttl: 5, data: 'real' }] }))
    })
    const answer = await queryTxt({ host: '127.0.0.1', port: r.port }, 'a.test', opts())
    expect(txtOf(answer.answers)).toEqual(['real'])
  })

  it('ends a try at its timeout, at once when aborted, and reports nothing listening on TCP as a network error', async () => {
    const dns = await server()
    dns.mode = 'silent'
    const s = parseWireServer(dns.server)
    const t0 = performance.now()
    const late = await queryTxt(s, 'a.test', opts(120)).then(() => undefined, (e: unknown) => e)
    expect(late).toBeInstanceOf(WireQueryError)
    expect((late as WireQueryError).reason).toBe('timeout')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100)
    const abort = new AbortController()
    const pending = queryTxt(s, 'a.test', { timeoutMs: 5_000, signal: abort.signal })
    abort.abort()
    await expect(pending).rejects.toMatchObject({ reason: 'aborted' })
    // truncated over UDP, and then the TCP side is gone
    const r = await responder((q, send) => { send(encode({ type: 'response', id: q.id ?? 0, flags: 1 << 9, questions: q.questions ?? [], answers: [] })) })
    await expect(queryTxt({ host: '127.0.0.1', port: r.port }, 'a.test', opts())).rejects.toMatchObject({ reason: 'network' })
  })

  it('reads server addresses as node:dns does, and refuses anything else', () => {
    expect(parseWireServer('127.0.0.1')).toEqual({ host: '127.0.0.1', port: 53 })
    expect(parseWireServer('127.0.0.1:5353')).toEqual({ host: '127.0.0.1', port: 5353 })
    expect(parseWireServer('::1')).toEqual({ host: '::1', port: 53 })
    expect(parseWireServer('[::1]:5353')).toEqual({ host: '::1', port: 5353 })
    for (const bad of ['', 'dns.example', '127.0.0.1:0', '127.0.0.1:70000', '[::1]:x', '1.2.3']) expect(() => parseWireServer(bad)).toThrow(TypeError)
  })

  it('plans tries inside the budget: up to 3 of at most 5 s, split among the servers', () => {
    expect(lookupWirePlan(30_000, 1)).toEqual({ timeoutMs: 5_000, tries: 3 })
    expect(lookupWirePlan(3_000, 1)).toEqual({ timeoutMs: 1_425, tries: 2 })
    expect(lookupWirePlan(300, 2)).toEqual({ timeoutMs: 142, tries: 1 })
    expect(lookupWirePlan(5, 1)).toBeUndefined()
    for (const [budget, servers] of [[30_000, 1], [10_000, 3], [800, 2], [50, 1]] as const) {
      const plan = lookupWirePlan(budget, servers)
      if (plan !== undefined) expect(plan.timeoutMs * plan.tries * servers).toBeLessThan(budget)
    }
  })
})
