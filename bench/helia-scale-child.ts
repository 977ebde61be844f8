/**
 * A child process of the scale bench's Helia network (helia-scale.ts forks
 * it from dist-bench/ through the same ChildHost as a swarmbus testnet
 * child): it hosts @helia/ipns nodes on kad-dht (helia-reference.ts, the
 * stack the IPNS bench compares with), each behind the same delaying TCP
 * proxy a swarmbus testnet node sits behind (src/node/faults/delay-proxy.ts),
 * and runs what the parent asks of them.
 *
 * It speaks the testnet child protocol (src/node/remote/protocol.ts): ready,
 * start → started, ask → reply | fail, cancel, stats, exit. The asks are the
 * few the bench needs, as plain commands:
 *
 *   helia.publish { value }          → { name }   (a fresh key, then name.publish; name: its libp2p-key CID)
 *   helia.resolve { name }           → { value, sent, peers }   (nocache; send-query events counted)
 *   helia.status                     → { routingTableSize, connections }
 *   helia.selfLookup                 → { peers }  (getClosestPeers of its own id: fills the table)
 *
 * Every ask runs with the deadline the parent gave (its AbortSignal), so a
 * Helia query that would run for minutes fails as a timeout instead.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { errorToFailure, FailedError, InvalidCommandError, StoppedError } from '../src/messages/errors.js'
import { DelayProxy } from '../src/node/faults/delay-proxy.js'
import { freePort } from '../src/node/faults/child-faults.js'
import { routingTableOf } from '../src/actors/swarm/libp2p/routing-table.js'
import { processStatsOf } from '../src/node/remote/process-stats.js'
import { createHeliaNode } from './helia-reference.js'
import type { HeliaNode } from './helia-reference.js'
import type { FromChild, StartSpec, ToChild } from '../src/node/remote/protocol.js'

const MAX_IN_FLIGHT = 10_000
const EXIT_GRACE_MS = 15_000
const JOIN_TIMEOUT_MS = 30_000

interface Hosted { node: HeliaNode, proxy: DelayProxy, published: number }

const nodes = new Map<number, Hosted>()
const running = new Map<number, AbortController>()
let exiting = false

function send (m: FromChild): void {
  if (process.send === undefined || !process.connected) return
  process.send(m)
}

async function startOne (spec: StartSpec): Promise<{ index: number, peerId: string, multiaddrs: string[] }> {
  const proxy = new DelayProxy({ ...spec.faults, seed: (spec.seed ?? spec.index) ^ 0xfa17 })
  try {
    const proxyPort = await proxy.listen()
    // a listen port outside the ephemeral range, as a swarmbus testnet node gets (child-faults.ts)
    const port = await freePort()
    // forward at once: connections that arrive before the node listens are refused upstream
    proxy.setTarget(port)
    const node = await createHeliaNode({
      ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
      listen: [`/ip4/127.0.0.1/tcp/${port}`],
      announce: [`/ip4/127.0.0.1/tcp/${proxyPort}`]
    })
    nodes.set(spec.index, { node, proxy, published: 0 })
    // join as a swarmbus node does (swarm.bootstrap): dial the bootstrap peers, then one self lookup
    const signal = AbortSignal.timeout(JOIN_TIMEOUT_MS)
    await Promise.allSettled(spec.bootstrap.map(async addr => await node.libp2p.dial(multiaddr(addr), { signal })))
    if (spec.bootstrap.length > 0) await selfLookup(node, signal).catch(() => 0)
    return { index: spec.index, peerId: node.peerId, multiaddrs: node.multiaddrs }
  } catch (err) {
    await proxy.close()
    throw err
  }
}

async function start (id: number, specs: StartSpec[]): Promise<void> {
  try {
    send({ t: 'started', id, nodes: await Promise.all(specs.map(startOne)) })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  }
}

async function selfLookup (node: HeliaNode, signal: AbortSignal): Promise<number> {
  let peers = 0
  for await (const e of node.libp2p.services.dht.getClosestPeers(node.libp2p.peerId.toMultihash().bytes, { signal })) {
    if (e.name === 'FINAL_PEER') peers++
  }
  return peers
}

type Command =
  | { type: 'helia.publish', value: string }
  | { type: 'helia.resolve', name: string }
  | { type: 'helia.status' }
  | { type: 'helia.selfLookup' }

async function run (h: Hosted, index: number, command: Command, signal: AbortSignal): Promise<unknown> {
  switch (command.type) {
    case 'helia.publish': {
      const keyName = `scale-${index}-${h.published++}`
      await h.node.keychain.generateKey(keyName)
      const cid = CID.parse(command.value.replace(/^\/ipfs\//, ''))
      const r = await h.node.name.publish(keyName, cid, { signal })
      return { name: r.publicKey.toCID().toString() }
    }
    case 'helia.resolve': {
      let sent = 0
      const peers = new Set<string>()
      const onProgress = (e: { type: string, detail?: unknown }): void => {
        if (e.type !== 'kad-dht:query:send-query') return
        sent++
        const to = (e.detail as { to?: { toString: () => string } } | undefined)?.to
        if (to !== undefined) peers.add(to.toString())
      }
      let value: string | undefined
      for await (const r of h.node.name.resolve(CID.parse(command.name), { nocache: true, onProgress, signal })) value = r.value
      if (value === undefined) throw new FailedError(`Helia resolved ${command.name} to nothing`)
      return { value, sent, peers: peers.size }
    }
    case 'helia.status':
      return { routingTableSize: routingTableOf(h.node.libp2p.services.dht).size, connections: h.node.libp2p.getConnections().length }
    case 'helia.selfLookup':
      return { peers: await selfLookup(h.node, signal) }
    default:
      throw new InvalidCommandError('type', `unknown Helia bench command '${(command as { type: string }).type}'`)
  }
}

async function ask (id: number, index: number, command: Command, timeoutMs: number): Promise<void> {
  const h = nodes.get(index)
  if (h === undefined) {
    send({ t: 'fail', id, failure: errorToFailure(new StoppedError(`Helia node ${index} is not running in this process`)) })
    return
  }
  if (running.size >= MAX_IN_FLIGHT) {
    send({ t: 'fail', id, failure: { kind: 'overloaded', message: `a Helia bench process runs ${MAX_IN_FLIGHT} requests already` } })
    return
  }
  const abort = new AbortController()
  running.set(id, abort)
  try {
    send({ t: 'reply', id, value: await run(h, index, command, AbortSignal.any([abort.signal, AbortSignal.timeout(timeoutMs)])) })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  } finally {
    running.delete(id)
  }
}

function stats (id: number): void {
  let connections = 0
  let streams = 0
  for (const { node } of nodes.values()) {
    for (const c of node.libp2p.getConnections()) {
      connections++
      streams += c.streams.length
    }
  }
  const value = processStatsOf({
    inFlight: running.size,
    nodes: nodes.size,
    silentNodes: 0,
    // Helia has no actors or reply ports: its streams count as inbound+outbound libp2p streams
    open: { connections, pendingQueries: running.size, runningQueries: 0, pendingAsks: running.size, openPorts: 0, dhtRequestsOpen: 0, dhtStreamsIdle: 0, inboundStreams: streams, mailboxDepth: 0 }
  })
  send({ t: 'reply', id, value })
}

async function exit (code: number): Promise<void> {
  if (exiting) return
  exiting = true
  const timer = setTimeout(() => { process.exit(code === 0 ? 3 : code) }, EXIT_GRACE_MS)
  timer.unref()
  for (const a of running.values()) a.abort()
  await Promise.allSettled([...nodes.values()].map(async h => { await h.node.stop(); await h.proxy.close() }))
  nodes.clear()
  process.exit(code)
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'start': void start(m.id, m.nodes); return
    case 'ask': void ask(m.id, m.node, m.command as Command, m.timeoutMs); return
    case 'cancel': running.get(m.id)?.abort(); return
    case 'stats': stats(m.id); return
    case 'exit': void exit(0); return
    default:
      if ('id' in m) send({ t: 'fail', id: m.id, failure: errorToFailure(new InvalidCommandError('t', `the Helia bench child does not do '${m.t}'`)) })
  }
})
process.on('disconnect', () => { void exit(0) })
process.on('SIGINT', () => { process.stderr.write('helia scale child: SIGINT ignored, the parent stops this process\n') })
process.on('SIGTERM', () => { void exit(0) })
send({ t: 'ready' })
