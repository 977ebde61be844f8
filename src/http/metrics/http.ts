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
}

export function httpMetrics (registry: Registry): HttpMetrics {
  const requests = new Counter({ name: 'swarmbus_http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames: LABELS, registers: [registry] })
  const duration = new Histogram({ name: 'swarmbus_http_request_duration_seconds', help: 'HTTP request latency until the response was sent, by method, route template and status code', labelNames: LABELS, buckets: HTTP_BUCKETS, registers: [registry] })
  return {
    onResponse: async (request, reply) => {
      // the route's template keeps the label set bounded; a request no route matched is 'unmatched'
      const route = request.routeOptions?.url ?? 'unmatched'
      const labels = { method: request.method, route, code: String(reply.statusCode) }
      requests.inc(labels)
      duration.observe(labels, reply.elapsedTime / 1000)
    }
  }
}
