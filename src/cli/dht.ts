/**
 * `swarmbus dht get|put|findprovs|findpeer|provide|closest`: the DHT
 * commands (dht.*) of a short-lived node, on the network the name commands
 * use (name-node.ts: amino by default, --network local with --bootstrap),
 * with the HTTP routers beside the DHT where Delegated Routing has the
 * operation (findprovs, findpeer). See docs/dht.md.
 * Exit codes: 0 done, 1 the node failed (NotFoundError, TimeoutError, …),
 * 2 usage error.
 */
import { intFlag, parse, UsageError } from './args.js'
import { FailedError } from '../messages/errors.js'
import { runGroup, subcommandTable } from './command-group.js'
import type { Subcommand } from './command-group.js'
import { fmtMs, round } from './format.js'
import { daemonEvents, daemonNotice, FINAL_PEER, PROVIDER, VALUE } from './dht-daemon.js'
import { failed, jsonLine, repoOf } from './key-repo.js'
import { runningDaemon } from './name-daemon.js'
import { durationFlag } from './record-duration.js'
import { NETWORK_HELP, NETWORK_OPTIONS, networkFlags, withJoinedNode } from './name-node.js'
import type { Network } from './name-node.js'
import type { CommandProgress } from './name-progress.js'
import type { Parsed } from './args.js'
import type { SwarmCommand } from '../actors/swarm/swarm-commands.js'
import type { SwarmNode } from '../index.js'
import type { LiveDaemon } from '../daemon/api-file.js'

export const summary = 'DHT records, providers and peers (on the public network, or --network local)'

/** default of --num-providers (kubo's) */
const DEFAULT_PROVIDERS = 20
/** the swarm actor's bound on a findProviders limit (src/actors/swarm/validate.ts) */
const MAX_PROVIDERS = 256
/** routers.findPeers records read at most for one findpeer */

const COMMON = `  --repo DIR                the node's repo (default: a memory repo that keeps
                            nothing). When a daemon runs on it, the command
                            goes to the daemon's RPC API and its network
${NETWORK_HELP}`


function start (sub: string, argv: string[], positionals: number, extra: Parameters<typeof parse>[2] = {}): Parsed | undefined {
  const command = `dht ${sub}`
  const p = parse(command, argv, { repo: { type: 'string' }, ...extra, ...NETWORK_OPTIONS }, positionals)
  if (p.values.help === true) {
    process.stdout.write(SUBS[sub]?.help ?? help)
    return undefined
  }
  if (p.values.offline === true) throw new UsageError(command, '--offline: the dht commands need the network (name resolve --offline answers from the repo)')
  if (p.positionals.length < positionals) throw new UsageError(command, `missing ${SUBS[sub]?.usage.split(' ').slice(1).slice(p.positionals.length).join(' ') ?? 'arguments'}`)
  return p
}

/** Runs the swarm actor's own validation, so the CLI refuses what the node would, before a node starts. */
async function validate (command: string, cmd: SwarmCommand, labels: Record<string, string>): Promise<void> {
  const { validateSwarmCommand } = await import('../actors/swarm/validate.js')
  const f = validateSwarmCommand(cmd)
  if (f !== undefined) throw new UsageError(command, `${labels[f.field ?? ''] ?? f.field ?? 'command'}: ${f.message}`)
}

/** `/ipns/<name>` (any form of the name) is the DHT's routing key, `/ipns/` + the multihash bytes, as kubo's routing get takes it; any other key is its text */
async function dhtKey (command: string, key: string): Promise<Uint8Array | string> {
  if (!key.startsWith('/ipns/')) return key
  const { parseName } = await import('../records/name.js')
  try {
    return parseName(key).name.toRoutingKey()
  } catch (err) {
    throw new UsageError(command, `KEY: ${key} is not /ipns/<an IPNS name>: ${(err as Error).message}`)
  }
}

/** the daemon holding --repo, if one runs there */
async function daemonOf (command: string, p: Parsed): Promise<LiveDaemon | undefined> {
  if (typeof p.values.repo !== 'string') return undefined
  return await runningDaemon(repoOf(command, p.values))
}

