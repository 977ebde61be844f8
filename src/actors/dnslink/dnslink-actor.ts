/**
 * The DNSLink actor serves `dnslink.resolve`: a domain's /ipfs/ or /ipns/
 * link from its `_dnslink.<domain>` TXT records, or — when that name has
 * none and the fallback is on — from the bare domain's, with an LRU cache in
 * front whose entries live as long as their record's TTL says (bounded by
 * minTtlMs / maxTtlMs), on the injected clock. Every DNS lookup is async work whose answer re-enters as a message;
 * concurrent resolves of one domain share one lookup (single flight).
 *
 * Deadlines: a lookup gets the time left until the deadline of the ask that
 * started it (DnsOps turns that into timeout and tries), and the lookup is
 * cancelled when every ask waiting on it has been settled from outside. An
 * ask that joined with a later deadline is not failed by the first asker's
 * timeout: the lookup is tried again for the asks whose deadlines are later
 * (at most MAX_LOOKUP_RETRIES times), up to the latest of them.
 */
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { checkDomain, DNSLINK_PREFIX, selectDnsLink } from './parse.js'
import { LRUCache } from 'lru-cache'
import type { ActorDefinition, ReplyPort, Settled } from '../runtime/actor.js'
import type { DnsOps, TxtAnswer } from './dns-ops.js'
import type { Failure } from '../../messages/failure.js'
import type { QueryId } from '../../messages/ids.js'
import type { DnsLinkReply, DnsLinkResolve } from '../../messages/dnslink.js'
import '../../messages/dnslink.js'

export const DNSLINK_ACTOR = 'dnslink'

/** TTL of an answer whose lookup reports none (node:dns never does): 1 min */
export const DEFAULT_DNSLINK_TTL_MS = 60_000
/** floor under a TTL a lookup reports: 0 (a record's TTL of 0 is not cached) */
export const DEFAULT_DNSLINK_MIN_TTL_MS = 0
/** cap on a TTL a lookup reports: 1 h */
export const DEFAULT_DNSLINK_MAX_TTL_MS = 3_600_000
export const DEFAULT_DNSLINK_CACHE_SIZE = 1_024
export const DEFAULT_DNSLINK_MAX_LOOKUPS = 256
/** lookups tried again, per flight, for asks that joined with a later deadline than the one that timed out */
export const MAX_LOOKUP_RETRIES = 2

/** The actor's settings: plain data (a node records them in its trace header for replay). */
export interface DnsLinkSettings {
  /** how long an answer is cached when the lookup reports no TTL, ms (default 60 s; 0: no caching) */
  ttlMs?: number
  /** lower bound on a TTL the lookup reports, ms (default 0: the record's word) */
  minTtlMs?: number
  /** upper bound on a TTL the lookup reports, ms (default 1 h) */
  maxTtlMs?: number
  /** cached domains (default 1,024) */
  cacheSize?: number
  /**
   * look at the bare domain's TXT records when `_dnslink.<domain>` has no
   * DNSLink (default true, as Helia and the DNSLink reference libraries do;
   * Kubo dropped this legacy fallback in 2023)
   */
  bareDomainFallback?: boolean
  /** distinct domains being looked up at once; more fail with `overloaded` (default 256) */
  maxLookups?: number
}

export interface DnsLinkActorOptions extends DnsLinkSettings {
  ops: DnsOps
}

export type DnsLinkCommand = DnsLinkResolve

type Stage = 'dnslink' | 'bare'

export type DnsLinkMsg = { type: 'answer', domain: string, flight: number, stage: Stage, result: Settled<TxtAnswer> }

/** an ask waiting on a lookup: its typed port and its deadline */
interface Sub { port: ReplyPort<DnsLinkResolve>, deadline: number }

interface Flight {
  seq: number
  domain: string
  stage: Stage
  /** asks waiting on this lookup, with their deadlines */
  subs: Map<QueryId, Sub>
  /** the deadline the running lookup works to: the one of the ask that started it (or, after a retry, the latest waiting) */
  deadline: number
  retries: number
  abort: AbortController
}

interface Cached {
  value: string
  from: string
  /**
   * the wall-clock date the TTL ends: lru-cache counts the TTL on the
   * monotonic clock, which stands still while the machine sleeps; a DNS
   * answer must not outlive its TTL by the calendar either
   */
  staleAt: number
}

