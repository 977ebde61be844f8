/**
 * The node a `swarmbus name` command runs on: the network flags
 * (--network, --bootstrap, --router, --offline, --timeout, --dns, …), the
 * node opened on the repo, and the bounded wait until its routing table has
 * peers.
 *
 * Online, the node is a DHT client that asks and does not serve. On the
 * `amino` profile (the default: the public IPFS network) it is dial-only
 * (`listen: []`, no socket anyone can reach), joins kubo's bootstrap peers
 * (or the --bootstrap ones) and asks the profile's HTTP router
 * (delegated-ipfs.dev, or the --router ones) beside the DHT. On `local` it
 * joins the --bootstrap peers only (a `swarmbus testnet`). With --offline it
 * opens the repo on the memory transport: no socket at all.
 */
import { UsageError } from './args.js'
import { fmtMs } from './format.js'
import { LifecycleRecorder } from './name-lifecycle.js'
import { durationFlag } from './record-duration.js'
import { CommandProgress } from './name-progress.js'
import { join, joinLabel } from './name-join.js'
import type { Parsed } from './args.js'
import type { Machine, Seen } from './name-lifecycle.js'
import type { ProgressMode } from './name-progress.js'
import type { NodeOptions, SwarmNode } from '../index.js'

/** default of --timeout */
const DEFAULT_TIMEOUT_MS = 60_000
/** the bus clamps every deadline to 10 minutes (SystemOptions.maxTimeoutMs) */
const MAX_TIMEOUT_MS = 600_000
/** joining (bootstrap until the routing table has a peer) takes at most this much of --timeout: a testnet on this machine */
const JOIN_MAX_LOCAL_MS = 20_000
/** … and on the public network, where /dnsaddr lookups and dials across the internet come first */
const JOIN_MAX_AMINO_MS = 30_000
/** the node tries swarm.bootstrap again this often while it reached no peer (local: a testnet that is starting) */
const REBOOTSTRAP_MS = 1_000
/** on amino the waits between tries grow to this (public bootstrap peers are not hammered) */
const REBOOTSTRAP_AMINO_MAX_MS = 5_000
/** --router flags (and SWARMBUS_ROUTERS entries) at most */
const MAX_ROUTERS = 16

export const NETWORK_ENV = 'SWARMBUS_NETWORK'
export const ROUTERS_ENV = 'SWARMBUS_ROUTERS'
export const NETWORKS = ['amino', 'local'] as const
export type NetworkChoice = typeof NETWORKS[number]

export const NETWORK_OPTIONS = {
  network: { type: 'string' },
  bootstrap: { type: 'string', multiple: true },
  router: { type: 'string', multiple: true },
  'router-timeout': { type: 'string' },
  settle: { type: 'string' },
  dns: { type: 'string', multiple: true },
  loopback: { type: 'boolean' },
  offline: { type: 'boolean' },
  timeout: { type: 'string' },
  progress: { type: 'boolean' },
  verbose: { type: 'boolean' },
  json: { type: 'boolean' }
} as const

/** --help text of the network flags, shared by the name and dht commands */
export const NETWORK_HELP = `  --network NAME            amino (default: the public IPFS network) or local
                            (only the --bootstrap peers, e.g. a 'swarmbus
                            testnet'); default $${NETWORK_ENV}, else amino
  --bootstrap ADDR          a peer to join: a multiaddr with /p2p/<peer id>
                            (/dnsaddr/… too); repeat for more. On amino it
                            replaces kubo's bootstrap list; on local it is
                            needed (unless --offline)
  --router URL              a Delegated Routing V1 HTTP endpoint asked beside
                            the DHT; repeat for more; 'none' for no router.
                            Default $${ROUTERS_ENV} (comma separated), else
                            on amino https://delegated-ipfs.dev, on local none
  --router-timeout D        one request to one router (default 5s)
  --settle D                after a router's valid record, how long to wait
                            for a better one from the DHT (default 300ms)
  --dns SERVER              a DNS server for DNSLink and /dnsaddr lookups
                            (127.0.0.1, 127.0.0.1:5353, [::1]:53); repeat
                            for more (default: the system's)
  --loopback                keep loopback and private addresses of peers (a
                            testnet on this machine or a LAN, e.g. behind a
                            /dnsaddr name); on by itself when every
                            --bootstrap address is a loopback one
  --timeout D               the whole command (joining, then the operation)
                            within D (default 60s, at most 10m); joining
                            takes at most 20s of it on local, 30s on amino
                            (half of D with routers: if no DHT peer is
                            joined by then, the routers alone are asked)
  --progress                print progress on stderr line by line (default:
                            a status line when stderr is a terminal)
  --verbose                 print the lifecycle on stderr as it happens (the
                            ipns:* progress events), then a summary
  --json                    print one JSON object (uint64 fields as strings);
                            no progress unless --progress
  -h, --help                show this help
`

