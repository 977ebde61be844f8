/**
 * The daemon's one HTTP listener (fastify), on an API multiaddr (default
 * /ip4/127.0.0.1/tcp/5001, as kubo). It owns what every face shares:
 *
 * - bounds: request body size (413 beyond), concurrent requests (503 with a
 *   kubo-shaped error body and Retry-After beyond, counted), open connections,
 *   socket / keep-alive / request / handler timeouts (see limits.ts);
 * - `GET /health` (live) and `GET /ready` (joined the network; see probes.ts);
 * - graceful close: stop accepting, answer new requests on open connections
 *   with 503, let in-flight ones finish within `shutdownTimeoutMs`, then call
 *   `onDrainTimeout` (the daemon stops the node there, so the asks still
 *   pending fail typed and their handlers answer), then cut what is left.
 *
 * Faces. A face is a fastify plugin with a name:
 *
 *     const face: HttpFace = { name: 'kubo-rpc', plugin: async app => { app.post('/api/v0/id', …) } }
 *
 * registered in the order given, each with `app.register(plugin)` (fastify's
 * encapsulation: a face's hooks cover its own routes; wrap it with
 * fastify-plugin's skip-override to cover all routes, e.g. for metrics). A
 * face reaches the node through its own closure (build it with the node in
 * hand); the root instance is decorated with `swarmbus.node` and
 * `swarmbus.stats()` (the gate's counters) for faces that want them.
 * Handlers should abort their node.ask/stream when the response closes
 * before they answered (`reply.raw` 'close'): the client left, or the
 * handler timeout (limits.ts) answered 503 for them. `request.signal`
 * aborts when the client leaves only.
 */
import Fastify, { LogController } from 'fastify'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import { httpLimitSettings, installGate } from './limits.js'
import type { HttpLimits, HttpLimitSettings, HttpStats } from './limits.js'
import { parseListenAddress, toMultiaddr, toUrl } from './listen-address.js'
import { registerProbes } from './probes.js'
import type { SwarmNode } from '../node/create-node.js'

export interface HttpFace {
  /** for logs and errors, e.g. 'kubo-rpc', 'routing-v1', 'metrics' */
  name: string
  plugin: FastifyPluginAsync
}

export interface HttpServerOptions {
  node: SwarmNode
  /** API multiaddr (default /ip4/127.0.0.1/tcp/5001; tcp port 0 picks one) */
  listen?: string
  /** registered in order, after /health and /ready */
  faces?: HttpFace[]
  limits?: HttpLimits
  /** pino logger (default: silent) */
  logger?: Logger
  /**
   * called once when in-flight requests are still running after
   * shutdownTimeoutMs of a close; the daemon stops the node here so the asks
   * they wait on fail typed; the server then gives them 1 s before it cuts
   * their connections
   */
  onDrainTimeout?: () => Promise<void>
  /**
   * called on every response of every route, from the server's one
   * onResponse hook (the metrics' request counter: SwarmMetrics.observe);
   * a returned promise is not awaited, its failure is logged
   */
  onResponse?: (request: FastifyRequest, reply: FastifyReply) => unknown
}

export interface HttpServer {
  /** http://127.0.0.1:5001 */
  readonly url: string
  /** /ip4/127.0.0.1/tcp/5001 (the port it really listens on) */
  readonly multiaddr: string
  readonly limits: HttpLimitSettings
  stats(): HttpStats
  /** the fastify instance (tests, inject) */
  readonly app: FastifyInstance
  /** graceful and bounded (see the file comment); idempotent */
  close(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    swarmbus: { node: SwarmNode, stats: () => HttpStats }
  }
}

export const DEFAULT_API_ADDRESS = '/ip4/127.0.0.1/tcp/5001'
/** after onDrainTimeout, how long handlers get to answer before connections are cut */
const CUT_AFTER_MS = 1_000

