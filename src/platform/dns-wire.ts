/**
 * A TXT query to one DNS server over UDP, and over TCP when the UDP answer
 * comes back truncated (RFC 7766), with the answer's records and their TTLs.
 *
 * node:dns (c-ares) returns TXT records without TTLs, so a DNSLink answer
 * read through it could only be cached for a fixed time. This client asks the
 * same servers itself, with packets encoded and decoded by `dns-packet` (the
 * codec much of the JS DNS ecosystem uses), so the cache lives exactly as long
 * as the zone says.
 *
 * It lives outside src/actors/ because it sets timers: each try has its own
 * timeout (the caller's budget split by lookupWirePlan), and the caller's
 * signal cancels it at once.
 *
 * Checks on what comes back, in order: the socket is connected to the server
 * (the kernel drops datagrams from anyone else); the id is the one we sent; it
 * is a response to our question (name, case-insensitive, and type). Anything
 * else is ignored and the try keeps waiting. Responses are bounded: a UDP
 * datagram by the EDNS payload size we offer, a TCP one by its 16-bit length.
 */
import { randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { connect, isIPv6 } from 'node:net'
import { performance } from 'node:perf_hooks'
import { decode, encode, RECURSION_DESIRED, streamEncode } from 'dns-packet'
import type { Answer, DecodedPacket, Packet } from 'dns-packet'

/** what we offer for UDP answers (EDNS0; the 2020 DNS flag day's size, no fragmentation) */
export const EDNS_UDP_PAYLOAD = 1232
/** a TCP answer's length field is 16 bits */
const MAX_TCP_MESSAGE = 65_535

export interface WireServer {
  host: string
  port: number
}

export interface WireAnswer {
  /** response code: NOERROR, NXDOMAIN, SERVFAIL, REFUSED, … */
  rcode: string
  answers: Answer[]
}

export interface WireQueryOptions {
  /** how long this try may take, ms */
  timeoutMs: number
  signal: AbortSignal
}

/** why a try produced no answer (the caller decides what to try next) */
export class WireQueryError extends Error {
  override readonly name = 'WireQueryError'
  constructor (readonly reason: 'timeout' | 'aborted' | 'network' | 'malformed', message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * '127.0.0.1', '127.0.0.1:5353', '::1', '[::1]:5353' (as node:dns setServers
 * takes them); port 53 when none is given. Throws TypeError on anything else.
 */
export function parseWireServer (server: string): WireServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server)
  let host: string
  let port = '53'
  if (bracketed !== null) {
    host = bracketed[1] ?? ''
    port = bracketed[2] ?? '53'
  } else if (isIPv6(server)) {
    host = server
  } else {
    const at = server.lastIndexOf(':')
    host = at < 0 ? server : server.slice(0, at)
    if (at >= 0) port = server.slice(at + 1)
  }
  const n = Number(port)
  if (!/^\d+$/.test(port) || n < 1 || n > 65_535) throw new TypeError(`dns: ${server} has no valid port`)
  if (!(isIPv6(host) || /^(\d{1,3}\.){3}\d{1,3}$/.test(host))) throw new TypeError(`dns: ${server} is not an IP address (with an optional :port)`)
  return { host, port: n }
}

const same = (a: string, b: string): boolean => a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '')

