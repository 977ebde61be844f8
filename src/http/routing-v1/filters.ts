/**
 * IPIP-484 filters, as boxo's routing/http/filters applies them.
 *
 * - `filter-protocols=a,b,unknown`: keep a record if any of its Protocols is
 *   listed, or if `unknown` is listed and it has none. The record is kept
 *   whole (all its protocols).
 * - `filter-addrs=tcp,!p2p-circuit,unknown`: entries are multiaddr protocol
 *   names, `!name` negates. An address is kept when it has none of the
 *   negated protocols and (there is no positive entry or it has one of
 *   them). A record left with no address is dropped unless `unknown` is
 *   listed (which also keeps records that had no address to begin with).
 *
 * Lists are comma-separated and case-insensitive; empty entries are ignored.
 * Without a parameter nothing is filtered.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { BadRequest } from './parse.js'
import type { PeerRecordJson } from './records.js'

/** at most this many entries per list, each at most 63 characters (the spec's protocol-name bound) */
const MAX_ENTRIES = 64
const MAX_ENTRY_LENGTH = 63

export interface Filters {
  addrs: string[] | undefined
  protocols: string[] | undefined
}

function parseList (param: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  const text = Array.isArray(value) ? value.join(',') : String(value)
  const entries = text.split(',').map(s => s.trim().toLowerCase()).filter(s => s.length > 0)
  if (entries.length > MAX_ENTRIES) throw new BadRequest(`${param}: at most ${MAX_ENTRIES} entries`)
  const long = entries.find(e => e.length > MAX_ENTRY_LENGTH)
  if (long !== undefined) throw new BadRequest(`${param}: an entry is longer than ${MAX_ENTRY_LENGTH} characters`)
  return entries.length === 0 ? undefined : entries
}

export function parseFilters (query: Record<string, unknown>): Filters {
  return { addrs: parseList('filter-addrs', query['filter-addrs']), protocols: parseList('filter-protocols', query['filter-protocols']) }
}

function protocolNames (addr: string): string[] | undefined {
  try {
    return multiaddr(addr).getComponents().map(c => c.name.toLowerCase())
  } catch {
    // an address this node cannot read matches no protocol filter: it is judged by its (absent) names
    return undefined
  }
}

function addrPasses (addr: string, positive: string[], negative: string[]): boolean {
  const names = protocolNames(addr) ?? []
  if (negative.some(n => names.includes(n))) return false
  return positive.length === 0 || positive.some(p => names.includes(p))
}

/** The record as it passes the filters (addresses narrowed), or undefined when it is dropped. */
export function applyFilters (record: PeerRecordJson, filters: Filters): PeerRecordJson | undefined {
  if (filters.protocols !== undefined) {
    const wanted = filters.protocols
    const own = (record.Protocols ?? []).map(p => p.toLowerCase())
    const keep = own.length === 0 ? wanted.includes('unknown') : own.some(p => wanted.includes(p))
    if (!keep) return undefined
  }
  if (filters.addrs === undefined) return record
  const unknown = filters.addrs.includes('unknown')
  const negative = filters.addrs.filter(e => e.startsWith('!')).map(e => e.slice(1))
  const positive = filters.addrs.filter(e => !e.startsWith('!') && e !== 'unknown')
  const addrs = record.Addrs.filter(a => addrPasses(a, positive, negative))
  if (addrs.length === 0 && !unknown) return undefined
  return { ...record, Addrs: addrs }
}
