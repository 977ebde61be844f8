/**
 * A node's whole command set, on a live TCP testnet, for record→replay tests:
 * every command of docs/messages.md (system, swarm, dht, key, record, ipns,
 * store, dnslink, republish), with uncached and cached resolves, lookups that
 * end NotFound and lookups that run out of time, streams cut short by the
 * consumer, an abort, a DNSLink domain on a local DNS server, and a
 * supervised restart (an extension actor that crashes and is restarted).
 *
 * `prepareLiveTestnet` publishes and puts what the recording node will look
 * up, before that node exists; `runLiveScenario` drives the recording node
 * and returns every step's outcome ('ok' or the error's name);
 * `waitUntilQuiet` waits, from the host side, until the node has nothing in
 * flight (stop is not an input of a trace: see docs/replay.md).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { SwarmNode } from '../../src/node/create-node.js'
import type { Testnet } from '../../src/node/create-testnet.js'
import type { TestDnsServer } from './dns-server.js'

const utf8 = new TextEncoder()
export const LIVE_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
/** a valid peer id nobody on a testnet has */
const UNKNOWN_PEER = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw'
/** an IPNS name (of a conformance fixture) that nobody on the testnet publishes */
const UNPUBLISHED_NAME = 'k51qzi5uqu5dgh7y9l90nqs6tvnzcm9erbt8fhzg3fu79p5qt9zb2izvfu51ki'
export const LIVE_DOMAIN = 'live.swarmbus.test'

export interface LivePrepared {
  /** published by node 1 */
  direct: string
  /** published by node 2: points at another of its names, with a sub-path */
  recursive: string
  provided: string
}

export async function cidOf (label: string): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(utf8.encode(`swarmbus-live/${label}`))).toString()
}

/** Work on the testnet before the recording node joins (not recorded). */
export async function prepareLiveTestnet (net: Testnet, dns: TestDnsServer): Promise<LivePrepared> {
  const [, a, b] = net.nodes
  if (a === undefined || b === undefined) throw new Error('the testnet needs at least 3 nodes')
  const direct = (await a.ask({ type: 'ipns.publish', value: `/ipfs/${LIVE_CID}/direct` }, { timeoutMs: 15_000 })).name
  const inner = await b.ask({ type: 'key.generate', name: 'live-inner' })
  await b.ask({ type: 'ipns.publish', key: 'live-inner', value: `/ipfs/${LIVE_CID}/inner` }, { timeoutMs: 15_000 })
  const recursive = (await b.ask({ type: 'ipns.publish', value: `/ipns/${inner.ipnsName}/mid` }, { timeoutMs: 15_000 })).name
  await a.ask({ type: 'dht.put', key: '/swarmbus/live/before', value: utf8.encode('put before the recorder joined') }, { timeoutMs: 15_000 })
  const provided = await cidOf('provided-before')
  await b.ask({ type: 'dht.provide', cid: provided }, { timeoutMs: 15_000 })
  dns.setTxt(`_dnslink.${LIVE_DOMAIN}`, [`dnslink=/ipns/${direct}`], 300)
  return { direct, recursive, provided }
}

/** how an ask ended: 'ok' or the error's name; logged with its time */
export async function outcome (what: string, p: Promise<unknown>, log: string[]): Promise<string> {
  const start = performance.now()
  let result: string
  try {
    await p
    result = 'ok'
  } catch (err) {
    result = (err as Error).name
  }
  log.push(`${what}: ${result} (${Math.round(performance.now() - start)} ms)`)
  return result
}

/** read `max` items, then leave the stream (the consumer cuts it short) */
async function take (it: AsyncIterable<unknown>, max: number): Promise<number> {
  let n = 0
  for await (const _ of it) {
    if (++n >= max) break
  }
  return n
}

// the crashy extension actor's commands, typed as an extension's are (declaration merging)
declare module '../../src/messages/commands.js' {
  interface CommandMap {
    'crashy.crash': { command: { type: 'crashy.crash' }, reply: never }
    'crashy.ping': { command: { type: 'crashy.ping' }, reply: { incarnation: number } }
  }
}

export interface LiveStep { what: string, outcome: string }

/**
 * Drive the recording node through every command. The node must have the
 * testnet's nodes in its routing table, the local DNS server as its resolver
 * and the crashy extension actor (test/fixtures/actors/crashy-actor.mjs);
 * `silentPort` is a TCP port that accepts and never answers (SilentListener).
 */