function query (id: number, name: string): Packet {
  return {
    type: 'query',
    id,
    flags: RECURSION_DESIRED,
    questions: [{ type: 'TXT', class: 'IN', name }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
  }
}

/** the response when `bytes` answers our query, else undefined (someone else's, or garbage) */
function responseTo (bytes: Buffer, id: number, name: string): DecodedPacket | undefined {
  let p: DecodedPacket
  try {
    p = decode(bytes)
  } catch {
    return undefined
  }
  if (p.type !== 'response' || p.id !== id) return undefined
  const q = p.questions?.[0]
  if (q === undefined || q.type !== 'TXT' || !same(q.name, name)) return undefined
  return p
}

// dns-packet decodes the response code as `rcode` (its typings omit it)
const answerOf = (p: DecodedPacket): WireAnswer => ({ rcode: (p as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR', answers: p.answers ?? [] })

/** Runs `body` with a timer and the caller's signal: whichever ends first settles it. */
async function bounded<T> (what: string, options: WireQueryOptions, body: (done: (err: Error | undefined, value?: T) => void) => () => void): Promise<T> {
  if (options.signal.aborted) throw new WireQueryError('aborted', `${what}: cancelled`)
  return await new Promise<T>((resolve, reject) => {
    let cleanup: () => void = () => {}
    let settled = false
    const finish = (err: Error | undefined, value?: T): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      options.signal.removeEventListener('abort', onAbort)
      cleanup()
      if (err !== undefined) reject(err)
      else resolve(value as T)
    }
    const onAbort = (): void => { finish(new WireQueryError('aborted', `${what}: cancelled`)) }
    const timer = setTimeout(() => { finish(new WireQueryError('timeout', `${what}: no answer within ${options.timeoutMs} ms`)) }, Math.max(1, options.timeoutMs))
    options.signal.addEventListener('abort', onAbort, { once: true })
    cleanup = body(finish)
  })
}

/** One UDP try; `truncated` when the server set TC (ask again over TCP). */
export async function queryTxtUdp (server: WireServer, name: string, options: WireQueryOptions): Promise<WireAnswer & { truncated: boolean }> {
  const id = randomInt(0, 65_536)
  const what = `DNS query for ${name} at ${server.host}:${server.port} (UDP)`
  return await bounded(what, options, done => {
    const socket = createSocket({ type: isIPv6(server.host) ? 'udp6' : 'udp4', recvBufferSize: 64 * 1024 })
    socket.on('error', err => { done(new WireQueryError('network', `${what}: ${err.message}`, { cause: err })) })
    socket.on('message', msg => {
      const p = responseTo(msg, id, name)
      if (p !== undefined) done(undefined, { ...answerOf(p), truncated: p.flag_tc === true })
    })
    socket.connect(server.port, server.host, () => {
      socket.send(encode(query(id, name)), err => {
        if (err !== null && err !== undefined) done(new WireQueryError('network', `${what}: ${err.message}`, { cause: err }))
      })
    })
    return () => { socket.close() }
  })
}

/** One TCP try (a two-byte length before each message). */
export async function queryTxtTcp (server: WireServer, name: string, options: WireQueryOptions): Promise<WireAnswer> {
  const id = randomInt(0, 65_536)
  const what = `DNS query for ${name} at ${server.host}:${server.port} (TCP)`
  return await bounded(what, options, done => {
    const socket = connect({ host: server.host, port: server.port })
    let buffered = Buffer.alloc(0)
    socket.on('error', err => { done(new WireQueryError('network', `${what}: ${err.message}`, { cause: err })) })
    socket.on('connect', () => { socket.write(streamEncode(query(id, name))) })
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length > MAX_TCP_MESSAGE + 2) {
        done(new WireQueryError('malformed', `${what}: more than ${MAX_TCP_MESSAGE} bytes`))
        return
      }
      if (buffered.length < 2) return
      const length = buffered.readUInt16BE(0)
      if (buffered.length < 2 + length) return
      const p = responseTo(buffered.subarray(2, 2 + length), id, name)
      if (p === undefined) done(new WireQueryError('malformed', `${what}: the answer is not a response to the query`))
      else done(undefined, answerOf(p))
    })
    socket.on('end', () => { done(new WireQueryError('network', `${what}: the server closed the connection without an answer`)) })
    return () => { socket.destroy() }
  })
}

/** One lookup at one server: UDP, then TCP if the UDP answer was truncated. */
export async function queryTxt (server: WireServer, name: string, options: WireQueryOptions): Promise<WireAnswer> {
  const start = performance.now()
  const udp = await queryTxtUdp(server, name, options)
  if (!udp.truncated) return udp
  const left = options.timeoutMs - (performance.now() - start)
  if (left < 1) throw new WireQueryError('timeout', `DNS query for ${name} at ${server.host}:${server.port}: the UDP answer was truncated and no time is left for TCP`)
  return await queryTxtTcp(server, name, { timeoutMs: left, signal: options.signal })
}

/**
 * Tries per server and the timeout of each for a lookup that must end within
 * `budgetMs` across `servers` servers: up to 3 tries (UDP loses packets) while
 * each still gets at least 1 s, each try at most 5 s; a little of the budget is
 * kept back so the lookup's own error arrives before the caller's deadline.
 * undefined when not even one try of 1 ms fits.
 */
export function lookupWirePlan (budgetMs: number, servers: number): { timeoutMs: number, tries: number } | undefined {
  const usable = budgetMs - Math.max(5, budgetMs * 0.05)
  const perServer = usable / Math.max(1, servers)
  const tries = Math.max(1, Math.min(3, Math.floor(perServer / 1_000)))
  const timeoutMs = Math.min(5_000, Math.floor(perServer / tries))
  return timeoutMs >= 1 ? { timeoutMs, tries } : undefined
}
