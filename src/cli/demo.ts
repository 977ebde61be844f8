/**
 * `swarmbus demo`: a local testnet of real libp2p nodes on loopback, and real
 * work across them through the bus, each step timed and checked. Exits 1 when
 * any check fails.
 */
import { createHash, randomBytes } from 'node:crypto'
import { open } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { base58btc } from 'multiformats/bases/base58'
import { choiceFlag, intFlag, parse, UsageError } from './args.js'
import { errorLine, fmtMs, round, shortId } from './format.js'
import { CheckFailed, check, failureOf, plural, render, STEP_TIMEOUT_MS } from './demo-report.js'
import type { DemoHost, DemoReport, DemoStep, Outcome } from './demo-report.js'
import { demoIpns } from './demo-ipns.js'
import { demoClosestPeers, demoFindPeer, demoProvideFind, demoPutGet } from './demo-dht.js'

export { render } from './demo-report.js'
export type { DemoReport, DemoStep } from './demo-report.js'
import type * as Library from '../index.js'
import type { CommandCounters, SwarmNode, SwarmStatusReply, Testnet } from '../index.js'

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
const DEADLINE_MS = 200
/** kad-dht's k: closestPeers returns at most this many */
const K = 20

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

class Demo implements DemoHost {
  private readonly lib: Lib
  private readonly opts: { n: number, transport: 'tcp' | 'memory', seed: number | undefined, trace: string | undefined }
  private net: Testnet | undefined
  private traced: SwarmNode | undefined
  nodes: SwarmNode[] = []
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

  label (node: SwarmNode): string {
    return `n${this.nodes.indexOf(node) + 1}`
  }

  node (i: number): SwarmNode {
    return this.nodes[i % this.nodes.length] as SwarmNode
  }

  /** Runs one step: times it, and records a failed check or a thrown error as a failed step. */
  async step (step: string, fn: (note: (what: string) => void) => Promise<Outcome>): Promise<void> {
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

    await demoPutGet(this, tag)
    await demoProvideFind(this, rnd)
    await demoFindPeer(this)
    await demoClosestPeers(this, tag)
    await demoIpns(this, rnd)
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