export async function runLiveScenario (node: SwarmNode, net: Testnet, prepared: LivePrepared, silentPort: number, log: string[]): Promise<LiveStep[]> {
  const steps: LiveStep[] = []
  const step = async (what: string, p: Promise<unknown>): Promise<void> => { steps.push({ what, outcome: await outcome(what, p, log) }) }
  const other = net.nodes[1]
  const far = net.nodes[net.nodes.length - 1]
  if (other === undefined || far === undefined) throw new Error('the testnet needs at least 3 nodes')

  await step('system.ping', node.ask({ type: 'system.ping' }))
  await step('swarm.status', node.ask({ type: 'swarm.status' }))
  await step('swarm.peers', node.ask({ type: 'swarm.peers' }))
  await step('swarm.dial', node.ask({ type: 'swarm.dial', multiaddr: far.multiaddrs[0] ?? '' }, { timeoutMs: 10_000 }))
  await step('swarm.bootstrap', node.ask({ type: 'swarm.bootstrap' }, { timeoutMs: 10_000 }))

  // the DHT: found, not found (an uncached lookup to its end), out of time, aborted, cut short
  await step('dht.put', node.ask({ type: 'dht.put', key: '/swarmbus/live/k', value: utf8.encode('live value') }, { timeoutMs: 15_000 }))
  await step('dht.putTo', node.ask({ type: 'dht.putTo', key: '/swarmbus/live/to', value: utf8.encode('to one peer'), peers: [other.peerId] }, { timeoutMs: 10_000 }))
  await step('dht.get own', node.ask({ type: 'dht.get', key: '/swarmbus/live/k' }, { timeoutMs: 10_000 }))
  await step('dht.get remote', node.ask({ type: 'dht.get', key: '/swarmbus/live/before' }, { timeoutMs: 10_000 }))
  await step('dht.get missing', node.ask({ type: 'dht.get', key: '/swarmbus/live/missing' }, { timeoutMs: 10_000 }))
  await step('dht.get with a 2 ms deadline', node.ask({ type: 'dht.get', key: '/swarmbus/live/late' }, { timeoutMs: 2 }))
  const caller = new AbortController()
  const aborted = step('dht.get aborted by the caller', node.ask({ type: 'dht.get', key: '/swarmbus/live/aborted' }, { timeoutMs: 10_000, signal: caller.signal }))
  await sleep(1)
  caller.abort()
  await aborted
  await step('dht.getValues cut short', take(node.stream({ type: 'dht.getValues', key: '/swarmbus/live/before', want: 4 }, { timeoutMs: 10_000 }), 1))
  await step('dht.provide', node.ask({ type: 'dht.provide', cid: await cidOf('provided-by-recorder') }, { timeoutMs: 15_000 }))
  await step('dht.findProviders cut short', take(node.stream({ type: 'dht.findProviders', cid: prepared.provided }, { timeoutMs: 10_000 }), 1))
  await step('dht.findProviders of nobody', take(node.stream({ type: 'dht.findProviders', cid: await cidOf('nobody') }, { timeoutMs: 10_000 }), 256))
  await step('dht.closestPeers', take(node.stream({ type: 'dht.closestPeers', key: '/swarmbus/live/closest' }, { timeoutMs: 10_000 }), 256))
  await step('dht.findPeer', node.ask({ type: 'dht.findPeer', peerId: far.peerId }, { timeoutMs: 10_000 }))
  await step('dht.findPeer unknown with a 2 ms deadline', node.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 2 }))
  await step('dht.findPeer unknown', node.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 10_000 }))
  // a peer that accepts the TCP connection and never answers: the dial runs out of time
  await step('swarm.dial a silent peer', node.ask({ type: 'swarm.dial', multiaddr: `/ip4/127.0.0.1/tcp/${silentPort}/p2p/${UNKNOWN_PEER}` }, { timeoutMs: 300 }))

  // keys and records
  await step('key.generate', node.ask({ type: 'key.generate', name: 'live' }))
  await step('key.list', node.ask({ type: 'key.list' }))
  const exported = await node.ask({ type: 'key.export', name: 'live', passphrase: 'live passphrase' }).catch(() => undefined)
  steps.push({ what: 'key.export', outcome: exported === undefined ? 'FailedError' : 'ok' })
  await step('key.import', node.ask({ type: 'key.import', name: 'live-copy', data: exported?.data ?? '', passphrase: 'live passphrase' }))
  await step('key.rename', node.ask({ type: 'key.rename', from: 'live-copy', to: 'live-renamed' }))
  await step('key.remove', node.ask({ type: 'key.remove', name: 'live-renamed' }))
  const created = await node.ask({ type: 'record.create', key: 'live', value: `/ipfs/${LIVE_CID}/made`, sequence: 3 }).catch(() => undefined)
  steps.push({ what: 'record.create', outcome: created === undefined ? 'FailedError' : 'ok' })
  if (created !== undefined) {
    await step('record.verify', node.ask({ type: 'record.verify', name: created.name, record: created.record }))
    await step('record.verify of another name', node.ask({ type: 'record.verify', name: prepared.direct, record: created.record }))
  }

  // IPNS: publish, resolve uncached, cached, nocache, recursive, unpublished, out of time
  await step('ipns.publish', node.ask({ type: 'ipns.publish', value: `/ipfs/${LIVE_CID}/first` }, { timeoutMs: 15_000 }))
  await step('ipns.publish a named key', node.ask({ type: 'ipns.publish', key: 'live', value: `/ipfs/${LIVE_CID}/named` }, { timeoutMs: 15_000 }))
  await step('ipns.publish offline', node.ask({ type: 'ipns.publish', value: `/ipfs/${LIVE_CID}/offline`, offline: true }, { timeoutMs: 15_000 }))
  await step('ipns.resolve uncached', node.ask({ type: 'ipns.resolve', name: prepared.direct }, { timeoutMs: 10_000 }))
  await step('ipns.resolve cached', node.ask({ type: 'ipns.resolve', name: prepared.direct }, { timeoutMs: 10_000 }))
  await step('ipns.resolve nocache', node.ask({ type: 'ipns.resolve', name: prepared.direct, nocache: true }, { timeoutMs: 10_000 }))
  await step('ipns.resolve recursive', node.ask({ type: 'ipns.resolve', name: `/ipns/${prepared.recursive}/tail` }, { timeoutMs: 10_000 }))
  await step('ipns.resolve unpublished', node.ask({ type: 'ipns.resolve', name: UNPUBLISHED_NAME }, { timeoutMs: 10_000 }))
  await step('ipns.resolve with a 3 ms deadline', node.ask({ type: 'ipns.resolve', name: prepared.recursive, nocache: true }, { timeoutMs: 3 }))
  await step('ipns.republish', node.ask({ type: 'ipns.republish', force: true }, { timeoutMs: 20_000 }))

  // the store, DNSLink
  await step('store.list', node.ask({ type: 'store.list', kind: 'published' }))
  await step('store.get', node.ask({ type: 'store.get', kind: 'resolved', name: prepared.direct }))
  await step('dnslink.resolve', node.ask({ type: 'dnslink.resolve', domain: LIVE_DOMAIN }, { timeoutMs: 10_000 }))
  await step('ipns.resolve a DNSLink domain', node.ask({ type: 'ipns.resolve', name: `/ipns/${LIVE_DOMAIN}/page` }, { timeoutMs: 10_000 }))
  await step('dnslink.resolve of a missing domain', node.ask({ type: 'dnslink.resolve', domain: 'missing.swarmbus.test' }, { timeoutMs: 10_000 }))

  // a supervised restart: the actor crashes in receive, the supervisor starts it again
  await step('crashy.crash', node.ask({ type: 'crashy.crash' }))
  await sleep(50)
  await step('crashy.ping after the restart', node.ask({ type: 'crashy.ping' }))
  await step('swarm.status at the end', node.ask({ type: 'swarm.status' }))
  return steps
}

/**
 * Wait (bounded) until no actor has an open ask and the swarm has no query
 * running: a completion that arrived just before stop would be a dead letter
 * in the recording but delivered on replay. Reads system.status(), which is
 * not an ask, so it is not in the trace.
 */
export async function waitUntilQuiet (node: SwarmNode, timeoutMs = 10_000): Promise<boolean> {
  const start = performance.now()
  while (performance.now() - start < timeoutMs) {
    const actors = node.system.status().actors
    const swarm = actors.find(a => a.name === 'swarm')?.detail as { pendingQueries?: number, runningQueries?: number } | undefined
    const busy = actors.some(a => a.pending > 0) || (swarm?.pendingQueries ?? 0) > 0 || (swarm?.runningQueries ?? 0) > 0
    if (!busy) return true
    await sleep(50)
  }
  return false
}
