/**
 * The network guard's libp2p half: when SWARMBUS_NETWORK_GUARD is set in the
 * environment (the test setup, test/setup/network-guard.ts, sets it; so can
 * anyone who wants a node that provably stays on this machine), createNode
 * gives libp2p a connection gater that refuses every dial to an address
 * outside 127.0.0.0/8, ::1, `localhost`, in-process `/memory/` and unix
 * sockets, plus the hosts named in SWARMBUS_TEST_ALLOW_HOSTS (comma
 * separated host names, addresses or IPv4 CIDRs; for tests in network
 * namespaces). A refusal is loud: libp2p fails the dial (DialDeniedError),
 * the attempt is recorded in a process-wide register that the test setup
 * reads after each test (and fails the test), and Node prints a warning.
 *
 * The gater composes with one the caller gives: the guard is asked first,
 * then the caller's gater for everything else.
 */
import { isIP } from 'node:net'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export const NETWORK_GUARD_ENV = 'SWARMBUS_NETWORK_GUARD'
export const NETWORK_GUARD_ALLOW_ENV = 'SWARMBUS_TEST_ALLOW_HOSTS'

export interface NetworkViolation {
  /** what was attempted: a libp2p dial, a TCP connect, a UDP datagram, a DNS query, an HTTP request */
  kind: 'libp2p' | 'tcp' | 'udp' | 'dns' | 'http'
  /** where to */
  target: string
}

/** violations kept until taken; past it only counted */
const MAX_KEPT = 1_000
const REGISTRY = Symbol.for('swarmbus.network-guard.registry')

export interface GuardRegistry {
  report(v: NetworkViolation): void
  /** the violations since the last take (a `dropped` entry counts any past the bound), cleared */
  take(): NetworkViolation[]
}

/** the process-wide register of refused attempts (one per process, shared by every copy of this module) */
export function guardRegistry (): GuardRegistry {
  const g = globalThis as Record<symbol, GuardRegistry | undefined>
  let registry = g[REGISTRY]
  if (registry === undefined) {
    let kept: NetworkViolation[] = []
    let dropped = 0
    registry = {
      report: v => { if (kept.length < MAX_KEPT) kept.push(v); else dropped++ },
      take: () => {
        const out = dropped > 0 ? [...kept, { kind: kept[0]?.kind ?? 'tcp', target: `${dropped} more` } satisfies NetworkViolation] : kept
        kept = []
        dropped = 0
        return out
      }
    }
    g[REGISTRY] = registry
  }
  return registry
}

function ipv4ToInt (ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0)
}

function inCidr (ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/')
  const n = Number(bits)
  if (base === undefined || isIP(base) !== 4 || !Number.isInteger(n) || n < 0 || n > 32) return false
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0
  return ((ipv4ToInt(ip) & mask) >>> 0) === ((ipv4ToInt(base) & mask) >>> 0)
}

/**
 * Whether a host (name or address, IPv6 without brackets) stays on this
 * machine: loopback, the unspecified address (which connects to this host),
 * `localhost`, or one of `extra` (names, addresses, IPv4 CIDRs).
 */
export function isLocalHost (host: string, extra: readonly string[] = []): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '')
  if (h === 'localhost' || h.endsWith('.localhost')) return true
  const v4 = h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h
  if (isIP(v4) === 4) {
    if (v4.startsWith('127.') || v4 === '0.0.0.0') return true
    if (extra.some(e => e.includes('/') ? inCidr(v4, e) : e === v4)) return true
    return false
  }
  if (isIP(h) === 6) {
    if (h === '::1' || h === '::' || h === '0:0:0:0:0:0:0:1') return true
    return extra.includes(h)
  }
  return extra.some(e => e.toLowerCase() === h)
}

/** whether a multiaddr stays on this machine (see isLocalHost); /memory and /unix always do */
export function isLocalMultiaddr (ma: Multiaddr, extra: readonly string[] = []): boolean {
  const first = ma.getComponents()[0]
  if (first === undefined) return false
  if (first.name === 'memory' || first.name === 'unix') return true
  if (['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(first.name) && first.value !== undefined) return isLocalHost(first.value, extra)
  // /dnsaddr and anything else: libp2p resolves /dnsaddr before dialling, so what reaches the gater is an address
  return false
}

export interface NetworkGuardOptions {
  /** hosts allowed beside loopback (names, addresses, IPv4 CIDRs) */
  allow?: readonly string[]
  /** where refusals go; default the process-wide register and a Node warning */
  report?: (v: NetworkViolation) => void
}

/** a refusal into the process-wide register, with a Node warning (also for refusals made in a network thread) */
export function reportViolation (v: NetworkViolation): void {
  guardRegistry().report(v)
  process.emitWarning(`network guard: refused a ${v.kind} dial to ${v.target}`, { code: 'SWARMBUS_NETWORK_GUARD' })
}

/** a gater refusing dials to non-local addresses, then asking `inner` (if any) */
export function networkGuardGater (inner: ConnectionGater | undefined, options: NetworkGuardOptions = {}): ConnectionGater {
  const allow = options.allow ?? []
  const report = options.report ?? reportViolation
  return {
    ...inner,
    denyDialMultiaddr: async (ma: Multiaddr) => {
      if (!isLocalMultiaddr(ma, allow)) {
        report({ kind: 'libp2p', target: ma.toString() })
        return true
      }
      return (await inner?.denyDialMultiaddr?.(ma)) ?? false
    }
  }
}

/** the env's allow list (SWARMBUS_TEST_ALLOW_HOSTS) */
export function guardAllowFromEnv (env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[NETWORK_GUARD_ALLOW_ENV] ?? '').split(',').map(h => h.trim()).filter(h => h !== '')
}

/** the gater createNode gives libp2p: the guarded one when SWARMBUS_NETWORK_GUARD is set, else the caller's own */
export function guardedConnectionGater (inner: ConnectionGater | undefined, env: NodeJS.ProcessEnv = process.env): ConnectionGater | undefined {
  const flag = env[NETWORK_GUARD_ENV]
  if (flag === undefined || flag === '' || flag === '0') return inner
  return networkGuardGater(inner, { allow: guardAllowFromEnv(env) })
}