function nonNegative (name: string, v: number | undefined, fallback: number, integer = false): number {
  if (v === undefined) return fallback
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) throw new RangeError(`dnslink: ${name} must be a non-negative ${integer ? 'integer' : 'number'}`)
  return v
}

export function dnslinkActor (options: DnsLinkActorOptions): ActorDefinition<DnsLinkCommand, DnsLinkMsg> {
  const defaultTtl = nonNegative('ttlMs', options.ttlMs, DEFAULT_DNSLINK_TTL_MS)
  const minTtl = nonNegative('minTtlMs', options.minTtlMs, DEFAULT_DNSLINK_MIN_TTL_MS)
  const maxTtl = nonNegative('maxTtlMs', options.maxTtlMs, DEFAULT_DNSLINK_MAX_TTL_MS)
  if (minTtl > maxTtl) throw new RangeError('dnslink: minTtlMs must not exceed maxTtlMs')
  const cacheSize = nonNegative('cacheSize', options.cacheSize, DEFAULT_DNSLINK_CACHE_SIZE, true)
  const maxLookups = Math.max(1, nonNegative('maxLookups', options.maxLookups, DEFAULT_DNSLINK_MAX_LOOKUPS, true))
  const fallback = options.bareDomainFallback ?? true
  const ops = options.ops

  return defineActor<DnsLinkCommand, DnsLinkMsg>({
    name: DNSLINK_ACTOR,
    commands: ['dnslink.resolve'],
    mailbox: { capacity: 4096 },
    validate: cmd => {
      const check = checkDomain(cmd.domain)
      if (!check.ok) return failure('invalid', check.reason, { field: 'domain' })
      if (cmd.nocache !== undefined && typeof cmd.nocache !== 'boolean') return failure('invalid', 'nocache must be a boolean', { field: 'nocache' })
      if (cmd.offline !== undefined && typeof cmd.offline !== 'boolean') return failure('invalid', 'offline must be a boolean', { field: 'offline' })
      return undefined
    },
    start: ctx => {
      // the actor's clock (one reading per turn), no timers: ttlResolution 0
      // and no autopurge; an expired entry goes when read or evicted
      const cache = cacheSize > 0
        ? new LRUCache<string, Cached>({ max: cacheSize, ttl: maxTtl > 0 ? maxTtl : 1, ttlResolution: 0, perf: { now: () => ctx.clock.now() } })
        : undefined
      const flights = new Map<string, Flight>()
      const flightOf = new Map<QueryId, string>()
      let seq = 0
      let hits = 0
      let misses = 0
      let queries = 0

      const query = (f: Flight): void => {
        const name = f.stage === 'dnslink' ? DNSLINK_PREFIX + f.domain : f.domain
        const timeoutMs = f.deadline - ctx.clock.now()
        const owner = f.subs.keys().next().value
        queries++
        ctx.progress({ type: 'dnslink:resolve:query', ...(owner !== undefined ? { id: owner } : {}), detail: { domain: f.domain, name } })
        const { domain, seq: flight, stage } = f
        // async wrapper: a lookup that throws synchronously becomes a failed answer
        const work = (async () => await ops.lookupTxt(name, { timeoutMs, signal: f.abort.signal }))()
        ctx.pipe(work, result => ({ type: 'answer', domain, flight, stage, result }), owner)
      }

      const finish = (f: Flight): Sub[] => {
        flights.delete(f.domain)
        for (const id of f.subs.keys()) flightOf.delete(id)
        return [...f.subs.values()]
      }

      const failAll = (f: Flight, why: Failure): void => {
        if (why.kind === 'timeout' && retryForLater(f, why)) return
        for (const sub of finish(f)) sub.port.fail(why)
      }

      /** a lookup timed out by its deadline: asks with later deadlines get another one */
      const retryForLater = (f: Flight, why: Failure): boolean => {
        if (f.retries >= MAX_LOOKUP_RETRIES) return false
        const later = [...f.subs.values()].map(sub => sub.deadline).filter(d => d > f.deadline)
        if (later.length === 0) return false
        for (const [id, sub] of f.subs) {
          if (sub.deadline > f.deadline) continue
          f.subs.delete(id)
          flightOf.delete(id)
          sub.port.fail(why)
        }
        f.deadline = Math.max(...later)
        f.retries++
        f.seq = ++seq
        query(f)
        return true
      }

      const succeed = (f: Flight, value: string, answer: TxtAnswer): void => {
        const from = f.stage === 'dnslink' ? DNSLINK_PREFIX + f.domain : f.domain
        const ttlMs = answer.ttlMs !== undefined && Number.isFinite(answer.ttlMs) ? Math.min(Math.max(minTtl, answer.ttlMs), maxTtl) : defaultTtl
        if (ttlMs > 0) cache?.set(f.domain, { value, from, staleAt: ctx.clock.wall() + ttlMs }, { ttl: ttlMs })
        else cache?.delete(f.domain)
        const reply: DnsLinkReply = { value, ttlMs, source: 'dns', from }
        for (const sub of finish(f)) sub.port.reply({ ...reply })
      }

      const noLink = (f: Flight): void => {
        if (f.stage === 'dnslink' && fallback) {
          f.stage = 'bare'
          query(f)
          return
        }
        const where = fallback ? `${DNSLINK_PREFIX}${f.domain} nor at ${f.domain}` : `${DNSLINK_PREFIX}${f.domain}`
        failAll(f, failure('not-found', `no dnslink=/ipfs/… or dnslink=/ipns/… TXT record at ${where}`))
      }

      return {
        receive: msg => {
          if (msg.kind === 'cancel') {
            const domain = flightOf.get(msg.id)
            if (domain === undefined) return
            flightOf.delete(msg.id)
            const f = flights.get(domain)
            if (f === undefined) return
            f.subs.delete(msg.id)
            if (f.subs.size === 0) {
              // nobody waits any more: cancel the DNS query; its answer, if any, finds no flight
              flights.delete(domain)
              f.abort.abort()
            }
            return
          }
          if (msg.kind === 'internal') {
            const m = msg.msg
            const f = flights.get(m.domain)
            if (f === undefined || f.seq !== m.flight || f.stage !== m.stage) return // cancelled or stale
            if (m.result.ok) {
              const link = selectDnsLink(m.result.value.records)
              ctx.progress({ type: 'dnslink:resolve:answer', ...(f.subs.size > 0 ? { id: f.subs.keys().next().value as QueryId } : {}), detail: { domain: f.domain, stage: f.stage, records: m.result.value.records.length, link: link ?? null } })
              if (link !== undefined) succeed(f, link, m.result.value)
              else noLink(f)
              return
            }
            if (m.result.failure.kind === 'not-found') noLink(f)
            else failAll(f, m.result.failure)
            return
          }

          const { port, command: c } = msg
          const { id, deadline } = msg.env
          const check = checkDomain(c.domain)
          if (!check.ok) {
            port.fail(failure('invalid', check.reason, { field: 'domain' }))
            return
          }
          const domain = check.domain
          if (c.nocache !== true && cache !== undefined) {
            const hit = cache.get(domain)
            // fresh while now < stored + TTL (lru-cache itself keeps an entry through now = stored + TTL)
            const left = hit === undefined ? 0 : Math.min(cache.getRemainingTTL(domain), hit.staleAt - ctx.clock.wall())
            if (hit !== undefined && left > 0) {
              hits++
              port.reply({ value: hit.value, ttlMs: Math.ceil(left), source: 'cache', from: hit.from })
              return
            }
            if (hit !== undefined) cache.delete(domain)
          }
          if (c.offline === true) {
            port.fail(failure('not-found', `no DNSLink for ${domain} in the cache (offline)`))
            return
          }
          misses++
          const joined = flights.get(domain)
          if (joined !== undefined) {
            joined.subs.set(id, { port, deadline })
            flightOf.set(id, domain)
            return
          }
          if (flights.size >= maxLookups) {
            port.fail(failure('overloaded', `the DNSLink actor runs ${maxLookups} lookups already`))
            return
          }
          const f: Flight = { seq: ++seq, domain, stage: 'dnslink', subs: new Map([[id, { port, deadline }]]), deadline, retries: 0, abort: new AbortController() }
          flights.set(domain, f)
          flightOf.set(id, domain)
          query(f)
        },
        status: () => ({ cached: cache?.size ?? 0, lookups: flights.size, hits, misses, queries }),
        stop: () => {
          for (const f of flights.values()) f.abort.abort()
          flights.clear()
          flightOf.clear()
        }
      }
    }
  })
}