export interface Network {
  offline: boolean
  /** the profile the node runs with (offline: still the chosen one, unused) */
  profile: NetworkChoice
  /** the peers to join: --bootstrap, else the profile's (amino: kubo's list; local: none) */
  bootstrap: string[]
  /** the bootstrap list is the profile's own (no --bootstrap given) */
  bootstrapFromProfile: boolean
  /** DNS servers for DNSLink and /dnsaddr (empty: the system's) */
  dns: string[]
  /** every bootstrap address is on loopback: keep loopback addresses (testnet mode) */
  loopback: boolean
  /** Delegated Routing V1 endpoints asked beside the DHT (empty: none) */
  routers: string[]
  routerTimeoutMs: number | undefined
  settleMs: number | undefined
  timeoutMs: number
  /** joining takes at most this (part of timeoutMs) */
  joinMaxMs: number
  progress: ProgressMode
  verbose: boolean
  json: boolean
}

const LOOPBACK = /^\/(ip4\/127\.\d+\.\d+\.\d+|ip6\/::1|dns4?\/localhost|dns6\/localhost|memory)\//

const listFlag = (values: Parsed['values'], flag: string): string[] => {
  const raw = (values as Record<string, unknown>)[flag]
  return Array.isArray(raw) ? raw.map(String) : []
}

