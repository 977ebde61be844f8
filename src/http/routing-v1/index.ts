/**
 * The Delegated Routing V1 HTTP API (ipfs/specs http-routing-v1) as a fastify
 * plugin over a node's bus, written to what the Helia client needs and what
 * boxo's server (kubo, someguy) does:
 *
 *   GET  /routing/v1/providers/{cid}          dht.findProviders
 *   GET  /routing/v1/peers/{peer-id}          dht.findPeer
 *   GET  /routing/v1/dht/closest/peers/{key}  dht.closestPeers
 *   GET  /routing/v1/ipns/{name}              ipns.resolve (one hop, with the record)
 *   PUT  /routing/v1/ipns/{name}              ipns.put
 *
 * JSON or NDJSON by Accept, IPIP-484 filters, boxo's cache headers, CORS for
 * GET, PUT and OPTIONS. Every lookup has a deadline below the Helia client's
 * 30 s. See docs/routing-v1-server.md.
 */
import { parseFilters } from './filters.js'
import { getIpns, MAX_IPNS_RECORD_BYTES, putIpns, requireRecordContentType } from './ipns.js'
import { MEDIA_IPNS_RECORD, negotiate, parseCid, parseClosestKey, parsePeerId } from './parse.js'
import { sortByDistance, toPeerRecord } from './records.js'
import { sendError, sendRecords } from './respond.js'
import { SwarmbusError } from '../../messages/errors.js'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { SwarmNode } from '../../node/create-node.js'
import type { PeerRecordJson } from './records.js'
import '../../messages/swarm.js'

export interface RoutingV1Options {
  /** deadline of each lookup on the bus (default 25 s: the Helia client gives up at 30 s) */
  timeoutMs?: number
  /** most records in a JSON answer (default 20, as boxo) */
  recordsLimit?: number
  /** most records in an NDJSON answer (default 256: what one DHT query yields at most) */
  streamingRecordsLimit?: number
  /** most peers in a closest-peers answer (default 20, the DHT's bucket size) */
  closestLimit?: number
}

export const ROUTING_V1_DEFAULTS = { timeoutMs: 25_000, recordsLimit: 20, streamingRecordsLimit: 256, closestLimit: 20 } as const

/** the DHT's own cap on one query's results: what a closest-peers answer is sorted from */
const MAX_LOOKUP_RESULTS = 256
/** how long a closest peer's addresses may take to look up (peer store, then the DHT) */
const ADDRS_TIMEOUT_MS = 2_000

/** on every answer (a browser reads a GET's or PUT's answer by these) */
const CORS_ORIGIN = '*'
const CORS_EXPOSE = 'Cache-Control, Content-Type, Etag, Expires, Last-Modified, Vary'
/** on the preflight's answer only: a browser reads these there and nowhere else (fewer headers on every GET) */
const CORS_PREFLIGHT = {
  'Access-Control-Allow-Methods': 'GET, PUT, OPTIONS',
  'Access-Control-Allow-Headers': 'Accept, Content-Type',
  'Access-Control-Max-Age': '86400'
}

type Params<K extends string> = FastifyRequest<{ Params: Record<K, string>, Querystring: Record<string, unknown> }>

function positive (value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`routingV1Face: ${what} must be a positive integer`)
  return value
}

