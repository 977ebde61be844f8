/**
 * The node a `swarmbus name` command runs on: the network flags
 * (--bootstrap, --offline, --timeout, --dns, …), the node opened on the repo
 * (a DHT client on TCP that bootstraps from the given peers and keeps trying
 * while it reaches none, or the memory transport with --offline), and the
 * bounded wait until its routing table has peers.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { UsageError } from './args.js'
import { fmtMs } from './format.js'
import { LifecycleRecorder } from './name-lifecycle.js'
import { durationFlag, formatDuration } from './record-duration.js'
import type { Parsed } from './args.js'
import type { Machine, Seen } from './name-lifecycle.js'
import type { SwarmNode } from '../index.js'

/** default of --timeout */
const DEFAULT_TIMEOUT_MS = 60_000
/** the bus clamps every deadline to 10 minutes (SystemOptions.maxTimeoutMs) */
const MAX_TIMEOUT_MS = 600_000
/** joining (bootstrap until the routing table has a peer) takes at most this much of --timeout */
const JOIN_MAX_MS = 20_000
/** once the routing table has a peer, wait at most this long for the other connected peers to enter it */
const SETTLE_MS = 500
/** the node tries swarm.bootstrap again this often while it reached no peer */
const REBOOTSTRAP_MS = 1_000

