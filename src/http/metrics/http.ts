/**
 * HTTP request metrics for every face of the daemon: one fastify onResponse
 * hook, labelled by method, route template (`/routing/v1/ipns/:name`, never
 * the raw URL) and status code. The label sets are bounded (bounded.ts):
 * methods outside the usual ones are `other`, and past `maxLabelSets`
 * combinations a request is counted under method, route and code `other`.
 */
import { OVERFLOW_LABEL, timedFamily } from './bounded.js'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'
import type { TimedFamily } from './bounded.js'

const LABELS = ['method', 'route', 'code'] as const
/** seconds, from a cached answer (sub-ms) to a DHT walk near the 25 s routing deadline */
export const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60]
export const HTTP_REQUESTS_METRIC = 'swarmbus_http_requests_total'

/**
 * label sets (method × route template × code) the HTTP metrics keep; the
 * faces' real use is a few dozen, so only requests made to spread over
 * combinations reach it
 */
export const MAX_HTTP_LABEL_SETS = 512

/** methods kept as their own label value; any other method the parser accepts (PROPFIND, MKCOL, …) is `other` */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])

export interface HttpMetricsOptions {
  /** label sets kept before requests go to the `other` set (default MAX_HTTP_LABEL_SETS) */
  maxLabelSets?: number
}

export interface HttpMetrics {
  /** fastify onResponse hook: `app.addHook('onResponse', metrics.onResponse)` on the root instance covers every face */
  onResponse: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** the same count, synchronous: for a server that calls it from a hook of its own (startHttpServer's onResponse) */
  observe: (request: FastifyRequest, reply: FastifyReply) => void
  /** label sets kept now (the overflow set not included) */
  readonly labelSets: number
}

export function httpMetrics (registry: Registry, options: HttpMetricsOptions = {}): HttpMetrics {
  const family: TimedFamily = timedFamily({
    registry,
    counter: { name: HTTP_REQUESTS_METRIC, help: 'HTTP requests answered, by method, route template and status code' },
    histogram: { name: 'swarmbus_http_request_duration_seconds', help: 'HTTP request latency until the response was sent, by method, route template and status code', buckets: HTTP_BUCKETS },
    labelNames: LABELS,
    maxLabelSets: options.maxLabelSets ?? MAX_HTTP_LABEL_SETS
  })
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    // the route's template keeps routes bounded; a request no route matched is 'unmatched'
    const route = request.routeOptions?.url ?? 'unmatched'
    const method = METHODS.has(request.method) ? request.method : OVERFLOW_LABEL
    family.observe([method, route, String(reply.statusCode)], reply.elapsedTime / 1000)
  }
  return {
    onResponse: async (request, reply) => { observe(request, reply) },
    observe,
    get labelSets () { return family.size }
  }
}
