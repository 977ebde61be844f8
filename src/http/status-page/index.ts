/**
 * The status page face: `/` for a person (peers and connections, routing
 * table buckets, mode and reachability, recent IPNS resolves and publishes
 * with their lifecycles, latency, the republisher), read-only. See
 * docs/status-page.md.
 *
 * - `GET /` the HTML (page.ts), `GET /status-page.js` and `/status-page.css`
 *   its script and style (script.ts, page.ts): strings in the build, no
 *   asset step;
 * - `GET /api/status` the JSON the script polls (status.ts).
 *
 * GET (and fastify's HEAD) only, no CORS: the page is same-origin, and a
 * strict Content-Security-Policy keeps it to its own script, style and
 * endpoint. With API.Authorizations configured, each path needs a secret
 * whose AllowedPaths covers it (as kubo's RPC; `/` covers all), else 401
 * with a Basic challenge so a browser asks for a `basic:` secret. Without
 * them, only a Host that is an IP literal or localhost is answered (a guard
 * against DNS rebinding; see loopbackOrLiteralHost).
 *
 * The face subscribes to the node's progress events when it is registered
 * (the ring of recent operations, operations.ts) and unsubscribes when the
 * server closes.
 */
import { isIP } from 'node:net'
import { authorized, compileAuthorizations } from '../kubo-rpc/security.js'
import { OperationRing } from './operations.js'
import { STATUS_PAGE_CSS, STATUS_PAGE_HTML } from './page.js'
import { STATUS_PAGE_JS } from './script.js'
import { pageStatus } from './status.js'
import type { Authorizations } from '../kubo-rpc/security.js'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { SwarmNode } from '../../node/create-node.js'

export { OperationRing, DEFAULT_OPERATIONS, MAX_OPERATIONS } from './operations.js'
export type { Operation, OperationStep, OperationsSnapshot, DurationHistogram } from './operations.js'
export type { PageStatus, CommandLatency } from './status.js'
export type { LatencyHistogram } from './histograms.js'

export const STATUS_PAGE_PATH = '/'
export const STATUS_JSON_PATH = '/api/status'

export interface StatusPageOptions {
  /** recent operations kept (default 50, at most 1000) */
  operations?: number
  /** kubo's API.Authorizations: when given, every path of the page needs one */
  authorizations?: Authorizations
  /** the daemon's metrics registry: the IPNS latency histograms since start come from it */
  registry?: Registry
}

const CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
  "img-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'"
].join('; ')

/**
 * Without authorizations, the page answers only a Host that is an IP literal
 * or localhost: a site whose name an attacker rebinds to 127.0.0.1 (DNS
 * rebinding) would otherwise read /api/status as same-origin. With
 * authorizations the browser keeps credentials per origin, so they guard it.
 */
export function loopbackOrLiteralHost (host: string | undefined): boolean {
  if (host === undefined) return false
  const name = (host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '')).toLowerCase()
  if (name === 'localhost' || name.endsWith('.localhost')) return true
  if (name.startsWith('[') && name.endsWith(']')) return isIP(name.slice(1, -1)) === 6
  return isIP(name) === 4
}

export function statusPageFace (node: SwarmNode, options: StatusPageOptions = {}): FastifyPluginAsync {
  const secrets = compileAuthorizations(options.authorizations)
  return async app => {
    const ring = new OperationRing(options.operations)
    const off = node.on('progress', e => { ring.observe(e) })
    app.addHook('onClose', async () => { off() })

    const guard = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      reply
        .header('cache-control', 'no-store')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header('content-security-policy', CSP)
      if (secrets === undefined && !loopbackOrLiteralHost(request.headers.host)) {
        return await reply.code(403).type('text/plain; charset=utf-8').send('403 - Forbidden: open the status page by IP address or localhost\n')
      }
      if (authorized(secrets, request.routeOptions.url ?? request.url, request.headers.authorization)) return undefined
      return await reply.code(401).header('www-authenticate', 'Basic realm="swarmbus", charset="UTF-8"').type('text/plain; charset=utf-8').send('401 - Unauthorized\n')
    }
    const asset = (type: string, body: string) => async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
      await reply.type(type).send(body)

    app.get(STATUS_PAGE_PATH, { onRequest: guard }, asset('text/html; charset=utf-8', STATUS_PAGE_HTML))
    app.get('/status-page.js', { onRequest: guard }, asset('text/javascript; charset=utf-8', STATUS_PAGE_JS))
    app.get('/status-page.css', { onRequest: guard }, asset('text/css; charset=utf-8', STATUS_PAGE_CSS))
    app.get(STATUS_JSON_PATH, { onRequest: guard }, async (request, reply) => {
      try {
        return await reply.type('application/json; charset=utf-8').send(await pageStatus(node, ring, options.registry, request.signal))
      } catch (err) {
        request.log.warn({ err }, 'status page: status failed')
        return await reply.code(503).type('application/json; charset=utf-8').send({ error: err instanceof Error ? err.message : String(err) })
      }
    })
  }
}
