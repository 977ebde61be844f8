/**
 * GET and PUT /routing/v1/ipns/{name}. GET resolves one hop through the bus
 * (ipns.resolve, recursive: false, record: true) and answers with the record's
 * bytes and boxo's headers; PUT hands the body to ipns.put, which verifies it
 * against the name (record.verify), refuses a lower sequence than the node
 * holds, stores it and puts it to the DHT. No record is read or checked here.
 */
import { createHash } from 'node:crypto'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { parseRfc3339 } from '../../records/rfc3339.js'
import { SwarmbusError } from '../../messages/errors.js'
import { BadRequest, MEDIA_IPNS_RECORD, parseIpnsName } from './parse.js'
import { sendError } from './respond.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { SwarmNode } from '../../node/create-node.js'
import type { ResolveReply } from '../../messages/ipns.js'
import '../../messages/ipns.js'

/** the IPNS record spec's size bound: PUT bodies beyond it are refused (413) unread */
export const MAX_IPNS_RECORD_BYTES = 10 * 1024

const NS_PER_S = 1_000_000_000n

/** a record's EOL in ms since the epoch, from its RFC 3339 validity; undefined when it cannot be read */
function eolMsOf (validity: string): number | undefined {
  try {
    return Number(parseRfc3339(validity) / 1_000_000n)
  } catch {
    return undefined // no EOL we can read: nothing to cache it by
  }
}

function cacheHeadersAt (eolMs: number | undefined, ttl: bigint, expires: string | undefined, nowMs: number): { cacheControl: string, expires?: string } {
  if (eolMs === undefined || expires === undefined) return { cacheControl: 'no-store' }
  const remaining = Math.floor((eolMs - nowMs) / 1000)
  if (remaining <= 0) return { cacheControl: 'no-store', expires }
  const ttlS = ttl > 0n ? Number(ttl / NS_PER_S) : 0
  const maxAge = Math.max(0, Math.min(ttlS, remaining))
  return { cacheControl: `public, max-age=${maxAge}, stale-while-revalidate=${remaining}, stale-if-error=${remaining}`, expires }
}

/**
 * boxo's IPNS cache headers: max-age the record's TTL capped at what is left
 * of its validity, stale-while-revalidate and stale-if-error up to the end of
 * validity, Expires at the EOL; no-store once it has expired.
 */
export function ipnsCacheHeaders (reply: Pick<ResolveReply, 'ttl' | 'validity'>, nowMs: number): { cacheControl: string, expires?: string } {
  const eolMs = eolMsOf(reply.validity)
  return cacheHeadersAt(eolMs, reply.ttl, eolMs !== undefined ? new Date(eolMs).toUTCString() : undefined, nowMs)
}

/** derived from the record bytes, as the spec asks (boxo hashes them with xxhash; any stable digest will do) */
export function etagOf (record: Uint8Array): string {
  return `"${base32.baseEncode(createHash('sha256').update(record).digest().subarray(0, 16))}"`
}

export interface IpnsRouteOptions {
  timeoutMs: number
  /** called first on every request, before anything can answer (the face's CORS headers) */
  first?: (reply: FastifyReply) => unknown
}

/*
 * The hot path of a cached GET does no work twice for the same answer: the
 * IPNS cache hands back the same record bytes for every hit, so what is
 * derived from them (ETag, EOL, Expires) is kept beside them (a WeakMap: it
 * goes when the cache drops the record); the names clients ask for are
 * parsed once (a bounded memo; a bad name is never kept); Last-Modified is
 * formatted once a second.
 */
interface Derived {
  etag: string
  eolMs: number | undefined
  expires: string | undefined
  /** the bytes as the Buffer fastify sends (a view, no copy) */
  body: Buffer
  /** the cache headers as of second `second` (they change once a second at most) */
  second: number
  cache: { cacheControl: string, expires?: string }
}
const derived = new WeakMap<Uint8Array, Derived>()

function derivedOf (record: Uint8Array, validity: string): Derived {
  let d = derived.get(record)
  if (d === undefined) {
    const eolMs = eolMsOf(validity)
    d = {
      etag: etagOf(record),
      eolMs,
      expires: eolMs !== undefined ? new Date(eolMs).toUTCString() : undefined,
      body: Buffer.from(record.buffer, record.byteOffset, record.byteLength),
      second: Number.NaN,
      cache: { cacheControl: 'no-store' }
    }
    derived.set(record, d)
  }
  return d
}

/**
 * the record's cache headers at `nowMs`, computed once per second of the
 * clock, as of that second's last millisecond: never a max-age past the
 * record's EOL, at most 1 s short of the exact one (ttl is the record's own:
 * the same bytes, the same ttl)
 */
