/**
 * THE place where the daemon's HTTP faces are assembled, in the order they
 * are registered on the one listener (after /health and /ready, which the
 * listener serves itself; see src/http/server.ts for what a face is):
 *
 * - the Delegated Routing V1 server (src/http/routing-v1/), /routing/v1/…;
 * - Prometheus metrics at /debug/metrics/prometheus (src/http/metrics/);
 * - the kubo RPC subset at /api/v0 (src/http/kubo-rpc/), with
 *   API.Authorizations and the Origin checks, and Ipns.RecordLifetime /
 *   RecordTTL as name/publish's defaults;
 * - the status page at / and its JSON at /api/status (src/http/status-page/),
 *   behind the same API.Authorizations.
 *
 * Every face gets the node the metrics observe (`metrics.attach`), so the
 * IPNS asks it makes are counted and timed.
 */
import { kuboRpcFace } from '../http/kubo-rpc/index.js'
import { metricsFace } from '../http/metrics/index.js'
import { ms } from './config-schema.js'
import { routingV1Face } from '../http/routing-v1/index.js'
import { statusPageFace } from '../http/status-page/index.js'
import type { Logger } from 'pino'
import type { SwarmMetrics } from '../http/metrics/index.js'
import type { HttpFace } from '../http/server.js'
import type { SwarmNode } from '../node/create-node.js'
import type { DaemonConfig } from './config-schema.js'

export interface FaceContext {
  /** the node as the metrics observe it */
  node: SwarmNode
  /** the daemon's one registry of metrics */
  metrics: SwarmMetrics
  /** the validated config (API.Authorizations, Ipns.RecordLifetime / RecordTTL for name/publish, …) */
  config: DaemonConfig
  /** the repo directory */
  repo: string
  logger: Logger
}

export function daemonFaces (ctx: FaceContext): HttpFace[] {
  const { config } = ctx
  return [
    {
      name: 'kubo-rpc',
      plugin: kuboRpcFace(ctx.node, {
        authorizations: config.API.Authorizations,
        publish: { lifetimeMs: ms(config.Ipns.RecordLifetime), ttlMs: ms(config.Ipns.RecordTTL) }
      })
    },
    { name: 'routing-v1', plugin: routingV1Face(ctx.node) },
    { name: 'metrics', plugin: metricsFace(ctx.node, { metrics: ctx.metrics }) },
    { name: 'status-page', plugin: statusPageFace(ctx.node, { authorizations: config.API.Authorizations, registry: ctx.metrics.registry }) }
  ]
}
