/**
 * `swarmbus name publish|resolve`: IPNS names through the ipns.* commands of
 * a node opened on a repo. Online, the node joins the public IPFS network by
 * default (the amino profile: kubo's bootstrap peers, the DHT and the HTTP
 * router delegated-ipfs.dev at once), or with --network local only the peers
 * given by --bootstrap (for instance those a running `swarmbus testnet`
 * prints), and waits, bounded, until its routing table has peers; --offline
 * opens the repo with no network at all (the memory transport: no socket).
 * See docs/ipns.md and docs/network.md.
 * Exit codes: 0 done, 1 the node failed (typed error: NotFoundError,
 * InvalidRecordError, TimeoutError, …), 2 usage error.
 */
import { intFlag, parse, UsageError } from './args.js'
import { runGroup, subcommandTable } from './command-group.js'
import type { Subcommand } from './command-group.js'
import { fmtMs, round } from './format.js'
import { publishThroughDaemon, resolveThroughDaemon, runningDaemon } from './name-daemon.js'
import { PASSPHRASE_ENV, REPO_OPTIONS, failed, jsonLine, keystorePassphrase, refusePlainPassphrase, repoOf } from './key-repo.js'
import { compactLifecycle } from './name-lifecycle.js'
import { durationFlag, formatDuration } from './record-duration.js'
import { NETWORK_HELP, NETWORK_OPTIONS, networkFlags, withJoinedNode } from './name-node.js'
import type { Parsed } from './args.js'
import type { LifecycleState } from './name-lifecycle.js'
import type { IpnsPublish, IpnsResolve, ResolveReply, SwarmNode } from '../index.js'

export const summary = 'publish and resolve IPNS names (on the public network, or --network local)'

/** the ipns actor's bounds on quorum (src/actors/ipns/validate.ts) */
const MAX_QUORUM = 64
/** the ipns actor's default quorum (createNode's ipns.quorum) */
const DEFAULT_QUORUM = 16

const NETWORK = NETWORK_HELP

const DURATIONS = `Durations: a number and a unit (ms, s, m, h, d), or several: 250ms, 90s, 5m,
48h, 1h30m, 1.5d (the parser of 'swarmbus record create').
`


const SUBS: Record<string, Subcommand> = {
  publish: {
    usage: 'publish [--key NAME] PATH',
    summary: 'point a key\'s name at PATH: sign, store in the repo, put to the DHT and routers',
    help: `Usage: swarmbus name publish PATH --repo DIR [--network amino|local] [options]

Publishes PATH (/ipfs/<cid>[/path] or /ipns/<name>[/path]) under the IPNS
name of a repo key: the next sequence (one above any record this repo has
published or resolved for the name), signed, stored in the repo (durable
before anything else), then put to the closest DHT peers and to every HTTP
router at once. Prints the name, the DHT peers that took the record and each
router's outcome; it succeeds when the DHT or at least one router took it.
By default the node joins the public IPFS network (amino: kubo's bootstrap
peers, https://delegated-ipfs.dev); --network local joins only the
--bootstrap peers. With --offline the record is only stored: 'name resolve
--offline' on the same repo answers from it.

Options:
  --key NAME                the key whose name to publish (default self, the
                            node's own key; any other needs the passphrase)
  --lifetime D              validity from now until the EOL (default 48h)
  --ttl D                   how long resolvers may cache it (default 5m; 0 ok)
  --offline                 store in the repo only: no network, no socket
  --repo DIR                the node's repo directory (required)
  --passphrase-file FILE    the keystore passphrase is the first line of FILE
                            (default: $${PASSPHRASE_ENV})
${NETWORK}
${DURATIONS}`,
    run: publish
  },
  resolve: {
    usage: 'resolve [--nocache] [--offline] NAME',
    summary: 'the path a name points at, following /ipns/ values',
    help: `Usage: swarmbus name resolve NAME [--network amino|local] [options]

Resolves NAME (k51…, a peer id, a DNSLink domain, or /ipns/<name or
domain>[/path]) and prints the path it points at. By default the node joins
the public IPFS network (amino) and asks the DHT and the HTTP router
(https://delegated-ipfs.dev) at once: the DHT's best of a quorum of valid
answers, or a router's valid record once no better one came within the
settle time; every record is verified. A record in the repo (--repo) still
within its TTL answers at once, before joining (source: the repo), as
kubo's repo does. A domain's _dnslink TXT record comes
from DNS (see docs/dnslink.md); an /ipns/ value is followed, at most 32
hops, and the sub-paths are joined on. A name with no valid record fails
with NotFoundError (exit 1). With --network local the node joins only the
--bootstrap peers (a domain needs none unless its DNSLink leads to an IPNS
name).

Options:
  --nocache                 skip the node's cache and the repo's answer: ask
                            the network (a record in the repo still competes)
  --offline                 answer from the cache and the records stored in
                            the repo (published or resolved there before),
                            whatever their TTL: no network, no socket
  --quorum N                valid answers that end the DHT query, 1 to ${MAX_QUORUM}
                            (default 16; fewer when the query ends first)
  --repo DIR                the node's repo directory (default: a memory repo
                            that keeps nothing; required with --offline).
                            Resolved records are stored in it
${NETWORK}
${DURATIONS}`,
    run: resolve
  }
}


