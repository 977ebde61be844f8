/**
 * The HTTP listener's bounds (one place, one set of defaults) and the gate
 * that holds concurrent requests under `maxConcurrentRequests`: one more is
 * answered at once with 503, a kubo-shaped error body and `Retry-After`, and
 * counted. /health and /ready pass the gate (a probe must answer under load),
 * but count as in flight while they run.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export interface HttpLimits {
  /** largest request body in bytes (default 1 MiB); beyond it fastify answers 413 */
  maxBodyBytes?: number
  /** requests served at once (default 256); beyond it a 503 */
  maxConcurrentRequests?: number
  /** open TCP connections (default 1,024); beyond it node closes the new socket at once */
  maxConnections?: number
  /** a socket idle this long is closed (default 60 s; 0 = never) */
  connectionTimeoutMs?: number
  /** a keep-alive connection with no request for this long is closed (default 5 s) */
  keepAliveTimeoutMs?: number
  /** the whole request (headers and body) must arrive within this (default 30 s) */
  requestTimeoutMs?: number
  /** a route's answer must start within this, else a 503 answers for it (and its response closes) (default 10 min; 0 = none) */
  handlerTimeoutMs?: number
  /** graceful close: in-flight requests get this long to finish before their connections are cut (default 10 s) */
  shutdownTimeoutMs?: number
}

export type HttpLimitSettings = Required<HttpLimits>

export const DEFAULT_HTTP_LIMITS: HttpLimitSettings = {
  maxBodyBytes: 1024 * 1024,
  maxConcurrentRequests: 256,
  maxConnections: 1024,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  handlerTimeoutMs: 600_000,
  shutdownTimeoutMs: 10_000
}

/** node's timers take at most 2^31 - 1 ms */
const MAX_MS = 2 ** 31 - 1

/** The limits with defaults filled in; a bad one is a RangeError naming it. */
export function httpLimitSettings (limits: HttpLimits = {}): HttpLimitSettings {
  const out = { ...DEFAULT_HTTP_LIMITS }
  for (const [name, value] of Object.entries(limits) as Array<[keyof HttpLimits, number | undefined]>) {
    if (value === undefined) continue
    if (!(name in DEFAULT_HTTP_LIMITS)) throw new RangeError(`unknown HTTP limit '${name}'`)
    const zeroOk = name === 'connectionTimeoutMs' || name === 'handlerTimeoutMs'
    const max = name.endsWith('Ms') ? MAX_MS : Number.MAX_SAFE_INTEGER
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (zeroOk ? 0 : 1) || value > max) {
      throw new RangeError(`HTTP limit ${name} must be an integer from ${zeroOk ? 0 : 1} to ${max} (got ${String(value)})`)
    }
    out[name] = value
  }
  return out
}

export interface HttpStats {
  /** requests being served now */
  inFlight: number
  /** requests answered 503 because maxConcurrentRequests were in flight */
  rejectedOverload: number
  /** requests answered 503 because the server was closing */
  rejectedClosing: number
  /** requests taken in (past the gate) since the start */
  accepted: number
}

/** paths the gate never refuses */
const PROBES = new Set(['/health', '/ready'])

function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/** a route that did not start its answer within API.Limits.HandlerTimeout (answered 503 by the face's error handler) */
export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError'
  readonly code = 'SWARMBUS_HANDLER_TIMEOUT'
  readonly statusCode = 503
  constructor (readonly timeoutMs: number, readonly url: string) {
    super(`the route did not start its answer within ${timeoutMs} ms (API.Limits.HandlerTimeout)`)
  }
}

/** how often the handler-timeout sweep looks at the oldest requests: a quarter of the timeout, from 10 ms to 1 s */
export const sweepEveryMs = (handlerTimeoutMs: number): number => Math.max(10, Math.min(1_000, Math.floor(handlerTimeoutMs / 4)))

/**
 * Installs the gate as the first onRequest hook of `app` and returns its
 * counters; `closing()` says whether the server is shutting down (new
 * requests then get 503 too).
 *
 * With `handlerTimeoutMs` > 0 it also bounds how long a route may take to
 * start its answer: the requests in flight are kept in arrival order, and
 * one timer (every sweepEveryMs, unref'd) answers those older than the
 * bound that have sent nothing yet with a HandlerTimeoutError (503, through
 * the face's error handler). The 503 closes the response: handlers abort
 * their work on `reply.raw`'s 'close' before they answered (the faces do:
 * the routing GET, sendRecords, the kubo calls); `request.signal` is not
 * aborted by it (fastify drops its listener once a response finished), so a
 * handler that only watches request.signal runs on to its own bounds and
 * its late answer is dropped. That is fastify's `handlerTimeout` without
 * its timer, AbortController and close listener per request; a route is
 * answered at most one sweep late.
 */
export interface Gate {
  readonly stats: HttpStats
  /**
   * the server starts closing: every answer in flight that has not started
   * ends its connection (Connection: close), so no client sends its next
   * request into a closed server (those that come meanwhile get the 503)
   */
  endKeepAlive(): void
}

export function installGate (app: FastifyInstance, max: number, closing: () => boolean, handlerTimeoutMs = 0): Gate {
  const stats: HttpStats = { inFlight: 0, rejectedOverload: 0, rejectedClosing: 0, accepted: 0 }
  /** requests in flight, oldest first (a Set keeps insertion order) */
  const live = new Set<FastifyReply>()
  if (handlerTimeoutMs > 0) {
    const timer = setInterval(() => {
      for (const reply of live) {
        if (reply.elapsedTime < handlerTimeoutMs) break
        live.delete(reply)
        if (reply.sent || reply.raw.headersSent) continue // the answer started: its own deadlines bound the rest
        reply.send(new HandlerTimeoutError(handlerTimeoutMs, reply.request.url))
      }
    }, sweepEveryMs(handlerTimeoutMs))
    timer.unref()
    app.addHook('onClose', (_instance, done) => { clearInterval(timer); done() })
  }
  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const probe = PROBES.has(pathOf(request.url))
    const isClosing = closing()
    // a probe is still answered while closing, and ends its connection
    if (isClosing && probe) reply.raw.shouldKeepAlive = false
    if (isClosing && !probe) {
      stats.rejectedClosing++
      reply.code(503).header('connection', 'close').header('retry-after', '5')
        .send({ Message: 'the daemon is shutting down: no new requests', Code: 0, Type: 'error' })
      return
    }
    if (!probe && stats.inFlight >= max) {
      stats.rejectedOverload++
      reply.code(503).header('retry-after', '1')
        .send({ Message: `overloaded: ${max} requests in flight already (API.Limits.MaxConcurrentRequests); try again shortly`, Code: 0, Type: 'error' })
      return
    }
    stats.inFlight++
    stats.accepted++
    live.add(reply)
    // 'close' comes once whether the answer was sent or the client went away
    reply.raw.once('close', () => { stats.inFlight--; live.delete(reply) })
    done()
  })
  return {
    stats,
    endKeepAlive: () => {
      for (const reply of live) if (!reply.raw.headersSent) reply.raw.shouldKeepAlive = false
    }
  }
}
