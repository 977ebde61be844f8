/**
 * The network guard (network-guard.ts, installed by vitest's setupFiles)
 * trips on each way out of the machine — a TCP connect, a UDP datagram, a
 * DNS lookup or query to a public server, fetch and http(s).request, a
 * libp2p dial — without anything leaving (192.0.2.1 is TEST-NET-1; this
 * machine reaches no public address anyway, and the guard refuses before
 * any packet), records each attempt (which would fail the test if it were
 * not taken here), and lets loopback through.
 */
import dgram from 'node:dgram'
import dns from 'node:dns'
import { Resolver } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { createNode } from '../../src/node/create-node.js'
import { guardedConnectionGater, isLocalHost, isLocalMultiaddr, NETWORK_GUARD_ENV } from '../../src/node/network-guard.js'
import { startDnsServer } from '../helpers/dns-server.js'
import { assertNoNetworkViolations, takeNetworkViolations } from './network-guard.js'
import type { NetworkViolation } from './network-guard.js'
import type { BootstrapError } from '../../src/messages/errors.js'

const PEER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function socketError (socket: net.Socket): Promise<Error> {
  return await new Promise(resolve => { socket.once('error', resolve) })
}

function kinds (vs: NetworkViolation[]): string[] {
  return vs.map(v => `${v.kind} ${v.target}`)
}