export const help = `Usage: swarmbus name <command> [arguments] [options]

IPNS names: publish a path under a repo key's name, resolve a name to its
path. When a daemon runs on --repo DIR (swarmbus daemon), the command goes to
it over its RPC API and uses the daemon's network. Otherwise each command
opens the repo's node, joins a network (a dial-only DHT client: it asks, it
does not serve), waits until its routing table has peers, runs one publish or
resolve, and stops. The network is the public IPFS network by default
(--network amino: kubo's bootstrap peers, and the HTTP router
https://delegated-ipfs.dev beside the DHT), or only the --bootstrap peers
with --network local (e.g. a 'swarmbus testnet'); $SWARMBUS_NETWORK picks
too. Progress goes to stderr; stdout has only the answer. See docs/ipns.md,
docs/network.md and docs/daemon.md.

Commands:
${subcommandTable(SUBS)}

Examples:
  swarmbus name resolve k51…          (the public network: DHT and delegated-ipfs.dev)
  swarmbus name resolve k51… --router none --quorum 4
                                      (the public DHT only, fewer answers)
  swarmbus testnet --nodes 4          (prints the addresses to bootstrap from)
  swarmbus name publish /ipfs/bafk… --repo ./a --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW…
  swarmbus name resolve k51… --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW… --verbose
  swarmbus name publish /ipfs/bafk… --repo ./a --offline
  swarmbus name resolve k51… --repo ./a --offline

Run 'swarmbus name <command> --help' for its options.
`

export async function run (argv: string[]): Promise<number> {
  return await runGroup('name', help, SUBS, argv)
}

const SOURCE = { dht: 'the DHT', router: 'an HTTP router', dns: 'DNS (DNSLink)', local: 'the repo\'s stored records', cache: 'the cache' } as const

function lifecycleJson (states: LifecycleState[]): Array<{ state: string, atMs: number, ms?: number, events: Record<string, number> }> {
  return states.map(s => ({ state: s.state, atMs: round(s.atMs, 3), ...(s.ms !== undefined ? { ms: round(s.ms, 3) } : {}), events: s.events }))
}

function start (sub: string, argv: string[], options: Parameters<typeof parse>[2]): Parsed | undefined {
  const command = `name ${sub}`
  refusePlainPassphrase(command, argv)
  const parsed = parse(command, argv, { ...options, ...NETWORK_OPTIONS }, 1)
  if (parsed.values.help === true) {
    process.stdout.write(SUBS[sub]?.help ?? help)
    return undefined
  }
  return parsed
}

/** Runs the ipns actor's own validation, so the CLI accepts exactly what the node does. */
async function validate (command: string, cmd: IpnsPublish | IpnsResolve, flags: Record<string, string>): Promise<void> {
  const { validateIpnsCommand } = await import('../actors/ipns/validate.js')
  const f = validateIpnsCommand(cmd)
  if (f !== undefined) throw new UsageError(command, `${flags[f.field ?? ''] ?? f.field ?? 'command'}: ${f.message}`)
}

