/**
 * The API listener's address as a multiaddr, as kubo writes it
 * (`/ip4/127.0.0.1/tcp/5001`), to and from what node's net module takes.
 * Accepted: /ip4/<addr>/tcp/<port> and /ip6/<addr>/tcp/<port>, optionally
 * ending in /http; port 0 picks a free port.
 */
import { isIP } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'

export interface HostPort {
  host: string
  port: number
  family: 4 | 6
}

/** Host and port of an API multiaddr; a RangeError says what is wrong. */
export function parseListenAddress (addr: string): HostPort {
  let parts: Array<{ name: string, value?: string }>
  try {
    parts = multiaddr(addr).getComponents()
  } catch (err) {
    throw new RangeError(`'${addr}' is not a multiaddr: ${(err as Error).message}`, { cause: err })
  }
  const [ip, tcp, http, ...rest] = parts
  const shape = `expected /ip4/<address>/tcp/<port> or /ip6/<address>/tcp/<port> (optionally /http), got '${addr}'`
  if (ip === undefined || (ip.name !== 'ip4' && ip.name !== 'ip6') || ip.value === undefined) throw new RangeError(shape)
  if (tcp?.name !== 'tcp' || tcp.value === undefined) throw new RangeError(shape)
  if ((http !== undefined && http.name !== 'http') || rest.length > 0) throw new RangeError(shape)
  const port = Number(tcp.value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port of '${addr}' must be 0 to 65535`)
  return { host: ip.value, port, family: ip.name === 'ip4' ? 4 : 6 }
}

export function toMultiaddr (host: string, port: number): string {
  return `/${isIP(host) === 6 ? 'ip6' : 'ip4'}/${host}/tcp/${port}`
}

export function toUrl (host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/** 127.0.0.0/8 and ::1 (and the IPv4-mapped form of the former) */
export function isLoopback (host: string): boolean {
  const h = host.toLowerCase()
  return /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
}