/** The operation through the daemon: its kubo RPC answer, printed like the node's. */
async function throughDaemon<T> (command: string, p: Parsed, daemon: LiveDaemon, call: (timeoutMs: number) => Promise<T>, print: (out: T, ms: number, json: boolean) => void): Promise<number> {
  const json = p.values.json === true
  const timeoutMs = durationFlag(command, p.values, 'timeout', 1, 600_000) ?? 60_000
  daemonNotice(command, daemon, p.values)
  try {
    const t = performance.now()
    const out = await call(timeoutMs)
    print(out, performance.now() - t, json)
    return 0
  } catch (err) {
    return failed(command, err, json, false)
  }
}

/** a peer one source named (the DHT, a router endpoint, the daemon) */
interface Found { peerId: string, multiaddrs: string[], from: string }

const peersOf = (events: Awaited<ReturnType<typeof daemonEvents>>, type: number, from: string): Found[] =>
  events.filter(e => e.Type === type).flatMap(e => e.Responses ?? []).map(r => ({ peerId: r.ID, multiaddrs: r.Addrs, from }))

/** One joined node, the operation, the failure report: what every subcommand shares. */
async function online<T> (command: string, p: Parsed, net: Network, verb: string, work: (node: SwarmNode, timeoutMs: number, progress: CommandProgress) => Promise<T>, print: (out: T, ms: number) => void): Promise<number> {
  const repo = typeof p.values.repo === 'string' ? p.values.repo : 'memory'
  try {
    const t = { ms: 0 }
    const out = await withJoinedNode(command, repo, undefined, net, undefined, async (node, ctx) => {
      ctx.progress.operation(verb)
      const t0 = performance.now()
      const r = await work(node, ctx.timeoutMs, ctx.progress)
      t.ms = performance.now() - t0
      return r
    })
    print(out, t.ms)
    if (net.verbose) process.stderr.write(`${command}: done in ${fmtMs(t.ms)} ms\n`)
    return 0
  } catch (err) {
    return failed(command, err, net.json, false)
  }
}

