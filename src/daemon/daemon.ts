/**
 * The long-running node: the repo's config, its lock, one node on the
 * persistent repo, the HTTP listener with the faces, and `DIR/api`.
 *
 * Start: config (validated) → refuse a non-loopback API address without
 * API.Authorizations → lock → createNode → listener → DIR/api. A failure at
 * any step undoes the steps before it.
 *
 * Stop (graceful, once): the listener stops taking requests and gives those
 * in flight API.Limits.ShutdownTimeout to finish; past it the node is
 * stopped under them, so the asks they wait on fail typed (StoppedError) and
 * their handlers answer; then node.stop() (the actors stop, the store is
 * flushed and LevelDB closed), DIR/api removed, the lock released.
 */
import { resolve } from 'node:path'
import { createNode } from '../node/create-node.js'
import { startHttpServer } from '../http/server.js'
import { createSwarmMetrics } from '../http/metrics/index.js'
import { libp2pPrometheusMetrics } from '../node/libp2p-metrics.js'
import { isLoopback, parseListenAddress } from '../http/listen-address.js'
import { loadConfig } from './config-file.js'
import { ConfigError } from './config-schema.js'
import { lockRepo } from './repo-lock.js'
import { removeApiFile, removeApiFileSync, writeApiFile } from './api-file.js'
import { daemonFaces } from './faces.js'
import { httpLimits, nodeOptions, summary } from './node-options.js'
import type { Logger } from 'pino'
import type { DaemonConfig } from './config-schema.js'
import type { FaceContext } from './faces.js'
import type { HttpFace, HttpServer } from '../http/server.js'
import type { SwarmNode } from '../node/create-node.js'
import type { RepoLock } from './repo-lock.js'

export interface DaemonOptions {
  repo: string
  /** the keystore passphrase (named keys); without it the keystore is locked */
  passphrase?: string
  logger: Logger
  /** the faces to serve (default daemonFaces) */
  faces?: (ctx: FaceContext) => HttpFace[]
}

export interface Daemon {
  readonly repo: string
  readonly config: DaemonConfig
  readonly node: SwarmNode
  readonly http: HttpServer
  /** graceful stop (see the file comment); the same promise for every call */
  stop(reason: string): Promise<void>
  /** for an exit that cannot wait: removes DIR/api and the lock, synchronously */
  abandon(): void
}

/** Refuses what kubo refuses: an API reachable from elsewhere with no secret in front of it. */
function checkExposure (config: DaemonConfig): void {
  const { host } = parseListenAddress(config.Addresses.API)
  if (!isLoopback(host) && Object.keys(config.API.Authorizations).length === 0) {
    throw new ConfigError('Addresses.API', `${config.Addresses.API} is not a loopback address: anyone who reaches it could use the node's keys. ` +
      'Set API.Authorizations (see docs/daemon.md) or listen on 127.0.0.1 / ::1')
  }
}

export async function startDaemon (opts: DaemonOptions): Promise<Daemon> {
  const repo = resolve(opts.repo)
  const log = opts.logger
  const config = await loadConfig(repo)
  checkExposure(config)
  const lock: RepoLock = await lockRepo(repo, 'daemon')
  let node: SwarmNode | undefined
  let http: HttpServer | undefined
  // one registry for the daemon: IPNS, runtime, HTTP, libp2p and process metrics
  const metrics = createSwarmMetrics()
  try {
    log.info({ repo, ...summary(config) }, 'starting the node')
    node = await createNode({ ...nodeOptions(repo, config, opts.passphrase), libp2pMetrics: libp2pPrometheusMetrics(metrics.registry) })
    if (config.Identity.PeerID !== node.peerId) {
      throw new ConfigError('Identity.PeerID', `the config names ${config.Identity.PeerID} but the repo's key is ${node.peerId}: the config belongs to another repo`)
    }
    const running = node
    running.on('incident', i => { log.error({ incident: i }, 'incident') })
    running.on('dead-letter', d => { log.debug({ deadLetter: d }, 'dead letter') })
    const observed = metrics.attach(running)
    const faces = (opts.faces ?? daemonFaces)({ node: observed, metrics, config, repo, logger: log })
    http = await startHttpServer({
      node: running,
      listen: config.Addresses.API,
      faces,
      onResponse: metrics.observe,
      limits: httpLimits(config),
      logger: log.child({ component: 'http' }),
      onDrainTimeout: async () => {
        log.warn('shutdown: stopping the node under the requests still in flight (their asks fail with StoppedError)')
        await running.stop()
      }
    })
    await writeApiFile(repo, http.multiaddr)
  } catch (err) {
    const undo: Array<() => Promise<void>> = [
      async () => { await http?.close() },
      async () => { await node?.stop() },
      async () => { metrics.close() },
      async () => { await lock.release() }
    ]
    for (const step of undo) {
      try {
        await step()
      } catch (e) {
        log.error({ err: e }, 'startup failed, and so did undoing it')
      }
    }
    throw err
  }
  const running = node
  const listener = http
  let stopping: Promise<void> | undefined
  const stop = async (reason: string): Promise<void> => {
    stopping ??= (async () => {
      const t0 = performance.now()
      log.info({ reason, inFlight: listener.stats().inFlight }, 'shutting down: no new requests')
      const errors: unknown[] = []
      const step = async (what: string, f: () => Promise<void>): Promise<void> => {
        try {
          await f()
        } catch (err) {
          errors.push(err)
          log.error({ err }, `shutdown: ${what} failed`)
        }
      }
      await step('closing the listener', async () => { await listener.close() })
      await step('stopping the node', async () => { await running.stop() })
      await step('closing the metrics', async () => { metrics.close() })
      await step('removing the api file', async () => { await removeApiFile(repo, listener.multiaddr) })
      await step('releasing the repo lock', async () => { await lock.release() })
      log.info({ ms: Math.round(performance.now() - t0), stats: listener.stats() }, 'stopped')
      if (errors.length > 0) throw new AggregateError(errors, `the daemon stopped with ${errors.length} failed step(s)`)
    })()
    await stopping
  }
  return {
    repo,
    config,
    node: running,
    http: listener,
    stop,
    abandon: () => {
      removeApiFileSync(repo, listener.multiaddr)
      lock.releaseSync()
    }
  }
}
