/**
 * Vitest setup file (vitest.config.ts `setupFiles`, so it runs in every test
 * worker before each test file): no test may reach anything outside this
 * machine. It patches, once per process:
 *
 * - TCP/TLS: `net.Socket.prototype.connect` (which `net.connect`,
 *   `net.createConnection`, `tls.connect`, `http(s).request` and undici's
 *   `fetch` all go through);
 * - UDP: `dgram.Socket.prototype.send` and `connect`;
 * - DNS: `dns.lookup`, `dns.promises.lookup`, and every query method of
 *   `dns.Resolver` / `dns.promises.Resolver` and the module-level ones bound
 *   to the default resolver, when a server they would ask is not local;
 * - HTTP: `globalThis.fetch`, `http(s).request` and `http(s).get`.
 *
 * Local means 127.0.0.0/8, ::1 (and ::ffff:127.x.x.x), 0.0.0.0 / :: (which
 * connect to this host), `localhost`, IPC paths, plus the hosts, addresses or
 * IPv4 CIDRs named in SWARMBUS_TEST_ALLOW_HOSTS (comma separated; for tests
 * in network namespaces). Anything else is refused without a packet being
 * sent: the call fails as an unreachable host would (an error event, a
 * rejected promise, a callback error), and the attempt is recorded; the
 * afterEach/afterAll hooks below then fail the test that made it, even when
 * the code under test swallowed the error.
 *
 * It also sets SWARMBUS_NETWORK_GUARD=1, which makes createNode compose a
 * libp2p connection gater refusing dials to non-local multiaddrs
 * (src/node/network-guard.ts); its refusals land in the same record.
 *
 * A test that trips a guard on purpose (network-guard.test.ts) takes the
 * record with takeNetworkViolations() before the hook looks.
 */
import dgram from 'node:dgram'
import dns from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import { isIP } from 'node:net'
import net from 'node:net'
import { syncBuiltinESMExports } from 'node:module'
import { promisify } from 'node:util'
import { afterAll, afterEach } from 'vitest'
import { guardAllowFromEnv, guardRegistry, isLocalHost, NETWORK_GUARD_ENV } from '../../src/node/network-guard.js'
import type { NetworkViolation } from '../../src/node/network-guard.js'

export type { NetworkViolation } from '../../src/node/network-guard.js'

const INSTALLED = Symbol.for('swarmbus.test-network-guard.installed')

export class NetworkGuardError extends Error {
  readonly code = 'ERR_NETWORK_GUARD'
  constructor (message: string) {
    super(message)
    this.name = 'NetworkGuardError'
  }
}

function allowed (host: string | undefined): boolean {
  return isLocalHost(host ?? 'localhost', guardAllowFromEnv())
}

/** records a refused attempt and returns the error the caller sees */
function refuse (kind: NetworkViolation['kind'], target: string): NetworkGuardError {
  guardRegistry().report({ kind, target })
  return new NetworkGuardError(`network guard: ${kind} to ${target} refused (tests reach only 127.0.0.0/8 and ::1)`)
}

/** the attempts recorded since the last call (and clears them) */
export function takeNetworkViolations (): NetworkViolation[] {
  return guardRegistry().take()
}

/** `host:port` of a DNS server as node:dns getServers() lists it → its host */
function serverHost (server: string): string {
  if (server.startsWith('[')) return server.slice(1, server.indexOf(']'))
  if (isIP(server) !== 0) return server
  const i = server.lastIndexOf(':')
  return i > 0 ? server.slice(0, i) : server
}

interface ConnectOpts { host?: string, port?: number | string, path?: string }

/** what net.Socket.prototype.connect is asked to reach, from any of its argument forms */
function connectTarget (args: unknown[]): ConnectOpts {
  let first = args[0]
  // net.connect passes its normalized [options, cb] array
  if (Array.isArray(first)) first = first[0]
  if (first !== null && typeof first === 'object') return first as ConnectOpts
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    return { port: first, ...(typeof args[1] === 'string' ? { host: args[1] } : {}) }
  }
  if (typeof first === 'string') return { path: first }
  return {}
}