export function routingV1Face (node: SwarmNode, options: RoutingV1Options = {}): FastifyPluginAsync {
  const timeoutMs = positive(options.timeoutMs, ROUTING_V1_DEFAULTS.timeoutMs, 'timeoutMs')
  const recordsLimit = positive(options.recordsLimit, ROUTING_V1_DEFAULTS.recordsLimit, 'recordsLimit')
  const streamingLimit = positive(options.streamingRecordsLimit, ROUTING_V1_DEFAULTS.streamingRecordsLimit, 'streamingRecordsLimit')
  const closestLimit = positive(options.closestLimit, ROUTING_V1_DEFAULTS.closestLimit, 'closestLimit')

  /** a lookup's request: format, filters and limit from the request, or the 400 it deserves */
  const listRequest = (request: Params<string>, reply: FastifyReply): { format: 'json' | 'ndjson', filters: ReturnType<typeof parseFilters>, limit: number } | undefined => {
    try {
      const format = negotiate(request.headers.accept)
      return { format, filters: parseFilters(request.query ?? {}), limit: format === 'json' ? recordsLimit : streamingLimit }
    } catch (err) {
      void sendError(reply, err)
      return undefined
    }
  }

  /** the record with the addresses the node knows for its peer, or as it was when none are known in time */
  const withAddrs = async (r: PeerRecordJson, signal: AbortSignal): Promise<PeerRecordJson> => {
    try {
      return toPeerRecord(await node.ask({ type: 'dht.findPeer', peerId: r.ID }, { timeoutMs: ADDRS_TIMEOUT_MS, signal }))
    } catch {
      return r // no addresses known in time: an empty Addrs says "unknown", as the spec allows
    }
  }

  /**
   * a lookup route: its path parameter parsed (400 when bad), the format,
   * filters and limit (at most `maxLimit`) read, then the records of
   * `lookup(value, limit)` sent
   */
  const lookupRoute = <P extends string, T>(
    param: P, parse: (text: string) => T, key: 'Providers' | 'Peers', maxLimit: number,
    lookup: (value: T, limit: number) => (signal: AbortSignal) => AsyncIterable<PeerRecordJson>
  ) => async (request: Params<P>, reply: FastifyReply): Promise<FastifyReply> => {
    let value: T
    try {
      value = parse((request.params as Record<P, string>)[param])
    } catch (err) {
      return sendError(reply, err)
    }
    const list = listRequest(request, reply)
    if (list === undefined) return reply
    const limit = Math.min(list.limit, maxLimit)
    return await sendRecords(reply, { ...list, limit, key, source: lookup(value, limit) })
  }

  const cors = (reply: FastifyReply): FastifyReply => reply.header('Access-Control-Allow-Origin', CORS_ORIGIN).header('Access-Control-Expose-Headers', CORS_EXPOSE)

  return async (face) => {
    face.addContentTypeParser(MEDIA_IPNS_RECORD, { parseAs: 'buffer', bodyLimit: MAX_IPNS_RECORD_BYTES }, (_request, body, done) => { done(null, body) })
    face.setErrorHandler(async (err: { statusCode?: number, message: string }, _request, reply) => {
      // fastify's own refusals (body too large, bad content length, …) keep their status, in plain text
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
      return await reply.code(status).type('text/plain; charset=utf-8').send(err.message.slice(0, 1024))
    })

    // the cached IPNS GET, the hot route, sets the CORS headers itself, first thing (a hook is a cost on every request)
    await face.register(async (hot) => {
      hot.get<{ Params: { name: string } }>('/routing/v1/ipns/:name', getIpns(node, { timeoutMs, first: cors }))
    })
    // every other route and answer gets them from a hook, before anything can answer
    await face.register(async (app) => {
      app.addHook('onRequest', (_request, reply, done) => {
        cors(reply)
        done()
      })

      app.options('/routing/v1/*', async (_request, reply) => await reply.code(204).headers(CORS_PREFLIGHT).send())

      app.get('/routing/v1/providers/:cid', lookupRoute('cid', text => parseCid(text).toString(), 'Providers', Infinity, cid => async function * (signal) {
        for await (const p of node.stream({ type: 'dht.findProviders', cid }, { timeoutMs, signal })) yield toPeerRecord(p)
      }))

      app.get('/routing/v1/peers/:peerId', lookupRoute('peerId', text => parsePeerId(text).peerId, 'Peers', Infinity, peerId => async function * (signal) {
        const found = await node.ask({ type: 'dht.findPeer', peerId }, { timeoutMs, signal })
        yield toPeerRecord(found)
      }))

      app.get('/routing/v1/dht/closest/peers/:key', lookupRoute('key', parseClosestKey, 'Peers', closestLimit, (key, limit) => async function * (signal) {
        // the lookup runs to its end, then the peers go out closest first
        const found: PeerRecordJson[] = []
        try {
          for await (const p of node.stream({ type: 'dht.closestPeers', key }, { timeoutMs, signal })) {
            found.push(toPeerRecord(p))
            if (found.length >= MAX_LOOKUP_RESULTS) break
          }
        } catch (err) {
          // a lookup cut by its deadline still answers with the closest it met
          if (!(err instanceof SwarmbusError && err.kind === 'timeout' && found.length > 0)) throw err
        }
        // a lookup names peers by id; their addresses come from the peer store (dht.findPeer asks it first)
        const sorted = sortByDistance(key, found).slice(0, limit)
        yield * await Promise.all(sorted.map(async r => r.Addrs.length > 0 ? r : await withAddrs(r, signal)))
      }))

      app.put<{ Params: { name: string }, Body: Buffer | undefined }>('/routing/v1/ipns/:name', { onRequest: requireRecordContentType }, putIpns(node, { timeoutMs }))
    })
  }
}

export { MAX_IPNS_RECORD_BYTES } from './ipns.js'
