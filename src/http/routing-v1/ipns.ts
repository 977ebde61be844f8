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

/**
 * boxo's IPNS cache headers: max-age the record's TTL capped at what is left
 * of its validity, stale-while-revalidate and stale-if-error up to the end of
 * validity, Expires at the EOL; no-store once it has expired.
 */
export function ipnsCacheHeaders (reply: Pick<ResolveReply, 'ttl' | 'validity'>, nowMs: number): { cacheControl: string, expires?: string } {
  let eolMs: number | undefined
  try {
    eolMs = Number(parseRfc3339(reply.validity) / 1_000_000n)
  } catch {
    eolMs = undefined // no EOL we can read: nothing to cache it by
  }
  if (eolMs === undefined) return { cacheControl: 'no-store' }
  const expires = new Date(eolMs).toUTCString()
  const remaining = Math.floor((eolMs - nowMs) / 1000)
  if (remaining <= 0) return { cacheControl: 'no-store', expires }
  const ttl = reply.ttl > 0n ? Number(reply.ttl / NS_PER_S) : 0
  const maxAge = Math.max(0, Math.min(ttl, remaining))
  return { cacheControl: `public, max-age=${maxAge}, stale-while-revalidate=${remaining}, stale-if-error=${remaining}`, expires }
}

/** derived from the record bytes, as the spec asks (boxo hashes them with xxhash; any stable digest will do) */
export function etagOf (record: Uint8Array): string {
  return `"${base32.baseEncode(createHash('sha256').update(record).digest().subarray(0, 16))}"`
}

export interface IpnsRouteOptions { timeoutMs: number }

export function getIpns (node: SwarmNode, options: IpnsRouteOptions) {
  return async (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<FastifyReply> => {
    reply.header('Vary', 'Accept')
    if (!String(request.headers.accept ?? '').includes(MEDIA_IPNS_RECORD)) {
      return sendError(reply, new BadRequest(`content type in 'Accept' header is missing or not supported: send Accept: ${MEDIA_IPNS_RECORD}`, 406))
    }
    let name: string
    try {
      name = parseIpnsName(request.params.name).toString(base36)
    } catch (err) {
      return sendError(reply, err)
    }
    const controller = new AbortController()
    reply.raw.once('close', () => { controller.abort() })
    let resolved: ResolveReply
    try {
      resolved = await node.ask({ type: 'ipns.resolve', name, recursive: false, record: true }, { timeoutMs: options.timeoutMs, signal: controller.signal })
    } catch (err) {
      if (err instanceof SwarmbusError && err.kind === 'not-found') {
        // IPIP-0513: 200 with a content type other than the record's means "no record"
        return reply.code(200).type('text/plain; charset=utf-8').header('Cache-Control', 'public, max-age=15').send(`delegate error: routing: not found: ${err.message}`)
      }
      return sendError(reply, err)
    }
    const record = resolved.record
    if (record === undefined) return sendError(reply, new Error(`the resolve of ${name} answered without the record`))
    const { cacheControl, expires } = ipnsCacheHeaders(resolved, Date.now())
    reply.header('Cache-Control', cacheControl)
    if (expires !== undefined) reply.header('Expires', expires)
    reply.header('Etag', etagOf(record))
    reply.header('Last-Modified', new Date().toUTCString())
    reply.header('Content-Disposition', `attachment; filename="${name}.ipns-record"`)
    return reply.code(200).type(MEDIA_IPNS_RECORD).send(Buffer.from(record.buffer, record.byteOffset, record.byteLength))
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
