/**
 * Re-records the golden traces in test/fixtures/traces/ from real runs: a
 * small loopback TCP testnet, and one recording node per scenario
 * (createNode({ trace, loopback, seed, bootstrap })) joined to it, running a
 * scripted scenario that includes timeouts and an abort. Each trace is then
 * replayed once (it must replay with ok: true), and its size checked.
 *
 *   npm run record-traces            (= npx tsx scripts/record-golden-traces.ts)
 *
 * The recordings differ from run to run (ports, timings, libp2p's order of
 * events); any fresh recording is a valid golden trace. Re-record when the
 * trace format or the actors' behaviour changes on purpose, and commit the
 * new files with the change.
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createNode } from '../src/node/create-node.js'
import { createTestnet } from '../src/node/create-testnet.js'
import { replayNodeTraceFile } from '../src/node/replay-node.js'
import { outcome, waitUntilQuiet } from '../test/helpers/live-scenario.js'
import type { SwarmNode } from '../src/node/create-node.js'
import type { Testnet } from '../src/node/create-testnet.js'

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'traces')
const MAX_BYTES = 300 * 1024
const SEED = 77_000
const UNKNOWN_PEER = '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw'
const utf8 = new TextEncoder()
const IPNS_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
/** an IPNS name (of a conformance fixture) that nobody on the testnet publishes */
const UNPUBLISHED_NAME = 'k51qzi5uqu5dgh7y9l90nqs6tvnzcm9erbt8fhzg3fu79p5qt9zb2izvfu51ki'
/** names published in the ipns-resolve scenario's prepare step */
const ipnsNames = { direct: '', recursive: '' }

async function cidOf (label: string): Promise<string> {
  return CID.createV1(0x55, await sha256.digest(utf8.encode(`swarmbus-golden/${label}`))).toString()
}

async function drain (it: AsyncIterable<unknown>): Promise<number> {
  let n = 0
  for await (const _ of it) n++
  return n
}

interface Scenario {
  name: string
  /** work on the testnet before the recording node exists (not recorded) */
  prepare?: (net: Testnet) => Promise<void>
  run: (node: SwarmNode, net: Testnet, log: string[]) => Promise<string[]>
  /** outcomes the recording must contain, else the scenario did not do what it is for */
  expect: string[]
  /** largest acceptable trace (default MAX_BYTES) */
  maxBytes?: number
}

