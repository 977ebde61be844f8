/**
 * What the DNSLink actor needs from the outside world: one TXT lookup. A live
 * node uses nodeDnsOps on the servers it is given, in the order given:
 *
 * - a DNS-over-HTTPS URL (`https://…/dns-query`, RFC 8484) is asked through
 *   @multiformats/dns's `dnsOverHttps` resolver (the package Helia uses), and
 *   the answer carries its TTL (the smallest of the answer's records, a CNAME
 *   chain included);
 * - plain addresses (`127.0.0.1`, `127.0.0.1:5353`, `[::1]:5353`; or none at
 *   all: the system's, as node:dns reads them from resolv.conf) are asked
 *   directly over UDP, and over TCP when the answer is truncated
 *   (src/platform/dns-wire.ts, packets by dns-packet), and the answer carries
 *   its TTL the same way;
 * - only when the system names no server at all is node:dns's own resolver
 *   (c-ares) asked, which reports no TTL.
 *
 * A replay uses inertDnsOps, since every answer comes from the trace instead.
 *
 * Deadlines. A plain server gets up to 3 tries of its share of the caller's
 * time (lookupWirePlan), each try its own timer (in dns-wire.ts, outside the
 * actors). node:dns (c-ares) has no per-query deadline, only a timeout per
 * try and a number of tries per server, and Node checks c-ares timeouts on a
 * timer that ticks every min(timeout, 1 s): a try ends between `timeout` and
 * `timeout + min(timeout, 1 s)` after it started. lookupPlan picks the
 * timeout and tries so that even that late end stays inside the time the
 * caller gives; the caller's signal cancels the query outright. A
 * DNS-over-HTTPS request has no timer of its own (none may be set here): the
 * caller's signal, which fires when every ask waiting on it is settled,
 * ends it.
 */
import { getServers } from 'node:dns'
import { Resolver } from 'node:dns/promises'
import { RecordType } from '@multiformats/dns'
import { dnsOverHttps } from '@multiformats/dns/resolvers'
import { AbortError, FailedError, NotFoundError, TimeoutError } from '../../messages/errors.js'
import type { Answer, DNSResponse } from '@multiformats/dns'
import type { DNSResolver } from '@multiformats/dns/resolvers'
import { lookupWirePlan, parseWireServer, queryTxt, WireQueryError } from '../../platform/dns-wire.js'
import type { WireAnswer } from '../../platform/dns-wire.js'

export interface TxtAnswer {
  /** the TXT records of the name, each one's character-strings joined */
  records: string[]
  /** TTL of the answer in ms, when the lookup knows it (DNS-over-HTTPS and plain servers do; node:dns's own resolver does not) */
  ttlMs?: number
}

export interface TxtLookupOptions {
  /** time the lookup may take, ms */
  timeoutMs: number
  /** cancels the lookup (the ask was settled from outside: deadline, abort, stop) */
  signal: AbortSignal
}

export interface DnsOps {
  /**
   * TXT records of an absolute DNS name. Rejects with NotFoundError when the
   * name does not exist or has no TXT records, TimeoutError when no server
   * answered in time, AbortError when the signal fired, FailedError otherwise
   * (server failure, refused).
   */
  lookupTxt(name: string, options: TxtLookupOptions): Promise<TxtAnswer>
}

export interface NodeDnsOptions {
  /**
   * DNS servers, tried in this order until one answers: DNS-over-HTTPS URLs
   * (`'https://dns.example/dns-query'`) and plain addresses as node:dns
   * `setServers` takes them (`'127.0.0.1'`, `'127.0.0.1:5353'`,
   * `'[::1]:5353'`), all answering with TTLs. Default: the system's
   * (resolv.conf, as node:dns reads it).
   */
  servers?: string[]
}

export interface LookupPlan {
  /** c-ares timeout per try, ms (also its maxTimeout, so tries do not back off) */
  timeoutMs: number
  /** tries per server */
  tries: number
}

/** longest single try; c-ares' own default timeout */
const MAX_TRY_MS = 5_000

/**
 * Timeout and tries for a lookup that must end within `budgetMs` across
 * `servers` servers (each tried `tries` times, one after another), or
 * undefined when there is not even time for one short try. A little of the
 * budget is kept back so the lookup's own TimeoutError, which names the
 * servers, arrives before the ask's deadline does.
 */
