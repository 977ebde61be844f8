/**
 * THE place where the daemon's HTTP faces are assembled, in the order they
 * are registered on the one listener (after /health and /ready, which the
 * listener serves itself; see src/http/server.ts for what a face is).
 *
 * Faces to plug in here (each built with the node in its closure):
 * - the kubo RPC subset (src/http/kubo-rpc/), with API.Authorizations and
 *   the Origin checks for /api/v0;
 * - the Delegated Routing V1 server (src/http/routing-v1/);
 * - Prometheus metrics at /debug/metrics/prometheus (src/http/metrics/).
 */
import type { Logger } from 'pino'
import type { HttpFace } from '../http/server.js'
import type { SwarmNode } from '../node/create-node.js'
import type { DaemonConfig } from './config-schema.js'

export interface FaceContext {
  node: SwarmNode
  /** the validated config (API.Authorizations, Ipns.RecordLifetime / RecordTTL for name/publish, …) */
  config: DaemonConfig
  /** the repo directory */
  repo: string
  logger: Logger
}

export function daemonFaces (_ctx: FaceContext): HttpFace[] {
  return []
}
