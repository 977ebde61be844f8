/**
 * What the DNSLink actor needs from the outside world: one TXT lookup. A live
 * node uses node:dns (a `Resolver` from node:dns/promises, on the servers it
 * is given or the system's); a replay uses inertDnsOps, since every answer
 * comes from the trace instead.
 *
 * Deadlines. node:dns (c-ares) has no per-query deadline, only a timeout per
 * try and a number of tries per server, and Node checks c-ares timeouts on a
 * timer that ticks every min(timeout, 1 s): a try ends between `timeout` and
 * `timeout + min(timeout, 1 s)` after it started. lookupPlan picks the
 * timeout and tries so that even that late end stays inside the time the
 * caller gives; the caller's signal cancels the query outright.
 */
import { Resolver } from 'node:dns/promises'
import { AbortError, FailedError, NotFoundError, TimeoutError } from '../../messages/errors.js'

export interface TxtAnswer {
  /** the TXT records of the name, each one's character-strings joined */
  records: string[]
  /** TTL of the answer in ms, when the lookup knows it (node:dns does not) */
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
   * DNS servers, as node:dns `setServers` takes them: `'127.0.0.1'`,
   * `'127.0.0.1:5353'`, `'[::1]:5353'`. Default: the system's (resolv.conf).
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

/** TXT lookups through node:dns. Throws (at once) if a server address is malformed. */
export function nodeDnsOps (options: NodeDnsOptions = {}): DnsOps {
  const servers = [...(options.servers ?? [])]
  // validate now: setServers throws on a malformed address
  const probe = new Resolver()
  if (servers.length > 0) probe.setServers(servers)
  const serverCount = probe.getServers().length

  return {
    lookupTxt: async (name, { timeoutMs, signal }) => {
      if (signal.aborted) throw new AbortError(`DNS lookup of ${name} cancelled`)
      const plan = lookupPlan(timeoutMs, serverCount)
      if (plan === undefined) throw new TimeoutError(`DNS lookup of ${name}: no time left (${Math.max(0, Math.round(timeoutMs))} ms)`)
      const resolver = new Resolver({ timeout: plan.timeoutMs, maxTimeout: plan.timeoutMs, tries: plan.tries })
      if (servers.length > 0) resolver.setServers(servers)
      const cancel = (): void => { resolver.cancel() }
      signal.addEventListener('abort', cancel, { once: true })
      try {
        // absolute (trailing dot): no search domains from resolv.conf
        const txt = await resolver.resolveTxt(name.endsWith('.') ? name : `${name}.`)
        return { records: txt.map(chunks => chunks.join('')) }
      } catch (err) {
        throw toError(err, name, servers, timeoutMs)
      } finally {
        signal.removeEventListener('abort', cancel)
      }
    }
  }
}

/** replay: answers come from the trace */
export const inertDnsOps: DnsOps = { lookupTxt: async () => await new Promise<TxtAnswer>(() => {}) }
