/**
 * Prometheus metrics of a swarmbus daemon on ONE prom-client registry (not
 * the global default, which is left alone): the IPNS metrics, the runtime's
 * own, HTTP requests of every face, libp2p's (through
 * @libp2p/prometheus-metrics, given the registry), and Node's process
 * metrics. Served as GET /debug/metrics/prometheus, where kubo serves its own.
 *
 *   const metrics = createSwarmMetrics()
 *   const node = await createNode({ libp2pMetrics: libp2pPrometheusMetrics(metrics.registry) })
 *   const observed = metrics.attach(node)          // the node the faces use: IPNS asks timed
 *   app.addHook('onResponse', metrics.onResponse)  // every face's requests (or startHttpServer({ onResponse: metrics.observe }))
 *   await app.register(metricsFace(observed, { metrics }))
 *
 * See docs/metrics.md for every metric.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'
import { httpMetrics } from './http.js'
import { ipnsMetrics } from './ipns.js'
import { runtimeMetrics } from './runtime.js'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { SwarmNode } from '../../node/create-node.js'

export const METRICS_PATH = '/debug/metrics/prometheus'

export interface SwarmMetricsOptions {
  /** the registry to fill (default a new one of its own) */
  registry?: Registry
  /** Node's process metrics (nodejs_*, process_*; default true) */
  defaultMetrics?: boolean
  /** label sets the HTTP metrics keep before counting under `other` (default MAX_HTTP_LABEL_SETS) */
  maxHttpLabelSets?: number
}

export interface SwarmMetrics {
  readonly registry: Registry
  /** start watching a node (dead letters) and return the node the faces should use: its IPNS asks are timed */
  attach(node: SwarmNode): SwarmNode
  /** the same wrapper without watching: for a second view of an attached node */
  instrument(node: SwarmNode): SwarmNode
  /** fastify onResponse hook counting requests by method, route and code */
  onResponse: (request: FastifyRequest, reply: FastifyReply) => Promise<void>
  /** the same, synchronous: startHttpServer's onResponse option (called from the server's own hook) */
  observe: (request: FastifyRequest, reply: FastifyReply) => void
  /** read the node's status, then the registry's exposition text */
  render(): Promise<string>
  close(): void
}

export function createSwarmMetrics (options: SwarmMetricsOptions = {}): SwarmMetrics {
  const registry = options.registry ?? new Registry()
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const http = httpMetrics(registry, { maxLabelSets: options.maxHttpLabelSets })
  const ipns = ipnsMetrics(registry)
  const runtime = runtimeMetrics(registry)
  let attached: SwarmNode | undefined
  let unwatch: (() => void) | undefined
  /** wrappers this made, and the node each wraps: attaching a wrapper attaches its node, and is not wrapped twice */
  const wrapped = new WeakMap<SwarmNode, SwarmNode>()
  const instrument = (node: SwarmNode): SwarmNode => {
    if (wrapped.has(node)) return node
    const w = ipns.instrument(node)
    wrapped.set(w, node)
    return w
  }
  return {
    registry,
    attach: (node) => {
      const base = wrapped.get(node) ?? node
      if (attached !== undefined && attached !== base) throw new Error('these metrics are attached to another node already')
      if (attached === undefined) {
        attached = base
        unwatch = runtime.watch(base)
      }
      return instrument(node)
    },
    instrument,
    onResponse: http.onResponse,
    observe: http.observe,
    render: async () => {
      if (attached !== undefined) await runtime.refresh(attached)
      return await registry.metrics()
    },
    close: () => {
      unwatch?.()
      runtime.close()
    }
  }
}

export interface MetricsOptions {
  /** the metrics to serve (default: created for this node, and closed with the app) */
  metrics?: SwarmMetrics
}

/** GET /debug/metrics/prometheus: the registry in the Prometheus text format. */
export function metricsFace (node: SwarmNode, options: MetricsOptions = {}): FastifyPluginAsync {
  return async (app) => {
    const metrics = options.metrics ?? createSwarmMetrics()
    metrics.attach(node)
    if (options.metrics === undefined) app.addHook('onClose', async () => { metrics.close() })
    app.get(METRICS_PATH, async (_request, reply) => {
      const text = await metrics.render()
      return await reply.code(200).type(metrics.registry.contentType).header('Cache-Control', 'no-store').send(text)
    })
  }
}

export { labelOverflowCounter, LABEL_OVERFLOW_METRIC, OVERFLOW_LABEL } from './bounded.js'
export { httpMetrics, MAX_HTTP_LABEL_SETS } from './http.js'
export { ipnsMetrics } from './ipns.js'
export { runtimeMetrics } from './runtime.js'