async function publish (argv: string[]): Promise<number> {
  const command = 'name publish'
  const p = start('publish', argv, { ...REPO_OPTIONS, key: { type: 'string' }, lifetime: { type: 'string' }, ttl: { type: 'string' } })
  if (p === undefined) return 0
  const value = p.positionals[0]
  if (value === undefined) throw new UsageError(command, 'missing the PATH to publish (/ipfs/<cid>… or /ipns/<name>…)')
  const { checkContentPath } = await import('../records/value.js')
  try {
    checkContentPath(value)
  } catch (err) {
    throw new UsageError(command, `PATH: ${(err as Error).message}`)
  }
  const key = typeof p.values.key === 'string' ? p.values.key : undefined
  const lifetimeMs = durationFlag(command, p.values, 'lifetime', 1)
  const ttlMs = durationFlag(command, p.values, 'ttl', 0)
  const repo = repoOf(command, p.values)
  const daemon = p.values.offline === true ? undefined : await runningDaemon(repo)
  if (daemon !== undefined) {
    return await publishThroughDaemon(command, daemon, p.values, value, { key, lifetimeMs, ttlMs })
  }
  const net = await networkFlags(command, p.values)
  const cmd: IpnsPublish = {
    type: 'ipns.publish',
    value,
    ...(key !== undefined ? { key } : {}),
    ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(net.offline ? { offline: true } : {})
  }
  await validate(command, cmd, { value: 'PATH', key: '--key', lifetimeMs: '--lifetime', ttlMs: '--ttl' })
  const passphrase = await keystorePassphrase(command, p.values)

  try {
    const out = await withJoinedNode(command, repo, passphrase, net, 'publish', async (node, { timeoutMs, recorder, progress }) => {
      progress.operation(`publishing ${value} under the key ${key ?? 'self'}`)
      const t = performance.now()
      // a router may acknowledge before the DHT put ends (dhtPending): this process is about to stop the
      // node, which would cut that put short, so the command waits for it (within --timeout) and reports it
      const dhtEnds = new Map<string, { peers?: number, error?: string }>()
      let dhtEnded: (() => void) | undefined
      const off = node.on('progress', e => {
        if (e.type !== 'ipns:publish:dht') return
        const d = e.detail as { name: string, peers?: number, error?: string }
        dhtEnds.set(d.name, d)
        dhtEnded?.()
      })
      try {
        const reply = await node.ask(cmd, { timeoutMs })
        const acked = performance.now() - t
        if (reply.dhtPending === true && !dhtEnds.has(reply.name)) {
          const left = Math.max(0, timeoutMs - acked)
          await new Promise<void>(resolve => {
            const timer = setTimeout(resolve, left)
            dhtEnded = () => { if (dhtEnds.has(reply.name)) { clearTimeout(timer); resolve() } }
          })
        }
        return { reply, ms: acked, dht: reply.dhtPending === true ? dhtEnds.get(reply.name) ?? { error: 'still running at --timeout' } : undefined, lifecycle: recorder?.lifecycle() ?? [] }
      } finally {
        off()
      }
    })
    const { reply, ms, lifecycle, dht } = out
    const routers = reply.routers ?? []
    if (net.json) {
      process.stdout.write(jsonLine({
        name: reply.name,
        value: reply.value,
        sequence: reply.sequence,
        peers: dht?.peers ?? reply.peers,
        ...(dht !== undefined ? { dhtAfterAck: true, ...(dht.error !== undefined ? { dhtError: dht.error } : {}) } : {}),
        offline: net.offline,
        key: key ?? 'self',
        ...(net.offline ? {} : { network: net.profile, routers }),
        ms: round(ms),
        lifecycle: lifecycleJson(lifecycle)
      }))
    } else {
      const peers = dht?.peers ?? reply.peers
      const where = net.offline
        ? 'stored in the repo only (--offline)'
        : dht?.error !== undefined
          ? `stored in the repo and by a router; the DHT put, still running when a router took it, failed (${dht.error})`
          : `stored in the repo and on ${peers} DHT peer${peers === 1 ? '' : 's'}${dht !== undefined ? ' (the DHT put ended after a router took it)' : ''}`
      process.stdout.write(`published /ipns/${reply.name} → ${reply.value}\n` +
        `  sequence ${reply.sequence}; ${where}; ${fmtMs(ms)} ms\n` +
        routers.map(o => `  router ${o.endpoint}: ${o.ok ? 'stored' : `not stored (${o.kind ?? 'failed'}: ${o.error ?? 'no reason given'})`}` +
          `${o.attempts > 1 ? `, ${o.attempts} attempts` : ''}\n`).join(''))
    }
    if (net.verbose) process.stderr.write(`${command}: ${compactLifecycle(lifecycle)}\n`)
    return 0
  } catch (err) {
    return failed(command, err, net.json, passphrase === undefined)
  }
}

/**
 * A one-hop answer from the repo's records that is still within its TTL
 * (stored + TTL, as resolve-select.ts's freshInRepo judges it), or
 * undefined: an offline resolve (the cache is empty in a new process, so
 * it is the repo's best record), then the date the repo stored that record.
 */
async function repoAnswer (node: SwarmNode, cmd: IpnsResolve): Promise<ResolveReply | undefined> {
  try {
    const reply = await node.ask({ ...cmd, offline: true }, { timeoutMs: 5_000 })
    if (reply.hops !== 1 || reply.source !== 'local') return undefined
    const { parseTarget } = await import('../actors/ipns/target.js')
    const target = parseTarget(cmd.name)
    if (target.kind !== 'name') return undefined
    const stored = await Promise.allSettled((['published', 'resolved'] as const).map(async kind => await node.ask({ type: 'store.get', kind, name: target.name }, { timeoutMs: 5_000 })))
    const receivedAt = Math.max(...stored.flatMap(r => r.status === 'fulfilled' && r.value.sequence === reply.sequence ? [r.value.receivedAt] : []))
    const now = Date.now()
    return Number.isFinite(receivedAt) && now >= receivedAt && now < receivedAt + Number(reply.ttl / 1_000_000n) ? reply : undefined
  } catch {
    return undefined // not in the repo, or not valid any more: the network decides
  }
}