describe('the network guard', () => {
  it('is on under vitest', () => {
    expect(process.env[NETWORK_GUARD_ENV]).toBe('1')
  })

  it('refuses a TCP connect, a TLS connect and a UDP datagram to a public address', async () => {
    const err = await socketError(net.connect(4001, '192.0.2.1'))
    expect(err.name).toBe('NetworkGuardError')
    const tlsErr = await socketError(tls.connect({ host: '192.0.2.1', port: 443 }))
    expect(tlsErr.name).toBe('NetworkGuardError')
    const named = await socketError(net.connect({ host: 'example.com', port: 80 }))
    expect(named.name).toBe('NetworkGuardError')
    const udp = dgram.createSocket('udp4')
    const udpErr = await new Promise<Error | null>(resolve => { udp.send('x', 53, '192.0.2.1', resolve) })
    udp.close()
    expect(udpErr?.name).toBe('NetworkGuardError')
    expect(kinds(takeNetworkViolations())).toEqual(['tcp 192.0.2.1:4001', 'tcp 192.0.2.1:443', 'tcp example.com:80', 'udp 192.0.2.1'])
  })

  it('refuses DNS: a lookup of a public name, a query to a public server', async () => {
    await expect(dns.promises.lookup('example.com')).rejects.toThrow(/network guard/)
    const cbErr = await new Promise<Error | null>(resolve => { dns.lookup('example.com', err => { resolve(err) }) })
    expect(cbErr?.name).toBe('NetworkGuardError')
    const resolver = new Resolver()
    resolver.setServers(['192.0.2.1'])
    await expect(resolver.resolveTxt('example.com')).rejects.toThrow(/network guard/)
    const cbResolver = new dns.Resolver()
    cbResolver.setServers(['192.0.2.1:53'])
    const txtErr = await new Promise<Error | null>(resolve => { cbResolver.resolveTxt('example.com', err => { resolve(err) }) })
    expect(txtErr?.name).toBe('NetworkGuardError')
    expect(kinds(takeNetworkViolations())).toEqual([
      'dns example.com', 'dns example.com', 'dns example.com via 192.0.2.1', 'dns example.com via 192.0.2.1'
    ])
    // the module-level functions ask the default resolver's servers
    const saved = dns.getServers()
    dns.setServers(['192.0.2.1'])
    try {
      await expect(dns.promises.resolveTxt('example.com')).rejects.toThrow(/network guard/)
    } finally {
      dns.setServers(saved)
    }
    expect(kinds(takeNetworkViolations())).toEqual(['dns example.com via 192.0.2.1'])
  })

  it('refuses fetch and http(s).request to a public host', async () => {
    const err = await fetch('https://example.com/').then(() => undefined, (e: unknown) => e as Error)
    expect((err?.cause as Error | undefined)?.name).toBe('NetworkGuardError')
    for (const request of [() => http.get('http://example.com/'), () => https.request({ hostname: '192.0.2.1', port: 443 })]) {
      const req = request()
      const reqErr = await new Promise<Error>(resolve => { req.once('error', resolve) })
      expect(reqErr.name).toBe('NetworkGuardError')
    }
    expect(kinds(takeNetworkViolations())).toEqual(['http https://example.com/', 'http http://example.com', 'http https://192.0.2.1'])
  })

  it('refuses a libp2p dial to a public multiaddr (the connection gater createNode composes)', async () => {
    const node = await createNode({ verifier: 'inline', republish: false })
    cleanups.push(async () => { await node.stop() })
    await expect(node.ask({ type: 'swarm.dial', multiaddr: `/ip4/192.0.2.1/tcp/4001/p2p/${PEER}` })).rejects.toThrow()
    // refused by the gater, before any socket
    expect(kinds(takeNetworkViolations())).toEqual([`libp2p /ip4/192.0.2.1/tcp/4001/p2p/${PEER}`])
    const err = await createNode({ verifier: 'inline', republish: false, bootstrap: [`/ip4/192.0.2.1/tcp/4001/p2p/${PEER}`], bootstrapTimeoutMs: 5_000 })
      .then(() => undefined, (e: unknown) => e as BootstrapError)
    expect(err?.name).toBe('BootstrapError')
    expect(takeNetworkViolations().map(v => v.kind)).toContain('libp2p')
  })

  it('lets loopback through: TCP, HTTP, fetch, DNS on 127.0.0.1, libp2p between local nodes', async () => {
    const server = http.createServer((_req, res) => { res.end('ok') })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    cleanups.push(async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }) }) })
    const { port } = server.address() as net.AddressInfo
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok')
    expect(await (await fetch(`http://localhost:${port}/`)).text()).toBe('ok')
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`http://127.0.0.1:${port}/`, res => { let s = ''; res.on('data', (b: Buffer) => { s += b.toString() }); res.on('end', () => { resolve(s) }) }).on('error', reject)
    })
    expect(body).toBe('ok')
    expect((await dns.promises.lookup('localhost')).address).toMatch(/^(127\.|::1)/)

    const dnsServer = await startDnsServer()
    cleanups.push(async () => { await dnsServer.close() })
    dnsServer.setTxt('_dnslink.example.com', ['dnslink=/ipfs/bafkqaaa'])
    const resolver = new Resolver()
    resolver.setServers([dnsServer.server])
    expect(await resolver.resolveTxt('_dnslink.example.com')).toEqual([['dnslink=/ipfs/bafkqaaa']])

    const a = await createNode({ verifier: 'inline', republish: false, loopback: true })
    cleanups.push(async () => { await a.stop() })
    const b = await createNode({ verifier: 'inline', republish: false, loopback: true, bootstrap: a.multiaddrs })
    cleanups.push(async () => { await b.stop() })
    expect((await b.ask({ type: 'swarm.peers' })).peers.map(p => p.peerId)).toContain(a.peerId)
    expect(takeNetworkViolations()).toEqual([])
  })

  it('fails the test that made an attempt, even when the error was swallowed', async () => {
    net.connect(4001, '192.0.2.1').on('error', () => { /* swallowed on purpose: the record still holds it */ })
    await new Promise(resolve => setImmediate(resolve))
    expect(() => { assertNoNetworkViolations('this test') }).toThrow(/this test tried to reach outside 127\.0\.0\.0\/8 and ::1: tcp 192\.0\.2\.1:4001/)
    expect(takeNetworkViolations()).toEqual([])
  })

  it('knows local hosts and multiaddrs, and honours the allow list', () => {
    for (const h of ['127.0.0.1', '127.255.0.3', '::1', '[::1]', '::ffff:127.0.0.1', 'localhost', '0.0.0.0']) expect(isLocalHost(h), h).toBe(true)
    for (const h of ['192.0.2.1', '10.0.0.1', '::ffff:8.8.8.8', '2001:db8::1', 'example.com']) expect(isLocalHost(h), h).toBe(false)
    expect(isLocalHost('10.200.1.2', ['10.200.0.0/16'])).toBe(true)
    expect(isLocalHost('10.201.1.2', ['10.200.0.0/16'])).toBe(false)
    expect(isLocalHost('peer-ns', ['peer-ns'])).toBe(true)
    expect(isLocalMultiaddr(multiaddr('/memory/x'))).toBe(true)
    expect(isLocalMultiaddr(multiaddr('/ip6/::1/tcp/1'))).toBe(true)
    expect(isLocalMultiaddr(multiaddr('/dns4/localhost/tcp/1'))).toBe(true)
    expect(isLocalMultiaddr(multiaddr('/dnsaddr/bootstrap.libp2p.io'))).toBe(false)
    expect(isLocalMultiaddr(multiaddr('/ip4/104.131.131.82/tcp/4001'))).toBe(false)
  })

  it('composes with the caller\'s gater, and is off without the env flag', async () => {
    const seen: string[] = []
    const inner = { denyDialMultiaddr: async (ma: { toString: () => string }) => { seen.push(ma.toString()); return true } }
    const gater = guardedConnectionGater(inner, { [NETWORK_GUARD_ENV]: '1' })
    expect(await gater?.denyDialMultiaddr?.(multiaddr('/ip4/127.0.0.1/tcp/1'))).toBe(true)
    expect(seen).toEqual(['/ip4/127.0.0.1/tcp/1'])
    expect(await gater?.denyDialMultiaddr?.(multiaddr('/ip4/192.0.2.1/tcp/1'))).toBe(true)
    expect(seen).toHaveLength(1)
    expect(kinds(takeNetworkViolations())).toEqual(['libp2p /ip4/192.0.2.1/tcp/1'])
    expect(guardedConnectionGater(inner, {})).toBe(inner)
  })
})