async function get (argv: string[]): Promise<number> {
  const command = 'dht get'
  const p = start('get', argv, 1)
  if (p === undefined) return 0
  const key = p.positionals[0] ?? ''
  const routingKey = await dhtKey(command, key)
  await validate(command, { type: 'dht.get', key: routingKey }, { key: 'KEY' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    return await throughDaemon(command, p, daemon, async ms => {
      const e = (await daemonEvents(daemon, 'routing/get', [key], {}, ms)).find(x => x.Type === VALUE)
      if (e === undefined) throw new FailedError(`the daemon (pid ${daemon.pid}) answered routing/get with no value`)
      return Buffer.from(e.Extra, 'base64')
    }, (value, ms, json) => {
      process.stdout.write(json ? jsonLine({ key, value: value.toString('base64'), daemon: daemon.url, ms: round(ms) }) : value)
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `getting ${key}`, async (node, timeoutMs) => await node.ask({ type: 'dht.get', key: routingKey }, { timeoutMs }), (r, ms) => {
    if (net.json) process.stdout.write(jsonLine({ key, value: Buffer.from(r.value).toString('base64'), from: r.from, network: net.profile, ms: round(ms) }))
    else process.stdout.write(r.value)
  })
}

async function put (argv: string[]): Promise<number> {
  const command = 'dht put'
  const p = start('put', argv, 2)
  if (p === undefined) return 0
  const key = p.positionals[0] ?? ''
  const value = new TextEncoder().encode(p.positionals[1] ?? '')
  await validate(command, { type: 'dht.put', key, value }, { key: 'KEY', value: 'VALUE' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    return await throughDaemon(command, p, daemon, async ms => await daemonEvents(daemon, 'routing/put', [key], {}, ms, value), (_e, ms, json) => {
      process.stdout.write(json ? jsonLine({ key, daemon: daemon.url, ms: round(ms) }) : `stored ${key} through the daemon at ${daemon.url} (pid ${daemon.pid}); ${fmtMs(ms)} ms\n`)
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `putting ${key}`, async (node, timeoutMs) => await node.ask({ type: 'dht.put', key, value }, { timeoutMs }), (r, ms) => {
    if (net.json) process.stdout.write(jsonLine({ key, peers: r.peers, network: net.profile, ms: round(ms) }))
    else process.stdout.write(`stored ${key} on ${r.peers} DHT peer${r.peers === 1 ? '' : 's'}; ${fmtMs(ms)} ms\n`)
  })
}

async function provide (argv: string[]): Promise<number> {
  const command = 'dht provide'
  const p = start('provide', argv, 1)
  if (p === undefined) return 0
  const cid = p.positionals[0] ?? ''
  await validate(command, { type: 'dht.provide', cid }, { cid: 'CID' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    return await throughDaemon(command, p, daemon, async ms => {
      const e = (await daemonEvents(daemon, 'routing/provide', [cid], {}, ms)).find(x => x.Type === FINAL_PEER)
      // Extra: "<cid> provided to N peers"
      return { provider: e?.ID ?? '', peers: Number(/provided to (\d+) peers/.exec(e?.Extra ?? '')?.[1] ?? 0) }
    }, (r, ms, json) => {
      process.stdout.write(json
        ? jsonLine({ cid, provider: r.provider, peers: r.peers, daemon: daemon.url, ms: round(ms) })
        : `provided ${cid} to ${r.peers} DHT peer${r.peers === 1 ? '' : 's'} through the daemon at ${daemon.url} (pid ${daemon.pid}); ${fmtMs(ms)} ms\n`)
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `providing ${cid}`, async (node, timeoutMs) => ({ ...await node.ask({ type: 'dht.provide', cid }, { timeoutMs }), provider: node.peerId }), (r, ms) => {
    if (net.json) process.stdout.write(jsonLine({ cid, provider: r.provider, peers: r.peers, network: net.profile, ms: round(ms) }))
    else process.stdout.write(`provided ${cid} to ${r.peers} DHT peer${r.peers === 1 ? '' : 's'}; ${fmtMs(ms)} ms\n`)
  })
}

async function findprovs (argv: string[]): Promise<number> {
  const command = 'dht findprovs'
  const p = start('findprovs', argv, 1, { 'num-providers': { type: 'string', short: 'n' } })
  if (p === undefined) return 0
  const cid = p.positionals[0] ?? ''
  const limit = intFlag(command, p.values, 'num-providers', DEFAULT_PROVIDERS, 1, MAX_PROVIDERS)
  await validate(command, { type: 'dht.findProviders', cid, limit }, { cid: 'CID', limit: '--num-providers' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    return await throughDaemon(command, p, daemon, async ms => peersOf(await daemonEvents(daemon, 'routing/findprovs', [cid], { 'num-providers': limit }, ms), PROVIDER, daemon.url), (providers, ms, json) => {
      process.stdout.write(json ? jsonLine({ cid, providers, daemon: daemon.url, ms: round(ms) }) : providers.map(f => `${f.peerId}\n`).join(''))
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `finding providers of ${cid}`, async (node, timeoutMs, progress) => {
    const out: Found[] = []
    // with routers, the composite stream (the DHT and every router at once, each provider once); else the DHT's
    const found: AsyncIterable<{ peerId: string, multiaddrs: string[], from?: string }> = net.routers.length > 0
      ? node.stream({ type: 'routing.findProviders', cid, limit }, { timeoutMs })
      : node.stream({ type: 'dht.findProviders', cid, limit }, { timeoutMs })
    for await (const p of found) {
      const f: Found = { peerId: p.peerId, multiaddrs: p.multiaddrs, from: p.from ?? 'dht' }
      out.push(f)
      progress.found(out.length)
      if (!net.json) process.stdout.write(`${f.peerId}\n`)
      if (net.verbose) process.stderr.write(`${command}: ${f.peerId} from ${f.from === 'dht' ? 'the DHT' : f.from}: ${f.multiaddrs.join(' ') || '(no addresses)'}\n`)
    }
    return out
  }, (providers, ms) => {
    if (net.json) process.stdout.write(jsonLine({ cid, providers, network: net.profile, ms: round(ms) }))
  })
}

async function closest (argv: string[]): Promise<number> {
  const command = 'dht closest'
  const p = start('closest', argv, 1)
  if (p === undefined) return 0
  const key = p.positionals[0] ?? ''
  await validate(command, { type: 'dht.closestPeers', key }, { key: 'KEY' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    // kubo's dht/query takes a peer id: through a daemon, KEY must be one
    const { parseTarget } = await import('../actors/ipns/target.js')
    let isPeer = false
    try {
      isPeer = parseTarget(key).kind !== 'domain'
    } catch {
      // not a name: refused below
    }
    if (!isPeer) throw new UsageError(command, `KEY: through the daemon at ${daemon.url}, closest takes a peer id (kubo's dht/query); '${key}' is not one`)
    return await throughDaemon(command, p, daemon, async ms => (await daemonEvents(daemon, 'dht/query', [key], {}, ms, undefined)).filter(e => e.Type === FINAL_PEER).map(e => e.ID), (ids, ms, json) => {
      process.stdout.write(json ? jsonLine({ key, peers: ids.map(peerId => ({ peerId, multiaddrs: [] })), daemon: daemon.url, ms: round(ms) }) : ids.map(id => `${id}\n`).join(''))
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `finding the peers closest to ${key}`, async (node, timeoutMs, progress) => {
    const out: Array<{ peerId: string, multiaddrs: string[] }> = []
    for await (const peer of node.stream({ type: 'dht.closestPeers', key }, { timeoutMs })) {
      out.push(peer)
      progress.found(out.length)
      if (!net.json) process.stdout.write(`${peer.peerId}\n`)
    }
    return out
  }, (peers, ms) => {
    if (net.json) process.stdout.write(jsonLine({ key, peers, network: net.profile, ms: round(ms) }))
  })
}

async function findpeer (argv: string[]): Promise<number> {
  const command = 'dht findpeer'
  const p = start('findpeer', argv, 1)
  if (p === undefined) return 0
  const peerId = p.positionals[0] ?? ''
  await validate(command, { type: 'dht.findPeer', peerId }, { peerId: 'PEER' })
  const daemon = await daemonOf(command, p)
  if (daemon !== undefined) {
    return await throughDaemon(command, p, daemon, async ms => peersOf(await daemonEvents(daemon, 'routing/findpeer', [peerId], {}, ms), FINAL_PEER, daemon.url), (found, ms, json) => {
      const multiaddrs = [...new Set(found.flatMap(f => f.multiaddrs))]
      process.stdout.write(json ? jsonLine({ peerId, multiaddrs, from: [daemon.url], daemon: daemon.url, ms: round(ms) }) : multiaddrs.map(a => `${a}\n`).join(''))
    })
  }
  const net = await networkFlags(command, p.values)
  return await online(command, p, net, `finding ${peerId}`, async (node, timeoutMs) => {
    if (net.routers.length === 0) {
      const found = await node.ask({ type: 'dht.findPeer', peerId }, { timeoutMs })
      return { multiaddrs: [...new Set(found.multiaddrs)], from: ['dht'] }
    }
    // the DHT and every router at once (routing.findPeer): each item the addresses no earlier one had
    const multiaddrs: string[] = []
    const from: string[] = []
    for await (const item of node.stream({ type: 'routing.findPeer', peerId }, { timeoutMs })) {
      multiaddrs.push(...item.multiaddrs)
      if (!from.includes(item.from)) from.push(item.from)
    }
    return { multiaddrs, from }
  }, (r, ms) => {
    if (net.json) process.stdout.write(jsonLine({ peerId, multiaddrs: r.multiaddrs, from: r.from, network: net.profile, ms: round(ms) }))
    else process.stdout.write(r.multiaddrs.map(a => `${a}\n`).join(''))
  })
}

const SUBS: Record<string, Subcommand> = {
  get: {
    usage: 'get KEY',
    summary: 'the best value stored under KEY (/ipns/…, /swarmbus/…)',
    help: `Usage: swarmbus dht get KEY [options]

Prints the value stored under KEY in the DHT, as its raw bytes (--json: base64
and the peer that gave it): the best of the values the closest peers hold,
each validated by its namespace (/ipns/<name>: the signed record, verified,
the highest sequence wins — 'swarmbus record inspect' reads it; /swarmbus/…:
values of this project). NotFoundError
(exit 1) when no peer holds one.

Options:
${COMMON}`,
    run: get
  },
  put: {
    usage: 'put KEY VALUE',
    summary: 'store VALUE (text) under KEY on the closest peers',
    help: `Usage: swarmbus dht put KEY VALUE [options]

Stores VALUE (its UTF-8 bytes) under KEY on the closest DHT peers and prints
how many took it. KEY must be in a namespace the node validates (/swarmbus/…;
an /ipns/ key needs a signed record: use 'swarmbus name publish'). Peers of
the public network accept only the namespaces they know (/ipns/, /pk/), so a
/swarmbus/ value is for a testnet (--network local).

Options:
${COMMON}`,
    run: put
  },
  findprovs: {
    usage: 'findprovs CID',
    summary: 'peers that provide CID, from the DHT and the routers',
    help: `Usage: swarmbus dht findprovs CID [-n N] [options]

Prints the peer ids of the providers of CID, one per line as they are found,
from the DHT and from every HTTP router at once, each peer once
(--verbose: where each came from and its addresses; --json: one object at
the end).

Options:
  -n, --num-providers N     stop after N providers, 1 to ${MAX_PROVIDERS} (default ${DEFAULT_PROVIDERS})
${COMMON}`,
    run: findprovs
  },
  findpeer: {
    usage: 'findpeer PEER',
    summary: 'the addresses of a peer, from the DHT and the routers',
    help: `Usage: swarmbus dht findpeer PEER [options]

Prints the multiaddrs of PEER (a base58 peer id, 12D3Koo… or Qm…), one per
line: those the DHT found and those the HTTP routers know, each once.
NotFoundError (exit 1) when neither knows any.

Options:
${COMMON}`,
    run: findpeer
  },
  provide: {
    usage: 'provide CID',
    summary: 'announce this node as a provider of CID',
    help: `Usage: swarmbus dht provide CID [options]

Puts a provider record for CID (this node's peer id and addresses) on the
closest DHT peers and prints how many took it. The command's node stops
right after: on amino it is dial-only, so the record names no address (and
nobody could fetch from it anyway); provide from a node that stays up, e.g.
'swarmbus daemon', for anything lasting.

Options:
${COMMON}`,
    run: provide
  },
  closest: {
    usage: 'closest KEY',
    summary: 'the peers closest to KEY (a Kademlia lookup)',
    help: `Usage: swarmbus dht closest KEY [options]

Prints the peer ids the Kademlia lookup ends with for KEY (any string: its
UTF-8 bytes are the key), closest first as the query yields them.

Options:
${COMMON}`,
    run: closest
  }
}

export const help = `Usage: swarmbus dht <command> [arguments] [options]

The DHT of a short-lived node: get and put values, find providers and
peers, provide, find the closest peers. Each command opens a node (a
dial-only DHT client on the public IPFS network by default, or with
--network local only the --bootstrap peers), joins, runs one operation, and
stops. findprovs and findpeer ask the HTTP routers too (delegated-ipfs.dev
on amino). Progress goes to stderr; stdout has only the answer. See
docs/network.md (the CLI and its network) and docs/dht.md (the commands).

Commands:
${subcommandTable(SUBS)}

Examples:
  swarmbus dht findprovs bafy…                    (the public network: DHT and delegated-ipfs.dev)
  swarmbus dht findpeer 12D3KooW… --router none   (the public DHT only)
  swarmbus dht put /swarmbus/greeting hello --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW…
  swarmbus dht get /swarmbus/greeting --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW…

Run 'swarmbus dht <command> --help' for its options.
`

export async function run (argv: string[]): Promise<number> {
  return await runGroup('dht', help, SUBS, argv)
}
