/**
 * `swarmbus demo`: a local testnet of real libp2p nodes on loopback, and real
 * work across them through the bus, each step timed and checked. Exits 1 when
 * any check fails.
 */
import { createHash, randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { CID } from 'multiformats/cid'
import { base58btc } from 'multiformats/bases/base58'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { choiceFlag, intFlag, parse, UsageError } from './args.js'
import { errorLine, fmtMs, round, shortId, table } from './format.js'
import { LifecycleRecorder, compactLifecycle } from './name-lifecycle.js'
import type { LifecycleState } from './name-lifecycle.js'
import type * as Library from '../index.js'
import type { CommandCounters, PeerInfo, PublishReply, ResolveReply, SwarmNode, SwarmStatusReply, Testnet } from '../index.js'

/** the library, loaded once the arguments are good (help and usage errors answer without libp2p) */
export type Lib = typeof Library

export const summary = 'start a local testnet and exercise the DHT across its nodes'

export const help = `Usage: swarmbus demo [options]

Starts a testnet of real libp2p nodes on loopback, then does real work across
them through the command bus: put/get of a /swarmbus/… record, provide and
findProviders, findPeer, closestPeers, an IPNS name published on n1 and
resolved on every other node (over the DHT, from the cache, and again after a
republish with the next sequence, each shown with its lifecycle), 10,000
system.ping round trips, a typed InvalidCommandError and NotFoundError, an ask
whose 200 ms deadline expires (a dial of a silent peer), and a status summary.
Every step is timed and checked; the exit code is 1 when any check fails.

Options:
  --nodes N            testnet size, 2 to 200 (default 12)
  --transport T        tcp (default) or memory
  --seed N             stable peer ids and demo keys (node i gets seed N + i)
  --trace FILE         record node n1's trace (JSONL) to FILE; replay it with
                       'swarmbus replay FILE'
  --json               print one JSON object instead of the table
  -h, --help           show this help
`

const PINGS = 10_000
/** serial cached resolves timed on one node */
const CACHED_RESOLVES = 1_000
/** nodes that resolve the demo's IPNS name, one after another (spread over the testnet) */
const RESOLVERS = 11
const DEADLINE_MS = 200
/** every ask of the demo names its deadline; none may hang the demo */
const STEP_TIMEOUT_MS = 15_000
/** kad-dht's k: closestPeers returns at most this many */
const K = 20

export interface DemoStep {
  step: string
  what: string
  ok: boolean
  result: 'ok' | 'FAIL'
  /** what failed */
  error?: string
  ms: number
  data?: unknown
}

interface Outcome { what: string, data?: unknown }

class CheckFailed extends Error {
  override readonly name = 'CheckFailed'
}

function check (cond: boolean, message: string): asserts cond {
  if (!cond) throw new CheckFailed(message)
}

/** The error an ask that must fail failed with (a reply is a failed check). */
async function failureOf (ask: () => Promise<unknown>): Promise<Error> {
  let reply: unknown
  try {
    reply = await ask()
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
  throw new CheckFailed(`expected a failure, got a reply: ${JSON.stringify(reply)?.slice(0, 80) ?? ''}`)
}

/** `lib` is the library (tests pass a stand-in); loaded once the arguments are good. */
export async function run (argv: string[], library?: Lib): Promise<number> {
  const { values } = parse('demo', argv, {
    nodes: { type: 'string' },
    transport: { type: 'string' },
    seed: { type: 'string' },
    trace: { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const n = intFlag('demo', values, 'nodes', 12, 2, 200)
  const transport = choiceFlag('demo', values, 'transport', ['tcp', 'memory'] as const, 'tcp')
  const seed = intFlag('demo', values, 'seed', undefined, 0, 2 ** 31 - 1)
  const trace = typeof values.trace === 'string' ? values.trace : undefined
  const json = values.json === true
  if (trace !== undefined) {
    // createNode opens the trace file only once the node is up; find out now
    try {
      await (await open(trace, 'w')).close()
    } catch (err) {
      throw new UsageError('demo', `cannot write the trace file: ${errorLine(err)}`)
    }
  }

  const lib: Lib = library ?? await import('../index.js')
  const demo = new Demo(lib, { n, transport, seed, trace })
  const stopOnSignal = (): void => {
    process.stderr.write('swarmbus demo: interrupted, stopping the testnet…\n')
    void demo.stop().finally(() => { process.exit(130) })
  }
  process.once('SIGINT', stopOnSignal)
  process.once('SIGTERM', stopOnSignal)
  let report: DemoReport
  try {
    report = await demo.run()
  } catch (err) {
    // setup failed: nothing to show but the error
    await demo.stop()
    if (json) process.stdout.write(JSON.stringify({ ok: false, error: errorLine(err) }) + '\n')
    process.stderr.write(`swarmbus demo: ${errorLine(err)}\n`)
    return 1
  } finally {
    process.off('SIGINT', stopOnSignal)
    process.off('SIGTERM', stopOnSignal)
  }
  process.stdout.write(json ? JSON.stringify(lib.toJson(report)) + '\n' : render(report))
  return report.ok ? 0 : 1
}

export interface DemoReport {
  ok: boolean
  nodes: number
  transport: 'tcp' | 'memory'
  seed?: number
  setupMs: number
  mesh: Testnet['report']
  peers: Array<{ node: string, peerId: string, multiaddrs: string[] }>
  steps: DemoStep[]
  /** commands served/failed by type, summed over every node */
  commands: Record<string, { served: number, failed: number, meanMs: number, maxMs: number }>
  deadLetters: { total: number, byReason: Record<string, number> }
  trace?: string
  stopMs: number
  totalMs: number
}

class Demo {
  private readonly lib: Lib
  private readonly opts: { n: number, transport: 'tcp' | 'memory', seed: number | undefined, trace: string | undefined }
  private net: Testnet | undefined
  private traced: SwarmNode | undefined
  private nodes: SwarmNode[] = []
  private readonly steps: DemoStep[] = []
  private stopping: Promise<number> | undefined
  /** demo-side resources (the silent peer) to release after the nodes stop */
  private readonly cleanups: Array<() => Promise<void>> = []

  constructor (lib: Lib, opts: Demo['opts']) {
    this.lib = lib
    this.opts = opts
  }

  /** Stops every node (once); resolves with how long it took. */
  async stop (): Promise<number> {
    this.stopping ??= (async () => {
      const t = performance.now()
      await Promise.allSettled([this.traced?.stop(), this.net?.stop()])
      await Promise.allSettled(this.cleanups.splice(0).map(async fn => { await fn() }))
      return performance.now() - t
    })()
    return await this.stopping
  }

  private label (node: SwarmNode): string {
    return `n${this.nodes.indexOf(node) + 1}`
  }

  private node (i: number): SwarmNode {
    return this.nodes[i % this.nodes.length] as SwarmNode
  }

  /** Runs one step: times it, and records a failed check or a thrown error as a failed step. */
  private async step (step: string, fn: (note: (what: string) => void) => Promise<Outcome>): Promise<void> {
    let what = ''
    const t = performance.now()
    try {
      const out = await fn(w => { what = w })
      const ms = performance.now() - t
      this.steps.push({ step, what: out.what, ok: true, result: 'ok', ms: round(ms), ...(out.data !== undefined ? { data: out.data } : {}) })
    } catch (err) {
      const ms = performance.now() - t
      const error = err instanceof CheckFailed ? err.message : errorLine(err)
      this.steps.push({ step, what, ok: false, result: 'FAIL', error, ms: round(ms) })
    }
  }

  async run (): Promise<DemoReport> {
    const { n, transport, seed, trace } = this.opts
    const t0 = performance.now()
    const rnd = seed !== undefined ? createHash('sha256').update(`swarmbus demo ${seed}`).digest() : randomBytes(32)
    const tag = rnd.subarray(0, 6).toString('hex')

    // With --trace, n1 is made here (createTestnet gives every node the same
    // options) and joins the others through swarm.bootstrap.
    const testnetSize = trace !== undefined ? n - 1 : n
    this.net = await this.lib.createTestnet({
      nodes: testnetSize,
      transport,
      // a mesh short of its target is reported by the mesh step; the demo goes on
      settleTimeoutMs: 20_000,
      ...(seed !== undefined ? { seed: seed + (trace !== undefined ? 1 : 0) } : {})
    })
    if (trace !== undefined) {
      const bootstrap = this.net.nodes.slice(0, K).flatMap(node => node.multiaddrs.slice(0, 1))
      this.traced = await this.lib.createNode({ transport, loopback: true, trace, bootstrap, ...(seed !== undefined ? { seed } : {}) })
      this.nodes = [this.traced, ...this.net.nodes]
      await this.untilRoutingTable(this.traced, Math.min(n - 1, K), 10_000)
    } else {
      this.nodes = [...this.net.nodes]
    }
    const setupMs = performance.now() - t0
    const mesh = this.net.report

    await this.step('mesh', async () => {
      const sizes = await Promise.all(this.nodes.map(async node => (await node.ask({ type: 'swarm.status' }, { timeoutMs: STEP_TIMEOUT_MS })).routingTableSize))
      const target = Math.min(n - 1, K)
      const what = `${n} nodes, routing tables ${Math.min(...sizes)}–${Math.max(...sizes)} (target ${target}), ${plural(mesh.dials, 'dial')}` +
        (mesh.failedDials > 0 ? ` (${mesh.failedDials} failed)` : '')
      check(sizes.every(s => s >= target), `${sizes.filter(s => s < target).length} nodes have fewer than ${target} peers (${what})`)
      return { what, data: { routingTableSizes: sizes, target } }
    })

    await this.putGet(tag)
    await this.provideFind(rnd)
    await this.findPeer()
    await this.closestPeers(tag)
    await this.ipns(rnd)
    await this.pings()
    await this.invalid()
    await this.missing(tag)
    await this.deadline(tag)
    const summary = await this.status()

    const peers = this.nodes.map(node => ({ node: this.label(node), peerId: node.peerId, multiaddrs: node.multiaddrs }))
    const stopMs = await this.stop()
    const report: DemoReport = {
      ok: this.steps.every(s => s.ok),
      nodes: n,
      transport,
      ...(seed !== undefined ? { seed } : {}),
      setupMs: round(setupMs),
      mesh: { ...mesh, elapsedMs: round(mesh.elapsedMs) },
      peers,
      steps: this.steps,
      commands: summary.commands,
      deadLetters: summary.deadLetters,
      ...(trace !== undefined ? { trace } : {}),
      stopMs: round(stopMs),
      totalMs: round(performance.now() - t0)
    }
    return report
  }

  private async untilRoutingTable (node: SwarmNode, target: number, withinMs: number): Promise<void> {
    const until = performance.now() + withinMs
    while (performance.now() < until) {
      const status = await node.ask({ type: 'swarm.status' }, { timeoutMs: STEP_TIMEOUT_MS })
      if (status.routingTableSize >= target) return
      await new Promise(resolve => { setTimeout(resolve, 25) })
    }
    // the mesh step reports the shortfall
  }

  private async putGet (tag: string): Promise<void> {
    const a = this.node(0)
    const b = this.node(1)
    const key = `/swarmbus/demo/${tag}`
    const value = new TextEncoder().encode(`hello from ${this.label(a)} (${tag})`)
    let stored = false
    await this.step('dht.put', async note => {
      note(`${this.label(a)} put ${key} (${value.byteLength} B)`)
      const { peers } = await a.ask({ type: 'dht.put', key, value }, { timeoutMs: STEP_TIMEOUT_MS })
      check(peers > 0, 'no peer accepted the record')
      stored = true
      return { what: `${this.label(a)} put ${key} (${value.byteLength} B) → stored on ${plural(peers, 'peer')}`, data: { node: this.label(a), key, value, peers } }
    })
    await this.step('dht.get', async note => {
      note(`${this.label(b)} get ${key}`)
      check(stored, 'skipped: the put failed')
      const got = await b.ask({ type: 'dht.get', key }, { timeoutMs: STEP_TIMEOUT_MS })
      const from = this.nodes.find(x => x.peerId === got.from)
      const source = from === b ? 'its own store (the put replicated it there)' : from !== undefined ? this.label(from) : shortId(got.from)
      const what = `${this.label(b)} got ${got.value.byteLength} B from ${source}`
      note(what)
      check(Buffer.from(got.value).equals(Buffer.from(value)), `the value got differs from the value put ('${Buffer.from(got.value).toString('utf8').slice(0, 40)}')`)
      return { what: `${what}: equals the value put`, data: { node: this.label(b), key, value: got.value, from: got.from } }
    })
  }

  private async provideFind (rnd: Buffer): Promise<void> {
    const c = this.node(2)
    const d = this.node(3)
    const cid = CID.createV1(raw.code, await sha256.digest(rnd)).toString()
    let provided = false
    await this.step('dht.provide', async note => {
      note(`${this.label(c)} provide ${cid.slice(0, 16)}…`)
      const { peers } = await c.ask({ type: 'dht.provide', cid }, { timeoutMs: STEP_TIMEOUT_MS })
      check(peers > 0, 'no peer took the provider record')
      provided = true
      return { what: `${this.label(c)} provides ${cid.slice(0, 16)}… → told ${plural(peers, 'peer')}`, data: { node: this.label(c), cid, peers } }
    })
    await this.step('dht.findProviders', async note => {
      note(`${this.label(d)} findProviders ${cid.slice(0, 16)}… (stream, limit 1)`)
      check(provided, 'skipped: the provide failed')
      const found: PeerInfo[] = []
      for await (const p of d.stream({ type: 'dht.findProviders', cid, limit: 1 }, { timeoutMs: STEP_TIMEOUT_MS })) found.push(p)
      const first = found[0]
      check(first !== undefined, 'the stream ended without a provider')
      check(first.peerId === c.peerId, `found ${shortId(first.peerId)}, not the providing node ${this.label(c)} (${shortId(c.peerId)})`)
      return {
        what: `${this.label(d)} found provider ${this.label(c)} (${shortId(first.peerId)}) at ${first.multiaddrs[0] ?? 'no address'}`,
        data: { node: this.label(d), cid, providers: found }
      }
    })
  }

  private async findPeer (): Promise<void> {
    const e = this.node(4)
    const target = this.node(5)
    await this.step('dht.findPeer', async note => {
      note(`${this.label(e)} findPeer ${this.label(target)}`)
      const info = await e.ask({ type: 'dht.findPeer', peerId: target.peerId }, { timeoutMs: STEP_TIMEOUT_MS })
      check(info.peerId === target.peerId, `answered for ${shortId(info.peerId)}`)
      const listen = target.multiaddrs.map(a => a.replace(/\/p2p\/[^/]+$/, ''))
      const known = info.multiaddrs.filter(a => listen.includes(a))
      check(known.length > 0, `none of the addresses found (${info.multiaddrs.join(', ') || 'none'}) is one ${this.label(target)} listens on`)
      return { what: `${this.label(e)} found ${this.label(target)} (${shortId(target.peerId)}) at ${known[0] ?? ''}`, data: { node: this.label(e), peer: info } }
    })
  }

  private async closestPeers (tag: string): Promise<void> {
    const g = this.node(6)
    const key = `/swarmbus/demo/closest/${tag}`
    await this.step('dht.closestPeers', async note => {
      note(`${this.label(g)} closestPeers ${key} (stream)`)
      const found: PeerInfo[] = []
      for await (const p of g.stream({ type: 'dht.closestPeers', key }, { timeoutMs: STEP_TIMEOUT_MS })) found.push(p)
      const ids = found.map(p => p.peerId)
      check(ids.length > 0, 'the stream ended without a peer')
      check(new Set(ids).size === ids.length, 'a peer came twice')
      const strangers = ids.filter(id => !this.nodes.some(x => x.peerId === id))
      check(strangers.length === 0, `${strangers.length} peers are not testnet nodes`)
      // the true k closest by XOR distance between sha256 ids (kad-dht's keyspace)
      const target = createHash('sha256').update(key).digest()
      const others = this.nodes.filter(x => x !== g).map(x => ({ node: x, d: xor(target, kadId(x.peerId)) }))
      others.sort((x, y) => Buffer.compare(x.d, y.d))
      const expected = others.slice(0, K).map(x => x.node.peerId)
      const nearest = others[0]?.node
      const overlap = expected.filter(id => ids.includes(id)).length
      check(nearest !== undefined && ids.includes(nearest.peerId), `the nearest node ${nearest !== undefined ? this.label(nearest) : ''} is missing`)
      return {
        what: `${this.label(g)} got ${plural(ids.length, 'peer')}; ${overlap}/${expected.length} of the true ${Math.min(K, others.length)} closest by XOR, nearest ${this.label(nearest)}`,
        data: { node: this.label(g), key, peers: ids, expected, overlap }
      }
    })
  }

  /**
   * IPNS across the testnet: n1 publishes a name, every other node resolves
   * it (over the DHT, then from its cache), n1 publishes again (the next
   * sequence) and every other node resolves with nocache. The lifecycle of
   * the publishes and of n2's resolves is shown as the machine went through
   * it, from the ipns:* progress events.
   */
  private async ipns (rnd: Buffer): Promise<void> {
    const a = this.node(0)
    const rest = this.nodes.filter(x => x !== a)
    // one after another, so each time is one resolve's, not a share of the host
    const others = rest.length <= RESOLVERS ? rest : Array.from({ length: RESOLVERS }, (_, i) => rest[Math.floor(i * rest.length / RESOLVERS)] as SwarmNode)
    const watched = others[0] as SwarmNode
    const cid = CID.createV1(raw.code, await sha256.digest(createHash('sha256').update(rnd).update('ipns').digest())).toString()
    const first = `/ipfs/${cid}`
    const second = `/ipfs/${cid}/v2`
    let published: PublishReply | undefined
    let republished: PublishReply | undefined

    const publish = async (step: string, value: string, note: (w: string) => void): Promise<Outcome & { reply: PublishReply }> => {
      note(`${this.label(a)} ipns.publish ${value}`)
      const recorder = new LifecycleRecorder(a, 'publish')
      let reply: PublishReply
      try {
        reply = await a.ask({ type: 'ipns.publish', value }, { timeoutMs: STEP_TIMEOUT_MS })
      } finally {
        recorder.stop()
      }
      const lifecycle = recorder.lifecycle()
      check(reply.value === value, `${step}: published ${reply.value}, not ${value}`)
      check(reply.peers > 0, 'no DHT peer took the record')
      return {
        reply,
        what: `${this.label(a)} published /ipns/${shortName(reply.name)} → ${shortPath(value)}, sequence ${reply.sequence}, stored on ${plural(reply.peers, 'peer')}: ${compactLifecycle(lifecycle)}`,
        data: { node: this.label(a), name: reply.name, value, sequence: reply.sequence, peers: reply.peers, lifecycle: lifecycleData(lifecycle) }
      }
    }

    /** the resolving nodes, one after another; the first one's lifecycle is recorded */
    const resolveAll = async (nocache: boolean): Promise<{ replies: ResolveReply[], ms: number[], lifecycle: LifecycleState[] }> => {
      const name = published?.name ?? ''
      const recorder = new LifecycleRecorder(watched, 'resolve')
      const replies: ResolveReply[] = []
      const ms: number[] = []
      try {
        for (const node of others) {
          const t = performance.now()
          replies.push(await node.ask({ type: 'ipns.resolve', name, ...(nocache ? { nocache } : {}) }, { timeoutMs: STEP_TIMEOUT_MS }))
          ms.push(performance.now() - t)
        }
        return { replies, ms, lifecycle: recorder.lifecycle() }
      } finally {
        recorder.stop()
      }
    }

    const same = (replies: ResolveReply[], value: string, sequence: bigint, what: string): void => {
      replies.forEach((r, i) => {
        const who = this.label(others[i] as SwarmNode)
        check(r.value === value, `${who} resolved ${shortPath(r.value)}, not the published ${shortPath(value)} (${what})`)
        check(r.sequence === sequence, `${who} resolved sequence ${r.sequence}, not ${sequence} (${what})`)
      })
    }

    await this.step('ipns.publish', async note => {
      const out = await publish('ipns.publish', first, note)
      published = out.reply
      return out
    })

    await this.step('ipns.resolve', async note => {
      check(published !== undefined, 'skipped: the publish failed')
      note(`${plural(others.length, 'node')} ipns.resolve /ipns/${shortName(published.name)} (uncached)`)
      const { replies, ms, lifecycle } = await resolveAll(false)
      same(replies, first, published.sequence, 'uncached')
      const notDht = replies.filter(r => r.source !== 'dht').length
      check(notDht === 0, `${notDht} nodes answered from '${replies.find(r => r.source !== 'dht')?.source ?? ''}', not the DHT`)
      return {
        what: `${plural(others.length, 'node')}, one after another, resolved it over the DHT: all ${shortPath(first)}, sequence ${published.sequence}; ` +
          `p50 ${fmtMs(median(ms))} ms, max ${fmtMs(Math.max(...ms))} ms; ${this.label(watched)}: ${compactLifecycle(lifecycle)}`,
        data: { name: published.name, value: first, sequence: published.sequence, resolves: replies.length, p50Ms: round(median(ms)), maxMs: round(Math.max(...ms)), lifecycle: lifecycleData(lifecycle) }
      }
    })

    await this.step('ipns.resolve cached', async note => {
      check(published !== undefined, 'skipped: the publish failed')
      const name = published.name
      note(`${plural(others.length, 'node')} ipns.resolve again`)
      const { replies, lifecycle } = await resolveAll(false)
      same(replies, first, published.sequence, 'cached')
      const uncached = replies.filter(r => r.source !== 'cache').length
      check(uncached === 0, `${uncached} nodes did not answer from their cache`)
      note(`${this.label(watched)} ${CACHED_RESOLVES.toLocaleString('en-US')} serial cached resolves`)
      const t = performance.now()
      for (let i = 0; i < CACHED_RESOLVES; i++) {
        const r = await watched.ask({ type: 'ipns.resolve', name }, { timeoutMs: STEP_TIMEOUT_MS })
        if (r.source !== 'cache' || r.value !== first) check(false, `cached resolve ${i + 1} answered ${r.value} from the ${r.source}`)
      }
      const perUs = (performance.now() - t) * 1000 / CACHED_RESOLVES
      return {
        what: `${plural(others.length, 'node')} answered from their cache: all ${shortPath(first)}; ${this.label(watched)}: ` +
          `${cachedLifecycle(lifecycle)}; ` +
          `${CACHED_RESOLVES.toLocaleString('en-US')} serial cached resolves, ${perUs.toFixed(1)} µs each`,
        data: { name, resolves: replies.length, cachedResolves: CACHED_RESOLVES, meanUs: round(perUs), lifecycle: lifecycleData(lifecycle) }
      }
    })

    await this.step('ipns.publish again', async note => {
      check(published !== undefined, 'skipped: the first publish failed')
      const out = await publish('ipns.publish again', second, note)
      republished = out.reply
      check(out.reply.name === published.name, `published under ${out.reply.name}, not ${published.name}`)
      check(out.reply.sequence === published.sequence + 1n, `sequence ${out.reply.sequence} after ${published.sequence}: not the next one`)
      return out
    })

    await this.step('ipns.resolve nocache', async note => {
      check(published !== undefined && republished !== undefined, 'skipped: a publish failed')
      // the caches still hold the first record: fresh until received + TTL (5 min)
      note(`${this.label(watched)} ipns.resolve (cached)`)
      const cached = await watched.ask({ type: 'ipns.resolve', name: published.name }, { timeoutMs: STEP_TIMEOUT_MS })
      check(cached.source === 'cache' && cached.sequence === published.sequence,
        `${this.label(watched)}'s cache answered sequence ${cached.sequence} from the ${cached.source}, not ${published.sequence} from the cache`)
      note(`${plural(others.length, 'node')} ipns.resolve with nocache`)
      const { replies, ms, lifecycle } = await resolveAll(true)
      same(replies, second, republished.sequence, 'nocache, after the republish')
      return {
        what: `${plural(others.length, 'node')} skipped their cache (still sequence ${published.sequence} until received + TTL) and got ${shortPath(second)}, ` +
          `sequence ${republished.sequence}; p50 ${fmtMs(median(ms))} ms, max ${fmtMs(Math.max(...ms))} ms; ${this.label(watched)}: ${compactLifecycle(lifecycle)}`,
        data: { name: republished.name, value: second, sequence: republished.sequence, resolves: replies.length, p50Ms: round(median(ms)), maxMs: round(Math.max(...ms)), lifecycle: lifecycleData(lifecycle) }
      }
    })
  }

  private async pings (): Promise<void> {
    const a = this.node(0)
    await this.step('system.ping', async note => {
      note(`${this.label(a)} ${PINGS.toLocaleString('en-US')} serial asks`)
      const t = performance.now()
      let replies = 0
      for (let i = 0; i < PINGS; i++) {
        const r = await a.ask({ type: 'system.ping' }, { timeoutMs: STEP_TIMEOUT_MS })
        if (typeof r === 'object' && r !== null) replies++
      }
      const ms = performance.now() - t
      check(replies === PINGS, `${PINGS - replies} pings got no reply`)
      const rate = PINGS / (ms / 1000)
      return {
        what: `${this.label(a)} ${PINGS.toLocaleString('en-US')} serial asks: ${Math.round(rate).toLocaleString('en-US')} asks/s, ${(ms * 1000 / PINGS).toFixed(1)} µs per round trip`,
        data: { node: this.label(a), asks: PINGS, asksPerSecond: Math.round(rate), meanUs: round(ms * 1000 / PINGS, 2) }
      }
    })
  }

  private async invalid (): Promise<void> {
    const a = this.node(0)
    await this.step('invalid command', async note => {
      note(`${this.label(a)} dht.put with an empty key`)
      const e = await failureOf(async () => await a.ask({ type: 'dht.put', key: '', value: new Uint8Array(1) }, { timeoutMs: STEP_TIMEOUT_MS })) as Error & { field?: string }
      check(e.name === 'InvalidCommandError' && e.field === 'key', `expected InvalidCommandError on field key, got ${errorLine(e)}`)
      return { what: `${this.label(a)} dht.put with an empty key → ${errorLine(e)}, before the network`, data: { error: { name: e.name, message: e.message, field: e.field } } }
    })
  }

  private async missing (tag: string): Promise<void> {
    const h = this.node(7)
    const key = `/swarmbus/demo/nobody-has/${tag}`
    await this.step('dht.get missing', async note => {
      note(`${this.label(h)} dht.get of a key nobody put`)
      const error = await failureOf(async () => await h.ask({ type: 'dht.get', key }, { timeoutMs: STEP_TIMEOUT_MS }))
      check(error.name === 'NotFoundError', `expected NotFoundError, got ${errorLine(error)}`)
      return { what: `${this.label(h)} dht.get of a key nobody put → ${errorLine(error)}`, data: { node: this.label(h), key, error: { name: error.name, message: error.message } } }
    })
  }

  /**
   * An ask whose deadline passes: on TCP a dial of a silent peer (a listener
   * that accepts and never answers, so the dial cannot complete); on the
   * memory transport a dht.get of a key nobody has (which may also end first
   * with NotFoundError). Either way the swarm actor must let go of the query
   * at once and the libp2p operation must stop.
   */
  private async deadline (tag: string): Promise<void> {
    const a = this.node(0)
    const silent = this.opts.transport === 'tcp' ? await this.silentPeer(tag) : undefined
    await this.step(`deadline ${DEADLINE_MS} ms`, async note => {
      const op = silent !== undefined ? `swarm.dial of a silent peer (TCP accepts, never answers)` : 'dht.get of a key nobody has'
      note(`${this.label(a)} ${op}, ${DEADLINE_MS} ms deadline`)
      const t = performance.now()
      const error = await failureOf(async () => silent !== undefined
        ? await a.ask({ type: 'swarm.dial', multiaddr: silent }, { timeoutMs: DEADLINE_MS })
        : await a.ask({ type: 'dht.get', key: `/swarmbus/demo/nobody-has/${tag}/deadline` }, { timeoutMs: DEADLINE_MS }))
      const askMs = performance.now() - t
      const expected = silent !== undefined ? ['TimeoutError'] : ['TimeoutError', 'NotFoundError']
      check(expected.includes(error.name), `expected ${expected.join(' or ')}, got ${errorLine(error)}`)
      const head = `${this.label(a)} ${op} → ${error.name} after ${fmtMs(askMs)} ms`
      note(head)
      // the port is settled; the swarm actor must have let go of the query,
      // and the libp2p operation must end (the abort reaches it)
      const after = await a.ask({ type: 'swarm.status' }, { timeoutMs: STEP_TIMEOUT_MS })
      check(after.pendingQueries === 0, `swarm.status reports ${after.pendingQueries} pending queries afterwards`)
      let running = after.runningQueries
      const t2 = performance.now()
      while (running > 0 && performance.now() - t2 < 5_000) {
        await new Promise(resolve => { setTimeout(resolve, 10) })
        running = (await a.ask({ type: 'swarm.status' }, { timeoutMs: STEP_TIMEOUT_MS })).runningQueries
      }
      const stoppedMs = performance.now() - t2
      check(running === 0, `the libp2p operation still runs ${fmtMs(stoppedMs)} ms after the deadline`)
      return {
        what: `${head}; then swarm.status: 0 pending, the libp2p operation ended ${running === after.runningQueries ? 'already' : `${fmtMs(stoppedMs)} ms later`}`,
        data: { node: this.label(a), operation: silent !== undefined ? 'swarm.dial' : 'dht.get', error: { name: error.name, message: error.message }, askMs: round(askMs), pendingQueries: after.pendingQueries, runningQueries: running }
      }
    })
  }

  /** A TCP listener on loopback that accepts connections and never says a word; its multiaddr with a made-up peer id. */
  private async silentPeer (tag: string): Promise<string> {
    const sockets = new Set<Socket>()
    const server = createServer(socket => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => { sockets.delete(socket) })
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve() })
    })
    this.cleanups.push(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    })
    const { port } = server.address() as AddressInfo
    // an Ed25519 peer id (identity multihash of the protobuf public key) that no node has
    const key = createHash('sha256').update(`swarmbus demo silent peer ${tag}`).digest()
    const peerId = base58btc.baseEncode(Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...key]))
    return `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
  }

  private async status (): Promise<{ commands: DemoReport['commands'], deadLetters: DemoReport['deadLetters'] }> {
    const commands: Record<string, CommandCounters & { totalMs: number }> = {}
    const deadLetters = { total: 0, byReason: {} as Record<string, number> }
    await this.step('swarm.status', async note => {
      note(`swarm.status of all ${this.nodes.length} nodes`)
      const all: SwarmStatusReply[] = await Promise.all(this.nodes.map(async node => await node.ask({ type: 'swarm.status' }, { timeoutMs: STEP_TIMEOUT_MS })))
      let served = 0
      let failed = 0
      for (const s of all) {
        for (const actor of s.actors) {
          for (const [type, c] of Object.entries(actor.commands)) {
            const sum = commands[type] ??= { served: 0, failed: 0, meanMs: 0, maxMs: 0, totalMs: 0 }
            sum.served += c.served
            sum.failed += c.failed
            sum.totalMs += c.meanMs * (c.served + c.failed)
            sum.maxMs = Math.max(sum.maxMs, c.maxMs)
            served += c.served
            failed += c.failed
          }
        }
        deadLetters.total += s.deadLetters.total
        for (const [reason, k] of Object.entries(s.deadLetters.byReason)) deadLetters.byReason[reason] = (deadLetters.byReason[reason] ?? 0) + k
      }
      const sizes = all.map(s => s.routingTableSize)
      const connections = all.reduce((x, s) => x + s.connections, 0)
      const notRunning = all.flatMap(s => s.actors.filter(a => a.state !== 'running').map(a => `${shortId(s.peerId)}/${a.name} ${a.state}`))
      const restarts = all.reduce((x, s) => x + s.actors.reduce((y, a) => y + a.restarts, 0), 0)
      const pending = all.reduce((x, s) => x + s.pendingQueries, 0)
      check(notRunning.length === 0, `actors not running: ${notRunning.join(', ')}`)
      check(restarts === 0, `${restarts} actor restarts`)
      return {
        what: `routing tables ${Math.min(...sizes)}–${Math.max(...sizes)}, ${connections} connections, ` +
          `${served.toLocaleString('en-US')} commands served, ${failed} failed, ${deadLetters.total} dead letters, ${pending} pending`,
        data: { routingTableSizes: sizes, connections, served, failed, restarts, pendingQueries: pending, deadLetters }
      }
    })
    const out: DemoReport['commands'] = {}
    for (const [type, c] of Object.entries(commands).sort(([x], [y]) => x.localeCompare(y))) {
      const count = c.served + c.failed
      out[type] = { served: c.served, failed: c.failed, meanMs: round(count > 0 ? c.totalMs / count : 0, 3), maxMs: round(c.maxMs, 3) }
    }
    return { commands: out, deadLetters }
  }
}

function plural (n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
}

/** k51qzi…abcd */
function shortName (name: string): string {
  return name.length <= 16 ? name : `${name.slice(0, 8)}…${name.slice(-4)}`
}

/** /ipfs/bafkrei…wxyz/v2 */
function shortPath (path: string): string {
  return path.replace(/^\/(ipfs|ipns)\/([^/]{20,})/, (_m, ns: string, root: string) => `/${ns}/${root.slice(0, 10)}…${root.slice(-4)}`)
}

function median (xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** A cache hit's lifecycle: the machine straight to done, or no machine at all. */
function cachedLifecycle (states: LifecycleState[]): string {
  if (states.length === 0) return 'no machine ran (the whole answer was cached)'
  if (states.length === 1 && states[0]?.state === 'done') return 'done (a cache hit passes lookup and hopResolved in one step)'
  return compactLifecycle(states)
}

function lifecycleData (states: LifecycleState[]): Array<{ state: string, ms?: number, events: Record<string, number> }> {
  return states.map(x => ({ state: x.state, ...(x.ms !== undefined ? { ms: round(x.ms, 3) } : {}), events: x.events }))
}

/** kad-dht's keyspace id of a peer: sha256 of its multihash (the bytes a base58btc peer id spells). */
function kadId (peerId: string): Buffer {
  return createHash('sha256').update(base58btc.baseDecode(peerId)).digest()
}

function xor (a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number)
  return out
}

export function render (r: DemoReport): string {
  const lines: string[] = []
  const meshStep = r.steps.find(s => s.step === 'mesh')?.data as { routingTableSizes?: number[] } | undefined
  const sizes = meshStep?.routingTableSizes ?? r.mesh.routingTableSizes
  const how = r.trace !== undefined ? `testnet of ${r.nodes - 1} + n1 (traced) joined by swarm.bootstrap` : `mesh ${r.mesh.settled ? 'settled' : 'NOT settled'}, ${r.mesh.dials} dials`
  lines.push(`swarmbus demo: ${r.nodes} nodes on ${r.transport === 'tcp' ? 'TCP' : 'in-memory'} loopback, ready in ${(r.setupMs / 1000).toFixed(1)} s` +
    ` (${how}, routing tables ${Math.min(...sizes)}–${Math.max(...sizes)})`)
  const shown = r.peers.length <= 4 ? r.peers : [...r.peers.slice(0, 3), undefined, r.peers.at(-1)]
  lines.push(shown.map(p => p === undefined ? '…' : `${p.node} ${shortId(p.peerId)}`).join(', '))
  lines.push('')
  // wrap 'what happened' to the terminal (the other columns take ~36)
  const columns = process.stdout.isTTY ? process.stdout.columns : 120
  lines.push(table(
    [{ title: 'step' }, { title: 'what happened', wrap: Math.max(40, Math.min(90, columns - 36)) }, { title: 'result' }, { title: 'ms', align: 'right' }],
    r.steps.map(s => [s.step, s.what, s.result, fmtMs(s.ms)])
  ))
  const failures = r.steps.filter(s => !s.ok)
  if (failures.length > 0) {
    lines.push('')
    lines.push('failed:')
    for (const s of failures) lines.push(`  ${s.step}: ${s.error ?? 'failed'}`)
  }
  lines.push('')
  lines.push(table(
    [{ title: 'command (all nodes)' }, { title: 'served', align: 'right' }, { title: 'failed', align: 'right' }, { title: 'mean ms', align: 'right' }, { title: 'max ms', align: 'right' }],
    Object.entries(r.commands).map(([type, c]) => [type, String(c.served), String(c.failed), fmtMs(c.meanMs), fmtMs(c.maxMs)])
  ))
  const reasons = Object.entries(r.deadLetters.byReason).map(([k, v]) => `${k} ${v}`).join(', ')
  lines.push('')
  lines.push(`dead letters: ${r.deadLetters.total}${reasons !== '' ? ` (${reasons})` : ''}`)
  if (r.trace !== undefined) lines.push(`trace of n1 (${shortId(r.peers[0]?.peerId ?? '')}) written to ${r.trace}; replay it with: swarmbus replay ${r.trace}`)
  const failed = r.steps.filter(s => !s.ok).length
  lines.push(`${failed === 0 ? 'all' : `${r.steps.length - failed} of`} ${r.steps.length} steps ok; stopped ${r.nodes} nodes in ${fmtMs(r.stopMs)} ms; total ${fmtMs(r.totalMs)} ms`)
  return lines.join('\n') + '\n'
}