async function resolve (argv: string[]): Promise<number> {
  const command = 'name resolve'
  const p = start('resolve', argv, { repo: { type: 'string' }, nocache: { type: 'boolean' }, quorum: { type: 'string' } })
  if (p === undefined) return 0
  const name = p.positionals[0]
  if (name === undefined) throw new UsageError(command, 'missing the NAME to resolve (k51…, a peer id, or /ipns/<name>[/path])')
  const quorum = intFlag(command, p.values, 'quorum', undefined, 1, MAX_QUORUM)
  const { parseTarget } = await import('../actors/ipns/target.js')
  let domain = false
  try {
    domain = parseTarget(name).kind === 'domain'
  } catch {
    // not a name at all: validate() says why
  }
  // a repo a daemon holds is resolved through it, --offline too (its cache and repo, no network request)
  const daemon = typeof p.values.repo !== 'string' ? undefined : await runningDaemon(repoOf(command, p.values))
  if (daemon !== undefined) return await resolveThroughDaemon(command, daemon, p.values, name, { nocache: p.values.nocache === true, offline: p.values.offline === true, quorum })
  const net = await networkFlags(command, p.values, !domain)
  const cmd: IpnsResolve = {
    type: 'ipns.resolve',
    name,
    ...(p.values.nocache === true ? { nocache: true } : {}),
    ...(net.offline ? { offline: true } : {}),
    ...(quorum !== undefined ? { quorum } : {})
  }
  await validate(command, cmd, { name: 'NAME', quorum: '--quorum' })
  if (net.offline && p.values.repo === undefined) throw new UsageError(command, '--offline needs --repo DIR (it answers from the records stored there)')
  const repo = p.values.repo === undefined ? 'memory' : repoOf(command, p.values)

  try {
    // no passphrase: resolving needs no key, and a locked keystore cannot be wrong
    const out = await withJoinedNode(command, repo, undefined, net, 'resolve', async (node, { timeoutMs, recorder, progress }) => {
      progress.operation(`resolving ${name}`, net.offline || domain ? undefined : quorum ?? DEFAULT_QUORUM)
      const t = performance.now()
      const reply = await node.ask(cmd, { timeoutMs })
      return { reply, ms: performance.now() - t, lifecycle: recorder?.lifecycle() ?? [], routers: progress.routers() }
    }, p.values.repo === undefined || cmd.nocache === true || domain ? undefined : async (node, recorder) => {
      // the repo first, before joining: its record within its TTL is the answer, as the node's own resolve would give it
      const t = performance.now()
      const reply = await repoAnswer(node, cmd)
      return reply === undefined ? undefined : { reply, ms: performance.now() - t, lifecycle: recorder?.lifecycle() ?? [], routers: [] }
    })
    const { reply, ms, lifecycle, routers } = out
    if (net.json) {
      process.stdout.write(jsonLine({ name, ...reply, ...(net.offline ? {} : { network: net.profile, routers }), ms: round(ms), lifecycle: lifecycleJson(lifecycle) }))
    } else {
      process.stdout.write(`${reply.value}\n`)
    }
    if (net.verbose) {
      const ttlMs = Number(reply.ttl / 1_000_000n)
      const gave = routers.filter(r => r.outcome === 'record').map(r => r.endpoint)
      const from = reply.source === 'router' && gave.length > 0 ? `the HTTP router ${gave.join(', ')}` : SOURCE[reply.source]
      process.stderr.write(`${command}: ${name} → ${reply.value}: sequence ${reply.sequence}, from ${from}, ` +
        `${reply.hops} hop${reply.hops === 1 ? '' : 's'}, TTL ${formatDuration(ttlMs)}, valid until ${reply.validity}; ${fmtMs(ms)} ms\n` +
        routers.map(r => `${command}: router ${r.endpoint}: ${r.outcome === 'record' ? `a valid record, sequence ${r.sequence ?? '?'}` : `${r.outcome}${r.error !== undefined ? ` (${r.error})` : ''}`}\n`).join('') +
        `${command}: ${compactLifecycle(lifecycle)}\n`)
    }
    return 0
  } catch (err) {
    return failed(command, err, net.json, false)
  }
}