function guardTcp (): void {
  const original = net.Socket.prototype.connect
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  net.Socket.prototype.connect = function guardedConnect (this: net.Socket, ...args: any[]): net.Socket {
    const target = connectTarget(args)
    if (target.path === undefined && !allowed(target.host)) {
      const err = refuse('tcp', `${target.host ?? 'localhost'}:${String(target.port)}`)
      process.nextTick(() => { this.destroy(err) })
      return this
    }
    return Reflect.apply(original, this, args) as net.Socket
  } as typeof original
}

function guardUdp (): void {
  const send = dgram.Socket.prototype.send
  const connect = dgram.Socket.prototype.connect
  const fail = (socket: dgram.Socket, err: Error, args: unknown[]): void => {
    const cb = args.findLast(a => typeof a === 'function') as ((e: Error) => void) | undefined
    process.nextTick(() => { if (cb !== undefined) cb(err); else socket.emit('error', err) })
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  dgram.Socket.prototype.send = function guardedSend (this: dgram.Socket, ...args: any[]): void {
    // send(msg[, offset, length][, port][, address][, cb]): the address is the one string argument after msg
    const address = args.slice(1).find(a => typeof a === 'string') as string | undefined
    if (address !== undefined && !allowed(address)) { fail(this, refuse('udp', address), args); return }
    Reflect.apply(send, this, args)
  } as typeof send
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  dgram.Socket.prototype.connect = function guardedConnect (this: dgram.Socket, ...args: any[]): void {
    const address = typeof args[1] === 'string' ? args[1] : undefined
    if (address !== undefined && !allowed(address)) { fail(this, refuse('udp', address), args); return }
    Reflect.apply(connect, this, args)
  } as typeof connect
}

const RESOLVE_METHODS = [
  'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCaa', 'resolveCname', 'resolveMx', 'resolveNaptr',
  'resolveNs', 'resolvePtr', 'resolveSoa', 'resolveSrv', 'resolveTxt', 'reverse'
] as const

function foreignServer (servers: string[]): string | undefined {
  return servers.find(s => !allowed(serverHost(s)))
}

function guardDns (): void {
  const lookup = dns.lookup
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const guardedLookup = function (this: unknown, ...args: any[]): unknown {
    const host = args[0] as string
    if (!allowed(host)) {
      const err = refuse('dns', host)
      const cb = args.findLast(a => typeof a === 'function') as ((e: Error) => void) | undefined
      process.nextTick(() => cb?.(err))
      return {}
    }
    return Reflect.apply(lookup, this, args)
  }
  // util.promisify(dns.lookup) keeps resolving to { address, family }
  const custom = (lookup as unknown as Record<symbol, unknown>)[promisify.custom]
  Object.defineProperty(guardedLookup, promisify.custom, { value: custom, configurable: true })
  Object.defineProperty(dns, 'lookup', { value: guardedLookup, writable: true, configurable: true, enumerable: true })
  const promiseLookup = dns.promises.lookup
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  dns.promises.lookup = async function (this: unknown, ...args: any[]): Promise<any> {
    const host = args[0] as string
    if (!allowed(host)) throw refuse('dns', host)
    return await Reflect.apply(promiseLookup, this, args)
  } as typeof promiseLookup

  for (const method of RESOLVE_METHODS) {
    // callback API: Resolver methods and the module-level ones (bound to the default resolver)
    const proto = dns.Resolver.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
    const own = proto[method]
    if (own !== undefined) {
      proto[method] = function (this: dns.Resolver, ...args: unknown[]) {
        const bad = foreignServer(this.getServers())
        if (bad !== undefined) {
          const err = refuse('dns', `${String(args[0])} via ${bad}`)
          const cb = args.findLast(a => typeof a === 'function') as ((e: Error) => void) | undefined
          process.nextTick(() => cb?.(err))
          return {}
        }
        return Reflect.apply(own, this, args)
      }
    }
    const mod = dns as unknown as Record<string, (...a: unknown[]) => unknown>
    const bound = mod[method]
    if (bound !== undefined) {
      mod[method] = function (...args: unknown[]) {
        const bad = foreignServer(dns.getServers())
        if (bad !== undefined) {
          const err = refuse('dns', `${String(args[0])} via ${bad}`)
          const cb = args.findLast(a => typeof a === 'function') as ((e: Error) => void) | undefined
          process.nextTick(() => cb?.(err))
          return {}
        }
        return Reflect.apply(bound, dns, args)
      }
    }
    // promise API
    const pproto = dns.promises.Resolver.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    const pown = pproto[method]
    if (pown !== undefined) {
      pproto[method] = async function (this: dns.promises.Resolver, ...args: unknown[]) {
        const bad = foreignServer(this.getServers())
        if (bad !== undefined) throw refuse('dns', `${String(args[0])} via ${bad}`)
        return await Reflect.apply(pown, this, args)
      }
    }
    const pmod = dns.promises as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>
    const pbound = pmod[method]
    if (pbound !== undefined) {
      pmod[method] = async function (...args: unknown[]) {
        const bad = foreignServer(dns.promises.getServers())
        if (bad !== undefined) throw refuse('dns', `${String(args[0])} via ${bad}`)
        return await Reflect.apply(pbound, dns.promises, args)
      }
    }
  }
}

/** the host of a fetch input, or undefined when it is not a URL with one (a relative URL fails in fetch itself) */
function urlHost (input: unknown): string | undefined {
  try {
    const url = input instanceof URL ? input : new URL(typeof input === 'string' ? input : (input as { url: string }).url)
    if (url.protocol === 'data:' || url.protocol === 'blob:') return undefined
    return url.hostname.replace(/^\[|\]$/g, '')
  } catch {
    return undefined
  }
}

function guardHttp (): void {
  const original = globalThis.fetch
  globalThis.fetch = async function guardedFetch (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
    const host = urlHost(input)
    if (host !== undefined && !allowed(host)) throw new TypeError('fetch failed', { cause: refuse('http', String(input instanceof Request ? input.url : input)) })
    return await original(input, init)
  }
  for (const mod of [http, https]) {
    const scheme = mod === http ? 'http' : 'https'
    for (const name of ['request', 'get'] as const) {
      const fn = mod[name] as (...a: unknown[]) => http.ClientRequest
      const guarded = function (...args: unknown[]): http.ClientRequest {
        const first = args[0]
        let host: string | undefined
        if (typeof first === 'string' || first instanceof URL) {
          host = urlHost(first)
        } else if (first !== null && typeof first === 'object') {
          const o = first as { hostname?: string, host?: string, socketPath?: string }
          host = o.socketPath !== undefined ? 'localhost' : (o.hostname ?? o.host ?? 'localhost')
        }
        if (host !== undefined && !allowed(host)) {
          // the request is made against a closed local port so the caller gets the usual ClientRequest
          // and an 'error' event; no packet leaves the machine
          const err = refuse('http', `${scheme}://${host}`)
          const req = Reflect.apply(fn, mod, [{ host: '127.0.0.1', port: 9, path: '/', agent: false }]) as http.ClientRequest
          req.destroy(err)
          return req
        }
        return Reflect.apply(fn, mod, args)
      }
      ;(mod as unknown as Record<string, unknown>)[name] = guarded
    }
  }
}

/** patches the process once (idempotent across test files of one worker) */
export function installNetworkGuard (): void {
  process.env[NETWORK_GUARD_ENV] = '1'
  const g = globalThis as Record<symbol, unknown>
  if (g[INSTALLED] === true) return
  g[INSTALLED] = true
  guardTcp()
  guardUdp()
  guardDns()
  guardHttp()
  // ESM imports of node builtins (`import { lookup } from 'node:dns'`) see the patched functions
  syncBuiltinESMExports()
}

/** throws (and clears the record) when an attempt was made since the last look */
export function assertNoNetworkViolations (where: string): void {
  const seen = takeNetworkViolations()
  if (seen.length > 0) {
    throw new NetworkGuardError(`network guard: ${where} tried to reach outside 127.0.0.0/8 and ::1: ${seen.map(v => `${v.kind} ${v.target}`).join(', ')}`)
  }
}

installNetworkGuard()
afterEach(() => { assertNoNetworkViolations('this test') })
afterAll(() => { assertNoNetworkViolations('this file (outside a test)') })