export function lookupPlan (budgetMs: number, servers: number): LookupPlan | undefined {
  const usable = budgetMs - Math.max(5, budgetMs * 0.05)
  const perServer = usable / Math.max(1, servers)
  // retransmit (UDP loses packets) only when a try still gets a useful timeout
  const tries = perServer >= 6_000 ? 3 : perServer >= 3_000 ? 2 : 1
  const slot = perServer / tries
  // a try ends by timeout + min(timeout, 1 s): fit that into the slot
  const timeoutMs = Math.min(MAX_TRY_MS, Math.floor(slot <= 2_000 ? slot / 2 : slot - 1_000))
  if (timeoutMs < 1) return undefined
  return { timeoutMs, tries }
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME'])

function toError (err: unknown, name: string, servers: string[], timeoutMs: number): Error {
  const code = (err as { code?: unknown } | null)?.code
  const where = servers.length > 0 ? servers.join(', ') : 'the system resolver'
  if (typeof code === 'string') {
    if (NOT_FOUND.has(code)) return new NotFoundError(`no TXT record at ${name} (${code})`)
    if (code === 'ETIMEOUT') return new TimeoutError(`DNS lookup of ${name}: no answer from ${where} within ${timeoutMs} ms`)
    if (code === 'ECANCELLED') return new AbortError(`DNS lookup of ${name} cancelled`)
    return new FailedError(`DNS lookup of ${name} at ${where} failed: ${code}`)
  }
  return new FailedError(`DNS lookup of ${name} failed: ${err instanceof Error ? err.message : String(err)}`)
}

/** one place to ask: a DoH server, or the plain servers (each in turn) */
interface Source {
  where: string
  lookup: (name: string, options: TxtLookupOptions) => Promise<TxtAnswer>
}

const isUrl = (server: string): boolean => /^https?:\/\//i.test(server)

function caresSource (servers: string[]): Source {
  // validate now: setServers throws on a malformed address
  const probe = new Resolver()
  if (servers.length > 0) probe.setServers(servers)
  const serverCount = probe.getServers().length
  return {
    where: servers.length > 0 ? servers.join(', ') : 'the system resolver',
    lookup: async (name, { timeoutMs, signal }) => {
      const plan = lookupPlan(timeoutMs, serverCount)
      if (plan === undefined) throw new TimeoutError(`DNS lookup of ${name}: no time left (${Math.max(0, Math.round(timeoutMs))} ms)`)
      const resolver = new Resolver({ timeout: plan.timeoutMs, maxTimeout: plan.timeoutMs, tries: plan.tries })
      if (servers.length > 0) resolver.setServers(servers)
      const cancel = (): void => { resolver.cancel() }
      signal.addEventListener('abort', cancel, { once: true })
      try {
        // absolute (trailing dot): no search domains from resolv.conf
        const txt = await resolver.resolveTxt(`${name}.`)
        return { records: txt.map(chunks => chunks.join('')) }
      } catch (err) {
        throw toError(err, name, servers, timeoutMs)
      } finally {
        signal.removeEventListener('abort', cancel)
      }
    }
  }
}

/** A plain server's answer: records and TTL as txtAnswerOf reads a DoH one. */
export function wireTxtAnswer (answer: WireAnswer, name: string, where: string): TxtAnswer {
  if (answer.rcode === 'NXDOMAIN') throw new NotFoundError(`no TXT record at ${name} (NXDOMAIN from ${where})`)
  if (answer.rcode !== 'NOERROR') throw new FailedError(`DNS lookup of ${name} at ${where} failed: ${answer.rcode}`)
  const txt = answer.answers.filter(a => a.type === 'TXT')
  if (txt.length === 0) throw new NotFoundError(`no TXT record at ${name} (empty answer from ${where})`)
  const ttls = answer.answers.map(a => a.type === 'OPT' ? undefined : a.ttl).filter((t): t is number => typeof t === 'number' && Number.isFinite(t) && t >= 0)
  return { records: txt.map(a => txtData(a.data)), ...(ttls.length > 0 ? { ttlMs: Math.min(...ttls) * 1000 } : {}) }
}

/**
 * Plain servers asked in order, each up to `tries` times: an answer (or
 * NXDOMAIN / no data) ends the lookup; a timeout retries, a failure (no route,
 * refused, SERVFAIL) moves on to the next server.
 */
function wireSource (servers: string[], where: string): Source {
  const parsed = servers.map(s => ({ server: parseWireServer(s), label: s }))
  return {
    where,
    lookup: async (name, { timeoutMs, signal }) => {
      const plan = lookupWirePlan(timeoutMs, parsed.length)
      if (plan === undefined) throw new TimeoutError(`DNS lookup of ${name}: no time left (${Math.max(0, Math.round(timeoutMs))} ms)`)
      let last: Error | undefined
      for (const { server, label } of parsed) {
        for (let t = 0; t < plan.tries; t++) {
          let answer: WireAnswer
          try {
            answer = await queryTxt(server, name, { timeoutMs: plan.timeoutMs, signal })
          } catch (err) {
            if (err instanceof WireQueryError && err.reason === 'aborted') throw new AbortError(`DNS lookup of ${name} cancelled`, { cause: err })
            if (err instanceof WireQueryError && err.reason === 'timeout') {
              last = new TimeoutError(`DNS lookup of ${name}: no answer from ${where} within ${timeoutMs} ms`, { cause: err })
              continue
            }
            last = new FailedError(`DNS lookup of ${name} at ${label} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
            break
          }
          try {
            return wireTxtAnswer(answer, name, label)
          } catch (err) {
            if (err instanceof NotFoundError) throw err
            last = err instanceof Error ? err : new FailedError(String(err))
            break
          }
        }
      }
      throw last ?? new TimeoutError(`DNS lookup of ${name}: no answer from ${where}`)
    }
  }
}

/** plain servers: over the wire (with TTLs); with none given, the system's, or c-ares itself when it names none */
function plainSource (servers: string[]): Source {
  if (servers.length > 0) {
    // validate now, both ways: node:dns's parser and ours
    new Resolver().setServers(servers)
    return wireSource(servers, servers.join(', '))
  }
  const system = getServers()
  return system.length > 0 ? wireSource(system, `the system resolver (${system.join(', ')})`) : caresSource([])
}

const utf8 = new TextDecoder()

/**
 * A TXT answer's text, its character-strings joined. @multiformats/dns hands
 * a wire-format TXT record over as the decoded character-strings (an array of
 * bytes, whatever its `Answer` type says), a JSON one as a quoted string.
 */
export function txtData (data: unknown): string {
  if (Array.isArray(data)) return data.map(chunk => (chunk instanceof Uint8Array ? utf8.decode(chunk) : String(chunk))).join('')
  if (data instanceof Uint8Array) return utf8.decode(data)
  const text = String(data)
  const quoted = [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(m => (m[1] ?? '').replace(/\\(.)/g, '$1'))
  return quoted.length > 0 ? quoted.join('') : text
}

/**
 * The TXT records of a DNS response and its TTL in ms: the smallest TTL
 * among its answers (a CNAME that led to the TXT records bounds it too).
 * NotFoundError when it holds no TXT record (NXDOMAIN or no data: the
 * RFC 8484 resolver of @multiformats/dns does not keep the response code, so
 * a server failure answered over DNS-over-HTTPS looks the same).
 */
export function txtAnswerOf (response: DNSResponse, name: string, where: string): TxtAnswer {
  if (response.Status !== 0) {
    if (response.Status === 3) throw new NotFoundError(`no TXT record at ${name} (NXDOMAIN from ${where})`)
    throw new FailedError(`DNS lookup of ${name} at ${where} failed: response code ${response.Status}`)
  }
  const answers: Answer[] = response.Answer
  const txt = answers.filter(a => a.type === RecordType.TXT)
  if (txt.length === 0) throw new NotFoundError(`no TXT record at ${name} (empty answer from ${where})`)
  const ttls = answers.map(a => a.TTL).filter(t => Number.isFinite(t) && t >= 0)
  return { records: txt.map(a => txtData(a.data)), ...(ttls.length > 0 ? { ttlMs: Math.min(...ttls) * 1000 } : {}) }
}

function dohSource (url: string): Source {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (err) {
    throw new TypeError(`dnslink: ${url} is not a DNS-over-HTTPS URL`, { cause: err })
  }
  // one resolver per server for the node's life: it queues its requests (4 at once)
  const resolve: DNSResolver = dnsOverHttps(parsed.href)
  return {
    where: parsed.href,
    lookup: async (name, { signal }) => {
      let response: DNSResponse
      try {
        response = await resolve(name, { types: [RecordType.TXT], signal })
      } catch (err) {
        if (signal.aborted) throw new AbortError(`DNS lookup of ${name} cancelled`, { cause: err })
        throw new FailedError(`DNS lookup of ${name} at ${parsed.href} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      }
      return txtAnswerOf(response, name, parsed.href)
    }
  }
}

/** plain addresses together, where the first of them stands; each URL where it stands */
function sourcesOf (servers: string[]): Source[] {
  const plain = servers.filter(s => !isUrl(s))
  const sources: Source[] = []
  let caresAt = -1
  for (const server of servers) {
    if (isUrl(server)) sources.push(dohSource(server))
    else if (caresAt < 0) {
      caresAt = sources.length
      sources.push(plainSource(plain))
    }
  }
  if (sources.length === 0) sources.push(plainSource([]))
  return sources
}

/**
 * TXT lookups on the given servers (see NodeDnsOptions), each source tried in
 * turn: the first answer wins, a not-found is final (a server said the name
 * has none), a timeout or a failure moves on to the next and, when it was the
 * last, is the lookup's error. Throws (at once) if a server address or URL is
 * malformed.
 */
export function nodeDnsOps (options: NodeDnsOptions = {}): DnsOps {
  const sources = sourcesOf([...(options.servers ?? [])])
  return {
    lookupTxt: async (domain, lookup) => {
      const name = domain.endsWith('.') ? domain.slice(0, -1) : domain
      let last: unknown
      for (const source of sources) {
        if (lookup.signal.aborted) throw new AbortError(`DNS lookup of ${name} cancelled`)
        try {
          return await source.lookup(name, lookup)
        } catch (err) {
          if (err instanceof NotFoundError || err instanceof AbortError) throw err
          last = err
        }
      }
      throw last instanceof Error ? last : new FailedError(`DNS lookup of ${name} failed`, { cause: last })
    }
  }
}

/** replay: answers come from the trace */
export const inertDnsOps: DnsOps = { lookupTxt: async () => await new Promise<TxtAnswer>(() => {}) }