export async function startHttpServer (opts: HttpServerOptions): Promise<HttpServer> {
  const limits = httpLimitSettings(opts.limits)
  const { host, port } = parseListenAddress(opts.listen ?? DEFAULT_API_ADDRESS)
  const app = Fastify({
    ...(opts.logger !== undefined ? { loggerInstance: opts.logger as FastifyBaseLogger } : {}),
    // one line per request of our own (onResponse below): debug, or warn for a 5xx
    logController: new LogController({ disableRequestLogging: true }),
    // request.log is the server's logger itself, not a pino child per request (a cost on
    // every request of the hot path); our own request lines carry the request id instead
    ...(opts.logger !== undefined ? { childLoggerFactory: (logger: FastifyBaseLogger) => logger } : {}),
    bodyLimit: limits.maxBodyBytes,
    // path parameters: names, CIDs and routing keys (fastify's default of 100 cuts long CIDs into a 404)
    routerOptions: { maxParamLength: 512 },
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // the handler timeout is the gate's (limits.ts): one sweep timer, not fastify's timer per request
    forceCloseConnections: 'idle',
    // the gate answers requests that come while closing (counted, with the kubo error body)
    return503OnClosing: false
  })
  app.server.maxConnections = limits.maxConnections
  let closing = false
  const gate = installGate(app, limits.maxConcurrentRequests, () => closing, limits.handlerTimeoutMs)
  const stats = gate.stats
  app.decorate('swarmbus', { node: opts.node, stats: () => ({ ...stats }) })
  // the hooks every request runs are callback-style (no promise per request); an answer
  // sent while closing ends its connection through the gate (endKeepAlive), not a hook of its own
  const log = opts.logger
  const observe = opts.onResponse
  app.addHook('onResponse', (request, reply, done) => {
    if (log !== undefined && (reply.statusCode >= 500 || log.isLevelEnabled('debug'))) {
      const fields = { reqId: request.id, method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }
      if (reply.statusCode >= 500) log.warn(fields, 'request failed')
      else log.debug(fields, 'request')
    }
    if (observe !== undefined) {
      try {
        const r = observe(request, reply)
        if (r instanceof Promise) r.catch((err: unknown) => { log?.warn({ err }, 'onResponse failed') })
      } catch (err) {
        log?.warn({ err }, 'onResponse failed')
      }
    }
    done()
  })
  registerProbes(app, opts.node, () => closing, performance.now())
  for (const face of opts.faces ?? []) {
    try {
      await app.register(face.plugin)
    } catch (err) {
      await app.close()
      throw new Error(`the HTTP face '${face.name}' failed to register: ${(err as Error).message}`, { cause: err })
    }
  }
  try {
    await app.listen({ host, port })
  } catch (err) {
    await app.close()
    const code = (err as { code?: string }).code
    const why = code === 'EADDRINUSE' ? 'the address is in use (another daemon, or kubo, on this port?)' : (err as Error).message
    throw new Error(`cannot listen on ${opts.listen ?? DEFAULT_API_ADDRESS}: ${why}`, { cause: err })
  }
  const bound = app.server.address()
  const realPort = typeof bound === 'object' && bound !== null ? bound.port : port

  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= (async () => {
      closing = true
      gate.endKeepAlive()
      const done = app.close()
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<boolean>(resolve => { timer = setTimeout(() => { resolve(true) }, limits.shutdownTimeoutMs) })
      const late = await Promise.race([done.then(() => false), timedOut])
      clearTimeout(timer)
      if (!late) return
      opts.logger?.warn({ inFlight: stats.inFlight, afterMs: limits.shutdownTimeoutMs }, 'shutdown: requests still in flight')
      if (opts.onDrainTimeout !== undefined) await opts.onDrainTimeout()
      const cut = setTimeout(() => {
        opts.logger?.warn({ inFlight: stats.inFlight }, 'shutdown: cutting the connections left')
        app.server.closeAllConnections()
      }, CUT_AFTER_MS)
      try {
        await done
      } finally {
        clearTimeout(cut)
      }
    })()
    await closed
  }

  return {
    url: toUrl(host, realPort),
    multiaddr: toMultiaddr(host, realPort),
    limits,
    stats: () => ({ ...stats }),
    app,
    close
  }
}