function cacheOf (d: Derived, ttl: bigint, nowMs: number): { cacheControl: string, expires?: string } {
  const second = Math.floor(nowMs / 1000)
  if (second !== d.second) {
    d.cache = cacheHeadersAt(d.eolMs, ttl, d.expires, second * 1000 + 999)
    d.second = second
  }
  return d.cache
}

const NAME_MEMO_MAX = 1024
interface Named { name: string, disposition: string }
const names = new Map<string, Named>()

/** the base36 form of a name as a client wrote it, and its Content-Disposition (throws BadRequest as parseIpnsName does) */
function canonicalName (text: string): Named {
  const known = names.get(text)
  if (known !== undefined) return known
  const name = parseIpnsName(text).toString(base36)
  const named = { name, disposition: `attachment; filename="${name}.ipns-record"` }
  if (names.size >= NAME_MEMO_MAX) names.delete(names.keys().next().value as string)
  names.set(text, named)
  return named
}

let nowSecond = -1
let nowText = ''
function httpDateNow (nowMs: number): string {
  const second = Math.floor(nowMs / 1000)
  if (second !== nowSecond) {
    nowSecond = second
    nowText = new Date(second * 1000).toUTCString()
  }
  return nowText
}

export function getIpns (node: SwarmNode, options: IpnsRouteOptions) {
  const first = options.first
  return async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    first?.(reply)
    reply.header('Vary', 'Accept')
    if (!String(request.headers.accept ?? '').includes(MEDIA_IPNS_RECORD)) {
      return sendError(reply, new BadRequest(`content type in 'Accept' header is missing or not supported: send Accept: ${MEDIA_IPNS_RECORD}`, 406))
    }
    let named: Named
    try {
      named = canonicalName(request.params.name)
    } catch (err) {
      return sendError(reply, err)
    }
    const name = named.name
    // a client that leaves while the resolve runs aborts it; once it settled, nothing to abort
    // (an abort after the answer would only cost a DOMException per request)
    const controller = new AbortController()
    const leave = (): void => { controller.abort() }
    reply.raw.once('close', leave)
    let resolved: ResolveReply
    try {
      resolved = await node.ask({ type: 'ipns.resolve', name, recursive: false, record: true }, { timeoutMs: options.timeoutMs, signal: controller.signal })
    } catch (err) {
      if (err instanceof SwarmbusError && err.kind === 'not-found') {
        // IPIP-0513: 200 with a content type other than the record's means "no record"
        return reply.code(200).type('text/plain; charset=utf-8').header('Cache-Control', 'public, max-age=15').send(`delegate error: routing: not found: ${err.message}`)
      }
      return sendError(reply, err)
    } finally {
      reply.raw.off('close', leave)
    }
    const record = resolved.record
    if (record === undefined) return sendError(reply, new Error(`the resolve of ${name} answered without the record`))
    const d = derivedOf(record, resolved.validity)
    const now = Date.now()
    const { cacheControl, expires } = cacheOf(d, resolved.ttl, now)
    reply.header('Cache-Control', cacheControl)
    if (expires !== undefined) reply.header('Expires', expires)
    reply.header('Etag', d.etag)
    reply.header('Last-Modified', httpDateNow(now))
    reply.header('Content-Disposition', named.disposition)
    return reply.code(200).type(MEDIA_IPNS_RECORD).send(d.body)
  }
}

export function putIpns (node: SwarmNode, options: IpnsRouteOptions) {
  return async (request: FastifyRequest<{ Params: { name: string }, Body: Buffer | undefined }>, reply: FastifyReply): Promise<FastifyReply> => {
    let name: string
    try {
      name = parseIpnsName(request.params.name).toString(base36)
    } catch (err) {
      return sendError(reply, err)
    }
    const body = request.body
    if (!(body instanceof Uint8Array) || body.byteLength === 0) return sendError(reply, new BadRequest('provided record is invalid: the body is empty'))
    try {
      await node.ask({ type: 'ipns.put', name, record: new Uint8Array(body) }, { timeoutMs: options.timeoutMs })
    } catch (err) {
      if (err instanceof SwarmbusError && (err.kind === 'invalid-record' || err.kind === 'invalid')) {
        return sendError(reply, new BadRequest(`provided record is invalid: ${err.message}`))
      }
      return sendError(reply, err)
    }
    return reply.code(200).send()
  }
}

/** the PUT's content type, checked before the body is read (406, as boxo answers) */
export function requireRecordContentType (request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  if (!String(request.headers['content-type'] ?? '').includes(MEDIA_IPNS_RECORD)) {
    void sendError(reply, new BadRequest(`content type in 'Content-Type' header is missing or not supported: send Content-Type: ${MEDIA_IPNS_RECORD}`, 406))
    return
  }
  done()
}
