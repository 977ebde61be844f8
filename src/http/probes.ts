/**
 * The listener's own routes: `GET /health` (live: the node's actor runtime
 * answers a system.ping) and `GET /ready` (joined the network, read from
 * swarm.status: a peer in the routing table, or a node configured with no
 * bootstrap peers, which has nothing to join). `/ready?wait=D` holds the
 * answer until the node is ready or D passes (at most 60 s), polling
 * swarm.status; while the server is closing the node is not ready, and a
 * waiter ends when the wait does or the node stops.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseDuration } from '../cli/record-duration.js'
import type { FastifyInstance } from 'fastify'
import type { SwarmNode } from '../node/create-node.js'
import type { ReplyOf } from '../messages/commands.js'

/** the longest ?wait */
export const MAX_READY_WAIT_MS = 60_000
/** how often a waiting /ready asks swarm.status */
const POLL_MS = 200
/** deadline of one swarm.status ask */
const STATUS_TIMEOUT_MS = 5_000

export interface Readiness {
  ready: boolean
  /** why not (or 'joined' / 'standalone') */
  reason: string
  peerId: string
  routingTableSize: number
  connections: number
  bootstrap: string
}

export function readiness (s: ReplyOf<'swarm.status'>, closing: boolean): Readiness {
  const base = { peerId: s.peerId, routingTableSize: s.routingTableSize, connections: s.connections, bootstrap: s.bootstrap.state }
  if (closing) return { ...base, ready: false, reason: 'shutting down' }
  if (s.routingTableSize > 0) return { ...base, ready: true, reason: 'joined' }
  // 'idle': no bootstrap run (none configured: createNode runs one when there are peers to join)
  if (s.bootstrap.state === 'idle') return { ...base, ready: true, reason: 'standalone (no bootstrap peers configured)' }
  const why = s.bootstrap.lastError !== undefined ? `: ${s.bootstrap.lastError}` : ''
  return { ...base, ready: false, reason: `not joined: the routing table is empty (bootstrap ${s.bootstrap.state}, ${s.connections} connection${s.connections === 1 ? '' : 's'}${why})` }
}

function waitOf (raw: unknown): number | string {
  if (raw === undefined) return 0
  if (typeof raw !== 'string') return '?wait must be a duration (e.g. 10s)'
  try {
    const ms = /^\d+$/.test(raw) ? Number(raw) : parseDuration(raw)
    return Math.min(ms, MAX_READY_WAIT_MS)
  } catch (err) {
    return `?wait: ${(err as Error).message}`
  }
}

export function registerProbes (app: FastifyInstance, node: SwarmNode, closing: () => boolean, startedAt: number): void {
  app.get('/health', async (request, reply) => {
    // live: the bus answers (system.ping goes through the actor runtime, not the network)
    try {
      await node.ask({ type: 'system.ping' }, { timeoutMs: STATUS_TIMEOUT_MS, signal: request.signal })
    } catch (err) {
      return await reply.code(503).send({ status: 'down', peerId: node.peerId, reason: `${(err as Error).name}: ${(err as Error).message}` })
    }
    return { status: 'ok', peerId: node.peerId, uptimeMs: Math.round(performance.now() - startedAt) }
  })

  app.get('/ready', async (request, reply) => {
    const wait = waitOf((request.query as Record<string, unknown>).wait)
    if (typeof wait === 'string') return await reply.code(400).send({ ready: false, reason: wait })
    const until = performance.now() + wait
    for (;;) {
      let r: Readiness
      try {
        r = readiness(await node.ask({ type: 'swarm.status' }, { timeoutMs: STATUS_TIMEOUT_MS, signal: request.signal }), closing())
      } catch (err) {
        request.log.warn({ err }, 'ready: swarm.status failed')
        return await reply.code(503).send({ ready: false, reason: `swarm.status failed: ${(err as Error).name}: ${(err as Error).message}` })
      }
      const left = until - performance.now()
      if (r.ready || left <= 0) return await reply.code(r.ready ? 200 : 503).send(r)
      await sleep(Math.min(POLL_MS, left), undefined, { signal: request.signal }).catch((err: unknown) => {
        request.log.debug({ err }, 'ready: the client left while waiting')
      })
      if (request.signal.aborted) return await reply.code(503).send({ ...r, reason: 'the wait was cut short' })
    }
  })
}