/** --router / SWARMBUS_ROUTERS: base URLs (http: or https:), or 'none'; undefined when neither is given */
function routerList (command: string, values: Parsed['values'], env: NodeJS.ProcessEnv): string[] | undefined {
  const flags = listFlag(values, 'router')
  const fromEnv = (env[ROUTERS_ENV] ?? '').split(/[\s,]+/).filter(u => u !== '')
  const given = flags.length > 0 ? flags : fromEnv
  const where = flags.length > 0 ? '--router' : ROUTERS_ENV
  if (given.length === 0) return undefined
  if (given.includes('none')) {
    if (given.length > 1) throw new UsageError(command, `${where}: 'none' cannot be combined with endpoints`)
    return []
  }
  if (given.length > MAX_ROUTERS) throw new UsageError(command, `${where}: at most ${MAX_ROUTERS} routers (got ${given.length})`)
  for (const u of given) {
    let url: URL
    try {
      url = new URL(u)
    } catch {
      throw new UsageError(command, `${where} '${u}' is not a URL (e.g. https://delegated-ipfs.dev)`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(command, `${where} '${u}' must be an http: or https: URL`)
  }
  return [...new Set(given)]
}

/** the progress mode: --progress prints lines; else a status line on a terminal unless --json or --verbose */
function progressMode (values: Parsed['values'], offline: boolean, stderrIsTty: boolean): ProgressMode {
  if (values.progress === true) return 'lines'
  if (offline || values.json === true || values.verbose === true || !stderrIsTty) return 'off'
  return 'tty'
}

/**
 * The network flags, checked. `needsPeers` false: on local without
 * --bootstrap the node runs with no DHT peers (a DNSLink domain may not need
 * any). `env` supplies SWARMBUS_NETWORK and SWARMBUS_ROUTERS.
 */
export async function networkFlags (command: string, values: Parsed['values'], needsPeers = true, env: NodeJS.ProcessEnv = process.env, stderrIsTty = process.stderr.isTTY === true): Promise<Network> {
  const offline = values.offline === true
  const bootstrapFlags = listFlag(values, 'bootstrap')
  const dns = listFlag(values, 'dns')
  const rawNetwork = typeof values.network === 'string' ? values.network : env[NETWORK_ENV] !== undefined && env[NETWORK_ENV] !== '' ? env[NETWORK_ENV] : 'amino'
  if (!(NETWORKS as readonly string[]).includes(rawNetwork)) {
    throw new UsageError(command, `${typeof values.network === 'string' ? '--network' : NETWORK_ENV} must be one of ${NETWORKS.join(', ')} (got '${rawNetwork}')`)
  }
  const profile = rawNetwork as NetworkChoice
  if (dns.length > 0) {
    const { Resolver } = await import('node:dns')
    try {
      new Resolver().setServers(dns)
    } catch (err) {
      throw new UsageError(command, `--dns: ${(err as Error).message}`)
    }
  }
  if (offline && bootstrapFlags.length > 0) throw new UsageError(command, '--offline and --bootstrap exclude each other (offline opens no connection)')
  if (offline && listFlag(values, 'router').length > 0) throw new UsageError(command, '--offline and --router exclude each other (offline opens no connection)')
  if (!offline && profile === 'local' && bootstrapFlags.length === 0 && needsPeers) {
    throw new UsageError(command, 'no peers to join on --network local: give --bootstrap ADDR (e.g. an address \'swarmbus testnet\' prints), use --offline, or leave --network at amino (the public network)')
  }
  if (bootstrapFlags.length > 0) {
    const { multiaddr } = await import('@multiformats/multiaddr')
    for (const addr of bootstrapFlags) {
      let ok: boolean
      try {
        ok = multiaddr(addr).getComponents().some(c => c.name === 'p2p')
      } catch (err) {
        throw new UsageError(command, `--bootstrap '${addr}' is not a multiaddr: ${(err as Error).message}`)
      }
      if (!ok) throw new UsageError(command, `--bootstrap '${addr}' has no /p2p/<peer id> (the peer to join must be named)`)
    }
  }
  const givenRouters = offline ? [] : routerList(command, values, env)
  const routerTimeoutMs = durationFlag(command, values, 'router-timeout', 1, MAX_TIMEOUT_MS, '10m')
  const settleMs = durationFlag(command, values, 'settle', 0, 60_000, '1m')
  const timeoutMs = durationFlag(command, values, 'timeout', 1, MAX_TIMEOUT_MS, '10m (the bus\'s longest deadline)') ?? DEFAULT_TIMEOUT_MS
  // the profile's own lists (pure data: no libp2p is loaded for this)
  const { resolveNetworkProfile } = await import('../actors/swarm/libp2p/profiles.js')
  const data = resolveNetworkProfile(profile)
  const bootstrap = offline ? [] : bootstrapFlags.length > 0 ? bootstrapFlags : [...data.bootstrap]
  const routers = offline ? [] : givenRouters ?? [...data.routers]
  // on amino with routers, joining leaves them half the time at least: they can answer without the DHT
  const joinMaxMs = profile === 'amino'
    ? Math.min(JOIN_MAX_AMINO_MS, routers.length > 0 ? Math.max(1, Math.floor(timeoutMs / 2)) : timeoutMs)
    : Math.min(JOIN_MAX_LOCAL_MS, timeoutMs)
  return {
    offline,
    profile,
    bootstrap,
    bootstrapFromProfile: !offline && bootstrapFlags.length === 0 && bootstrap.length > 0,
    dns,
    loopback: values.loopback === true || (bootstrap.length > 0 && bootstrap.every(a => LOOPBACK.test(a))),
    routers,
    routerTimeoutMs,
    settleMs,
    timeoutMs,
    joinMaxMs,
    progress: progressMode(values, offline, stderrIsTty),
    verbose: values.verbose === true,
    json: values.json === true
  }
}

/**
 * What createNode gets for a command (exported so a test can see what the
 * defaults pick without starting a node):
 *
 * - offline, or local with no --bootstrap: the memory transport (no socket;
 *   DNS still works);
 * - local: a DHT client on TCP (127.0.0.1) joining the --bootstrap peers;
 * - amino: a dial-only DHT client (`listen: []`, AutoNAT off: nobody can dial
 *   it back) joining the bootstrap list, with the routers beside the DHT.
 *
 * Either way it keeps bootstrapping while it reaches nobody (join() waits,
 * bounded), signatures are checked inline (one command's worth needs no
 * worker pool), and nothing is republished (the command is gone long before
 * a republish is due; a node that stays up on the repo later republishes
 * what is stored there).
 */
export function nodeOptions (repo: string, passphrase: string | undefined, net: Network): NodeOptions {
  const base: NodeOptions = {
    repo,
    verifier: 'inline',
    republish: false,
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(net.dns.length > 0 ? { dns: { servers: net.dns } } : {})
  }
  if (net.offline || (net.bootstrap.length === 0 && net.routers.length === 0)) return { ...base, network: 'local', transport: 'memory', routers: { endpoints: [] } }
  const routers = {
    endpoints: net.routers,
    ...(net.routerTimeoutMs !== undefined ? { timeoutMs: net.routerTimeoutMs } : {}),
    ...(net.settleMs !== undefined ? { settleMs: net.settleMs } : {})
  }
  const joining = {
    transport: 'tcp' as const,
    mode: 'client' as const,
    loopback: net.loopback,
    bootstrap: net.bootstrap,
    routers,
    // bounds createNode's own swarm.bootstrap, and the asks the command makes while joining
    bootstrapTimeoutMs: net.joinMaxMs,
    defaultTimeoutMs: net.joinMaxMs
  }
  if (net.profile === 'local') {
    // a testnet may still be starting: join() waits (bounded) while the node keeps trying
    return { ...base, ...joining, network: 'local', bootstrapRetry: { firstMs: REBOOTSTRAP_MS, maxMs: REBOOTSTRAP_MS } }
  }
  return {
    ...base,
    ...joining,
    network: { profile: 'amino', autonat: false, upnp: false, recordSweep: false },
    listen: [],
    bootstrapRetry: { firstMs: REBOOTSTRAP_MS, maxMs: REBOOTSTRAP_AMINO_MAX_MS }
  }
}

async function openNode (repo: string, passphrase: string | undefined, net: Network): Promise<SwarmNode> {
  const { createNode } = await import('../index.js')
  return await createNode(nodeOptions(repo, passphrase, net))
}

/** what the command's work gets besides the node */
export interface CommandContext {
  /** what is left of --timeout (ms) */
  timeoutMs: number
  /** the IPNS lifecycle of the command's flight (when a machine was named) */
  recorder: LifecycleRecorder | undefined
  progress: CommandProgress
  /** the DHT was joined (false: no peers needed, or only the HTTP routers are left) */
  joined: boolean
}

/**
 * The node, joined unless offline (or on local with no peers to join);
 * everything inside runs before the node stops. With HTTP routers, a join
 * that reaches no DHT peer in time is not the end: the operation runs on the
 * routers alone (said on stderr unless --json).
 */
export async function withJoinedNode<T> (command: string, repo: string, passphrase: string | undefined, net: Network, machine: Machine | undefined,
  work: (node: SwarmNode, ctx: CommandContext) => Promise<T>,
  /** tried before the join: an answer that needs no network (a repo record within its TTL) ends the command there */
  before?: (node: SwarmNode, recorder: LifecycleRecorder | undefined) => Promise<T | undefined>): Promise<T> {
  const t0 = performance.now()
  const until = t0 + net.timeoutMs
  const verbose = (line: string): void => { if (net.verbose) process.stderr.write(`${line}\n`) }
  const progress = new CommandProgress(net.progress)
  const online = !net.offline && net.bootstrap.length > 0
  if (online) progress.joining(joinLabel(net), 0, 0)
  let node: SwarmNode
  try {
    node = await openNode(repo, passphrase, net)
  } catch (err) {
    progress.finish()
    throw err
  }
  try {
    progress.attach(node)
    verbose(`${command}: node ${node.peerId} on repo ${repo}${net.offline ? ', offline' : `, network ${net.profile}${net.routers.length > 0 ? `, routers ${net.routers.join(', ')}` : ''}`}, up in ${fmtMs(performance.now() - t0)} ms`)
    if (online && before !== undefined) {
      const early = machine === undefined ? undefined : new LifecycleRecorder(node, machine)
      const answer = await before(node, early).finally(() => { early?.stop() })
      if (answer !== undefined) {
        progress.finish()
        verbose(`${command}: answered from the repo, without joining`)
        return answer
      }
    }
    let joined = false
    if (online) {
      try {
        // the node's start (its first bootstrap) counts: joining is joinMaxMs from the start at most
        const j = await join(node, net, t0, Math.min(until, t0 + net.joinMaxMs), progress)
        joined = true
        verbose(`${command}: joined: ${j.routingTableSize} peer${j.routingTableSize === 1 ? '' : 's'} in the routing table, ` +
          `${j.connections} connection${j.connections === 1 ? '' : 's'}, after ${fmtMs(j.ms)} ms`)
      } catch (err) {
        if (net.routers.length === 0 || (err as Error).name !== 'TimeoutError' || performance.now() >= until) throw err
        if (!net.json || net.verbose || net.progress !== 'off') progress.note(`${command}: ${(err as Error).message}; going on with the HTTP router${net.routers.length === 1 ? '' : 's'} only`)
      }
    }
    let first: number | undefined
    const recorder = machine === undefined ? undefined : new LifecycleRecorder(node, machine, net.verbose
      ? (s: Seen) => {
          first ??= s.at
          verbose(`  +${fmtMs(s.at - first).padStart(6)} ms  ${s.type}${s.event !== '' ? `  (${s.event})` : ''}`)
        }
      : undefined)
    try {
      return await work(node, { timeoutMs: Math.max(1, until - performance.now()), recorder, progress, joined })
    } finally {
      recorder?.stop()
      progress.finish()
    }
  } finally {
    await node.stop()
  }
}