export const NETWORK_OPTIONS = {
  bootstrap: { type: 'string', multiple: true },
  offline: { type: 'boolean' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean' },
  json: { type: 'boolean' }
} as const


export interface Network {
  offline: boolean
  bootstrap: string[]
  /** DNS servers for DNSLink (empty: the system's) */
  dns: string[]
  /** every bootstrap address is on loopback: keep loopback addresses (testnet mode) */
  loopback: boolean
  timeoutMs: number
  verbose: boolean
  json: boolean
}

const LOOPBACK = /^\/(ip4\/127\.\d+\.\d+\.\d+|ip6\/::1|dns4?\/localhost|dns6\/localhost|memory)\//

const listFlag = (values: Parsed['values'], flag: string): string[] => {
  const raw = (values as Record<string, unknown>)[flag]
  return Array.isArray(raw) ? raw.map(String) : []
}

/** `needsPeers` false: without --bootstrap the node runs with no DHT peers (a DNSLink domain may not need any) */
export async function networkFlags (command: string, values: Parsed['values'], needsPeers = true): Promise<Network> {
  const offline = values.offline === true
  const bootstrap = listFlag(values, 'bootstrap')
  const dns = listFlag(values, 'dns')
  if (dns.length > 0) {
    const { Resolver } = await import('node:dns')
    try {
      new Resolver().setServers(dns)
    } catch (err) {
      throw new UsageError(command, `--dns: ${(err as Error).message}`)
    }
  }
  if (offline && bootstrap.length > 0) throw new UsageError(command, '--offline and --bootstrap exclude each other (offline opens no connection)')
  if (!offline && bootstrap.length === 0 && needsPeers) {
    throw new UsageError(command, 'no peers to join: give --bootstrap ADDR (e.g. an address \'swarmbus testnet\' prints), or use --offline')
  }
  if (bootstrap.length > 0) {
    const { multiaddr } = await import('@multiformats/multiaddr')
    for (const addr of bootstrap) {
      let ok: boolean
      try {
        ok = multiaddr(addr).getComponents().some(c => c.name === 'p2p')
      } catch (err) {
        throw new UsageError(command, `--bootstrap '${addr}' is not a multiaddr: ${(err as Error).message}`)
      }
      if (!ok) throw new UsageError(command, `--bootstrap '${addr}' has no /p2p/<peer id> (the peer to join must be named)`)
    }
  }
  const timeoutMs = durationFlag(command, values, 'timeout', 1, MAX_TIMEOUT_MS, '10m (the bus\'s longest deadline)') ?? DEFAULT_TIMEOUT_MS
  return {
    offline,
    bootstrap,
    dns,
    loopback: bootstrap.length > 0 && bootstrap.every(a => LOOPBACK.test(a)),
    timeoutMs,
    verbose: values.verbose === true,
    json: values.json === true
  }
}

/**
 * The repo's node: no DHT network with --offline or without --bootstrap (the
 * memory transport: no socket; DNS still works), else a DHT client on TCP
 * that bootstraps from the given peers. Signatures are checked inline (one
 * command's worth needs no worker pool).
 */
async function openNode (repo: string, passphrase: string | undefined, net: Network): Promise<SwarmNode> {
  const { createNode } = await import('../index.js')
  return await createNode({
    repo,
    verifier: 'inline',
    // a one-shot command is gone long before a republish is due; a node that
    // stays up on the repo later republishes what is stored there
    republish: false,
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(net.dns.length > 0 ? { dns: { servers: net.dns } } : {}),
    ...(net.offline || net.bootstrap.length === 0
      ? { transport: 'memory' as const }
      : {
          transport: 'tcp' as const,
          mode: 'client' as const,
          loopback: net.loopback,
          bootstrap: net.bootstrap,
          // a testnet may still be starting: join() waits (bounded) while the node keeps trying
          bootstrapRetry: { firstMs: REBOOTSTRAP_MS, maxMs: REBOOTSTRAP_MS },
          // bounds createNode's own swarm.bootstrap
          bootstrapTimeoutMs: Math.min(net.timeoutMs, JOIN_MAX_MS),
          defaultTimeoutMs: Math.min(net.timeoutMs, JOIN_MAX_MS)
        })
  })
}

/**
 * Waits until the routing table has a peer: swarm.bootstrap may return before
 * identify has run and kad-dht has added anyone. Then up to SETTLE_MS more
 * while connected peers are still missing from the table. Bootstraps again
 * while no connection is open (a testnet that is still starting).
 * TimeoutError at `until` with an empty table.
 */
async function join (node: SwarmNode, net: Network, started: number, until: number): Promise<{ routingTableSize: number, connections: number, ms: number }> {
  const t0 = performance.now()
  let firstPeerAt: number | undefined
  for (;;) {
    const left = until - performance.now()
    const s = await node.ask({ type: 'swarm.status' }, { timeoutMs: Math.max(1_000, left) })
    if (s.routingTableSize > 0) {
      // peers that are connected but not yet in the table (identify still running)
      // would be missing from the query: give them a moment, no more
      firstPeerAt ??= performance.now()
      const now = performance.now()
      if (s.routingTableSize >= s.connections || now - firstPeerAt >= SETTLE_MS || now >= until) {
        return { routingTableSize: s.routingTableSize, connections: s.connections, ms: now - t0 }
      }
      await sleep(Math.max(1, Math.min(25, until - now)))
      continue
    }
    if (performance.now() >= until) {
      const { TimeoutError } = await import('../index.js')
      throw new TimeoutError(`joined no peer ${formatDuration(performance.now() - started)} after the start: the routing table is empty ` +
        `(${s.connections} connection${s.connections === 1 ? '' : 's'}; bootstrap ${net.bootstrap.join(', ')}` +
        `${s.bootstrap.lastError !== undefined ? `; ${s.bootstrap.lastError}` : ''}; ${s.bootstrap.retries} retr${s.bootstrap.retries === 1 ? 'y' : 'ies'})`)
    }
    // the node itself tries the bootstrap peers again every REBOOTSTRAP_MS while it reached none
    await sleep(Math.max(1, Math.min(50, until - performance.now())))
  }
}

/** The node, joined unless offline; everything inside runs before the node stops. */
export async function withJoinedNode<T> (command: string, repo: string, passphrase: string | undefined, net: Network, machine: Machine,
  work: (node: SwarmNode, timeoutMs: number, recorder: LifecycleRecorder) => Promise<T>): Promise<T> {
  const t0 = performance.now()
  const until = t0 + net.timeoutMs
  const verbose = (line: string): void => { if (net.verbose) process.stderr.write(`${line}\n`) }
  const node = await openNode(repo, passphrase, net)
  try {
    verbose(`${command}: node ${node.peerId} on repo ${repo}${net.offline ? ', offline' : ''}, up in ${fmtMs(performance.now() - t0)} ms`)
    if (net.bootstrap.length > 0) {
      const joined = await join(node, net, t0, Math.min(until, performance.now() + JOIN_MAX_MS))
      verbose(`${command}: joined: ${joined.routingTableSize} peer${joined.routingTableSize === 1 ? '' : 's'} in the routing table, ` +
        `${joined.connections} connection${joined.connections === 1 ? '' : 's'}, after ${fmtMs(joined.ms)} ms`)
    }
    let first: number | undefined
    const recorder = new LifecycleRecorder(node, machine, net.verbose
      ? (s: Seen) => {
          first ??= s.at
          verbose(`  +${fmtMs(s.at - first).padStart(6)} ms  ${s.type}${s.event !== '' ? `  (${s.event})` : ''}`)
        }
      : undefined)
    try {
      return await work(node, Math.max(1, until - performance.now()), recorder)
    } finally {
      recorder.stop()
    }
  } finally {
    await node.stop()
  }
}
