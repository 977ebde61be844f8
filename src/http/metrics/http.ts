/**
 * HTTP request metrics for every face of the daemon: one fastify onResponse
 * hook, labelled by method, route template (`/routing/v1/ipns/:name`, never
 * the raw URL) and status code.
 */
import { Counter, Histogram } from 'prom-client'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'

const LABELS = ['method', 'route', 'code'] as const
/** seconds, from a cached answer (sub-ms) to a DHT walk near the 25 s routing deadline */
export const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60]

export interface HttpMetrics {
  /** fastify onResponse hook: `app.addHook('onResponse', metrics.onResponse)` on the root instance covers every face */
  onResponse: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** the same count, synchronous: for a server that calls it from a hook of its own (startHttpServer's onResponse) */
  observe: (request: FastifyRequest, reply: FastifyReply) => void
}

/**
 * label sets kept with their prom-client children (no label hashing per
 * request); past this many, requests are counted through the labels object
 * as before, uncached (the set is bounded anyway: methods × route templates ×
 * status codes)
 */
export const MAX_CACHED_LABEL_SETS = 1_024

export function httpMetrics (registry: Registry): HttpMetrics {
  const requests = new Counter({ name: 'swarmbus_http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames: LABELS, registers: [registry] })
  const duration = new Histogram({ name: 'swarmbus_http_request_duration_seconds', help: 'HTTP request latency until the response was sent, by method, route template and status code', labelNames: LABELS, buckets: HTTP_BUCKETS, registers: [registry] })
  const children = new Map<string, { count: () => void, time: (s: number) => void }>()
  const observe = (request: FastifyRequest, reply: FastifyReply): void => {
    // the route's template keeps the label set bounded; a request no route matched is 'unmatched'
    const route = request.routeOptions?.url ?? 'unmatched'
    const key = `${request.method} ${reply.statusCode} ${route}`
    let child = children.get(key)
    if (child === undefined) {
      const labels = { method: request.method, route, code: String(reply.statusCode) }
      if (children.size >= MAX_CACHED_LABEL_SETS) {
        requests.inc(labels)
        duration.observe(labels, reply.elapsedTime / 1000)
        return
      }
      const c = requests.labels(labels)
      const h = duration.labels(labels)
      child = { count: () => { c.inc() }, time: s => { h.observe(s) } }
      children.set(key, child)
    }
    child.count()
    child.time(reply.elapsedTime / 1000)
  }
  return {
    onResponse: async (request, reply) => { observe(request, reply) },
    observe
  }
}