const scenarios: Scenario[] = [
  {
    name: 'put-get',
    prepare: async net => {
      await net.nodes[1]?.ask({ type: 'dht.put', key: '/swarmbus/golden/before', value: utf8.encode('put before the recorder joined') }, { timeoutMs: 15_000 })
    },
    run: async (node, _net, log) => {
      const caller = new AbortController()
      const aborted = outcome('get aborted by the caller', node.ask({ type: 'dht.get', key: '/swarmbus/golden/aborted' }, { timeoutMs: 10_000, signal: caller.signal }), log)
      caller.abort()
      return [
        await outcome('status', node.ask({ type: 'swarm.status' }), log),
        await outcome('put', node.ask({ type: 'dht.put', key: '/swarmbus/golden/k', value: utf8.encode('golden value') }, { timeoutMs: 15_000 }), log),
        await outcome('get own', node.ask({ type: 'dht.get', key: '/swarmbus/golden/k' }, { timeoutMs: 10_000 }), log),
        await outcome('get remote', node.ask({ type: 'dht.get', key: '/swarmbus/golden/before' }, { timeoutMs: 10_000 }), log),
        await outcome('get missing', node.ask({ type: 'dht.get', key: '/swarmbus/golden/missing' }, { timeoutMs: 10_000 }), log),
        await outcome('put with a 1 ms deadline', node.ask({ type: 'dht.put', key: '/swarmbus/golden/late', value: utf8.encode('too late') }, { timeoutMs: 1 }), log),
        await aborted,
        await outcome('invalid get', node.ask({ type: 'dht.get', key: '' }), log),
        await outcome('status', node.ask({ type: 'swarm.status' }), log)
      ]
    },
    expect: ['ok', 'NotFoundError', 'TimeoutError', 'AbortError', 'InvalidCommandError']
  },
  {
    name: 'providers-and-peers',
    prepare: async net => {
      await net.nodes[2]?.ask({ type: 'dht.provide', cid: await cidOf('provided-before') }, { timeoutMs: 15_000 })
    },
    run: async (node, net, log) => [
      await outcome('provide', node.ask({ type: 'dht.provide', cid: await cidOf('provided-by-recorder') }, { timeoutMs: 15_000 }), log),
      await outcome('findProviders', drain(node.stream({ type: 'dht.findProviders', cid: await cidOf('provided-before'), limit: 2 }, { timeoutMs: 10_000 })), log),
      await outcome('findProviders of nobody', drain(node.stream({ type: 'dht.findProviders', cid: await cidOf('nobody') }, { timeoutMs: 10_000 })), log),
      await outcome('findProviders with a 1 ms deadline', drain(node.stream({ type: 'dht.findProviders', cid: await cidOf('late') }, { timeoutMs: 1 })), log),
      await outcome('closestPeers', drain(node.stream({ type: 'dht.closestPeers', key: '/swarmbus/golden/closest' }, { timeoutMs: 10_000 })), log),
      await outcome('findPeer', node.ask({ type: 'dht.findPeer', peerId: net.nodes[3]?.peerId ?? UNKNOWN_PEER }, { timeoutMs: 10_000 }), log),
      await outcome('findPeer unknown with a 2 ms deadline', node.ask({ type: 'dht.findPeer', peerId: UNKNOWN_PEER }, { timeoutMs: 2 }), log),
      await outcome('dial', node.ask({ type: 'swarm.dial', multiaddr: net.nodes[4]?.multiaddrs[0] ?? '' }, { timeoutMs: 10_000 }), log),
      await outcome('peers', node.ask({ type: 'swarm.peers' }), log),
      await outcome('status', node.ask({ type: 'swarm.status' }), log)
    ],
    expect: ['ok', 'TimeoutError']
  },
  {
    // a publish, a second one raising the sequence, a missing key, an offline one, and one out of time
    name: 'ipns-publish',
    run: async (node, _net, log) => [
      await outcome('publish', node.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/first` }, { timeoutMs: 15_000 }), log),
      await outcome('publish again (sequence + 1)', node.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/second` }, { timeoutMs: 15_000 }), log),
      await outcome('publish with a missing key', node.ask({ type: 'ipns.publish', key: 'no-such-key', value: `/ipfs/${IPNS_CID}` }, { timeoutMs: 15_000 }), log),
      await outcome('publish offline', node.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/offline`, offline: true }, { timeoutMs: 15_000 }), log),
      await outcome('publish with a 1 ms deadline', node.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/late` }, { timeoutMs: 1 }), log),
      // runs out of time in the DHT put (a timer fires and the put is aborted)
      await outcome('publish with a 30 ms deadline', node.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/later` }, { timeoutMs: 30 }), log)
    ],
    expect: ['ok', 'NotFoundError', 'TimeoutError'],
    maxBytes: 400 * 1024
  },
  {
    // resolves from a node that joined after the records were published (so holds none of them)
    name: 'ipns-resolve',
    prepare: async net => {
      const [, a, b] = net.nodes
      if (a === undefined || b === undefined) throw new Error('the testnet needs 3 nodes')
      ipnsNames.direct = (await a.ask({ type: 'ipns.publish', value: `/ipfs/${IPNS_CID}/direct` }, { timeoutMs: 15_000 })).name
      const inner = await b.ask({ type: 'key.generate', name: 'golden-inner' })
      await b.ask({ type: 'ipns.publish', key: 'golden-inner', value: `/ipfs/${IPNS_CID}/inner` }, { timeoutMs: 15_000 })
      ipnsNames.recursive = (await b.ask({ type: 'ipns.publish', value: `/ipns/${inner.ipnsName}/mid` }, { timeoutMs: 15_000 })).name
    },
    run: async (node, _net, log) => [
      await outcome('resolve uncached', node.ask({ type: 'ipns.resolve', name: ipnsNames.direct }, { timeoutMs: 10_000 }), log),
      await outcome('resolve cached', node.ask({ type: 'ipns.resolve', name: ipnsNames.direct }, { timeoutMs: 10_000 }), log),
      await outcome('resolve recursive with a sub-path', node.ask({ type: 'ipns.resolve', name: `/ipns/${ipnsNames.recursive}/tail` }, { timeoutMs: 10_000 }), log),
      await outcome('resolve a name nobody published', node.ask({ type: 'ipns.resolve', name: UNPUBLISHED_NAME }, { timeoutMs: 10_000 }), log),
      await outcome('resolve with a 1 ms deadline', node.ask({ type: 'ipns.resolve', name: ipnsNames.recursive, nocache: true }, { timeoutMs: 1 }), log)
    ],
    expect: ['ok', 'NotFoundError', 'TimeoutError'],
    maxBytes: 400 * 1024
  }
]

async function record (scenario: Scenario, net: Testnet, index: number): Promise<void> {
  const file = join(OUT, `${scenario.name}.jsonl`)
  await scenario.prepare?.(net)
  const log: string[] = []
  const node = await createNode({
    trace: file,
    loopback: true,
    seed: SEED + 100 + index,
    bootstrap: [net.nodes[0]?.multiaddrs[0] ?? ''],
    defaultTimeoutMs: 10_000
  })
  let outcomes: string[]
  try {
    // createNode's bootstrap can return before kad-dht has put the peers it met into
    // the routing table: wait for them (bounded; these status asks are recorded too)
    for (let i = 0; i < 100; i++) {
      if ((await node.ask({ type: 'swarm.status' })).routingTableSize >= net.nodes.length - 1) break
      await sleep(50)
    }
    outcomes = await scenario.run(node, net, log)
    // let the work the scenario left behind end before stopping (bounded): libp2p
    // completions of aborted queries, the IPNS actor's background store and
    // entry-correction asks. Stop is not an input of the trace, so a completion
    // that arrived just before it would be delivered on replay but was a dead
    // letter in the recording. Read from the host side (system.status() is not
    // an ask, so it is not in the trace).
    await waitUntilQuiet(node, 5_000)
  } finally {
    await node.stop()
  }
  const missing = scenario.expect.filter(e => !outcomes.includes(e))
  if (missing.length > 0) throw new Error(`${scenario.name}: the run had no ${missing.join(', ')} outcome:\n  ${log.join('\n  ')}`)
  const { size } = await stat(file)
  const maxBytes = scenario.maxBytes ?? MAX_BYTES
  if (size > maxBytes) throw new Error(`${scenario.name}: ${size} bytes is more than ${maxBytes}`)
  const report = await replayNodeTraceFile(file)
  if (!report.ok) throw new Error(`${scenario.name}: the fresh recording does not replay: ${JSON.stringify(report.divergence)}`)
  console.log(`${file}: ${size} bytes, ${report.inputs} inputs, ${report.outputs} outputs, ${report.deliveries} deliveries`)
  for (const line of log) console.log(`  ${line}`)
}

async function main (): Promise<void> {
  await mkdir(OUT, { recursive: true })
  const net = await createTestnet({ nodes: 5, seed: SEED, settleTimeoutMs: 20_000 })
  try {
    for (const [i, scenario] of scenarios.entries()) await record(scenario, net, i)
  } finally {
    await net.stop()
  }
}

main().then(() => { process.exit(0) }, (err: unknown) => {
  console.error(err)
  process.exit(1)
})
