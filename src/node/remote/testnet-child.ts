/**
 * A child process of a multi-process testnet (process-testnet.ts forks it
 * from dist/): it hosts nodes and runs, for the parent, what the parent's
 * node handles ask of them (protocol.ts). It is only a relay: every command
 * goes to the node's own bus, with the deadline the parent gave.
 *
 * It never outlives the parent: when the IPC channel closes (the parent
 * exited or killed the channel) it stops its nodes and exits, and so it does
 * on `exit`; a node stop that hangs does not keep it alive past EXIT_GRACE_MS.
 */
import { createNode } from '../create-node.js'
import { ChildFaults } from '../faults/child-faults.js'
import { errorToFailure } from '../../messages/errors.js'
import { PROGRESS_BUFFER, STREAM_WINDOW } from './protocol.js'
import { processStatsOf } from './process-stats.js'
import type { SwarmNode } from '../create-node.js'
import type { FromChild, ProcessStats, StartSpec, ToChild } from './protocol.js'
import type { AskCommand, StreamCommand } from '../../messages/commands.js'

const EXIT_GRACE_MS = 15_000
/** requests (asks and streams) in flight at once in this child */
const MAX_IN_FLIGHT = 10_000

const nodes = new Map<number, SwarmNode>()
const running = new Map<number, AbortController>()
/** stream id → a wake-up for a stream waiting for credit, and its credit */
const credit = new Map<number, { n: number, wake?: () => void }>()
const watched = new Map<number, { queued: number, dropped: number }>()
let exiting = false
const faults = new ChildFaults()

function send (m: FromChild): void {
  if (process.send === undefined || !process.connected) return
  try {
    process.send(m)
  } catch (err) {
    // a value the channel cannot clone: the request fails instead of hanging
    if ('id' in m && m.t !== 'fail') send({ t: 'fail', id: m.id, failure: errorToFailure(err) })
  }
}

async function start (id: number, specs: StartSpec[]): Promise<void> {
  try {
    const started = await Promise.all(specs.map(async spec => {
      // behind a delay proxy, with the partition gater, when the testnet has faults
      let node: SwarmNode | undefined
      let faulty: Awaited<ReturnType<ChildFaults['prepare']>> | undefined
      for (let attempt = 1; node === undefined; attempt++) {
        faulty = spec.faults === undefined ? undefined : await faults.prepare(spec.index, spec.faults, (spec.seed ?? spec.index) ^ 0xfa17)
        try {
          node = await createNode({
            ...spec.options,
            ...faulty?.options,
            repo: 'memory',
            transport: 'tcp',
            loopback: true,
            bootstrap: spec.bootstrap,
            ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
            ...(spec.trace !== undefined ? { trace: spec.trace } : {})
          })
        } catch (err) {
          await faulty?.failed()
          // the listen port picked for a node behind a proxy was taken meanwhile (by another process): pick another
          if (faulty === undefined || attempt >= 3 || !/EADDRINUSE/.test(String((err as Error).message))) throw err
        }
      }
      nodes.set(spec.index, node)
      await faulty?.started(node)
      return { index: spec.index, peerId: node.peerId, multiaddrs: node.multiaddrs }
    }))
    send({ t: 'started', id, nodes: started })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  }
}

function nodeOf (id: number, index: number): SwarmNode | undefined {
  const node = nodes.get(index)
  if (node === undefined) send({ t: 'fail', id, failure: { kind: 'stopped', message: `testnet node ${index} is not running in this process` } })
  return node
}

function begin (id: number): AbortController | undefined {
  if (running.size >= MAX_IN_FLIGHT) {
    send({ t: 'fail', id, failure: { kind: 'overloaded', message: `a testnet process runs ${MAX_IN_FLIGHT} requests already` } })
    return undefined
  }
  const abort = new AbortController()
  running.set(id, abort)
  return abort
}

async function ask (id: number, index: number, command: AskCommand, timeoutMs: number): Promise<void> {
  const node = nodeOf(id, index)
  const abort = node === undefined ? undefined : begin(id)
  if (node === undefined || abort === undefined) return
  try {
    send({ t: 'reply', id, value: await node.ask(command, { timeoutMs, signal: abort.signal }) })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  } finally {
    running.delete(id)
  }
}

async function stream (id: number, index: number, command: StreamCommand, timeoutMs: number, window: number): Promise<void> {
  const node = nodeOf(id, index)
  const abort = node === undefined ? undefined : begin(id)
  if (node === undefined || abort === undefined) return
  const c: { n: number, wake?: () => void } = { n: window }
  credit.set(id, c)
  try {
    for await (const item of node.stream(command, { timeoutMs, signal: abort.signal })) {
      while (c.n <= 0 && !abort.signal.aborted) await new Promise<void>(resolve => { c.wake = resolve })
      if (abort.signal.aborted) break
      c.n--
      send({ t: 'item', id, value: item })
    }
    if (!abort.signal.aborted) send({ t: 'end', id })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  } finally {
    running.delete(id)
    credit.delete(id)
  }
}

function watch (index: number): void {
  const node = nodes.get(index)
  if (node === undefined || watched.has(index)) return
  const w = { queued: 0, dropped: 0 }
  watched.set(index, w)
  node.on('progress', e => {
    // the channel's own buffer is unbounded: keep at most PROGRESS_BUFFER events
    // of a node waiting for it, and say how many were dropped
    if (w.queued >= PROGRESS_BUFFER) {
      w.dropped++
      return
    }
    w.queued++
    setImmediate(() => {
      w.queued--
      if (w.dropped > 0) {
        send({ t: 'dropped', node: index, count: w.dropped })
        w.dropped = 0
      }
      send({ t: 'progress', node: index, event: { type: e.type, actor: e.actor, ...(e.id !== undefined ? { id: e.id } : {}), ...(e.detail !== undefined ? { detail: e.detail } : {}) } })
    })
  })
}

async function stopNode (id: number, index: number): Promise<void> {
  const node = nodes.get(index)
  nodes.delete(index)
  try {
    await node?.stop()
    await faults.release(index)
    send({ t: 'reply', id, value: null })
  } catch (err) {
    send({ t: 'fail', id, failure: errorToFailure(err) })
  }
}

/** how long one node's swarm.status may take for a stats request */
const STATS_STATUS_TIMEOUT_MS = 5_000

async function stats (id: number): Promise<void> {
  const open: ProcessStats['open'] = { connections: 0, pendingQueries: 0, runningQueries: 0, pendingAsks: 0, openPorts: 0, dhtRequestsOpen: 0, dhtStreamsIdle: 0, inboundStreams: 0, mailboxDepth: 0 }
  let silentNodes = 0
  await Promise.all([...nodes.values()].map(async node => {
    try {
      const s = await node.ask({ type: 'swarm.status' }, { timeoutMs: STATS_STATUS_TIMEOUT_MS })
      open.connections += s.connections
      open.pendingQueries += s.pendingQueries
      open.runningQueries += s.runningQueries
      open.openPorts += s.openPorts
      open.dhtRequestsOpen += s.dhtRequests?.open ?? 0
      open.dhtStreamsIdle += s.dhtRequests?.streamsIdle ?? 0
      open.inboundStreams += s.refusals?.inbound.open ?? 0
      for (const a of s.actors) {
        open.pendingAsks += a.pending
        open.mailboxDepth += a.mailbox.depth + a.mailbox.systemDepth
      }
    } catch {
      // a node busy past the deadline (or stopping) is counted as silent, not as zeros
      silentNodes++
    }
  }))
  const value = processStatsOf({ inFlight: running.size, nodes: nodes.size, silentNodes, open })
  send({ t: 'reply', id, value })
}

async function exit (code: number): Promise<never> {
  if (!exiting) {
    exiting = true
    const timer = setTimeout(() => { process.exit(code === 0 ? 3 : code) }, EXIT_GRACE_MS)
    timer.unref()
    for (const a of running.values()) a.abort()
    await Promise.allSettled([...nodes.values()].map(async n => { await n.stop() }))
    nodes.clear()
    await faults.releaseAll()
    process.exit(code)
  }
  return await new Promise<never>(() => {})
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'start': void start(m.id, m.nodes); return
    case 'ask': void ask(m.id, m.node, m.command as AskCommand, m.timeoutMs); return
    case 'stream': void stream(m.id, m.node, m.command as StreamCommand, m.timeoutMs, STREAM_WINDOW); return
    case 'credit': {
      const c = credit.get(m.id)
      if (c === undefined) return
      c.n += m.n
      c.wake?.()
      c.wake = undefined
      return
    }
    case 'cancel': {
      running.get(m.id)?.abort()
      const c = credit.get(m.id)
      c?.wake?.()
      return
    }
    case 'watch': watch(m.node); return
    case 'stopNode': void stopNode(m.id, m.node); return
    case 'fault':
      faults.apply(m.op).then(
        value => { send({ t: 'reply', id: m.id, value }) },
        (err: unknown) => { send({ t: 'fail', id: m.id, failure: errorToFailure(err) }) })
      return
    case 'stats': void stats(m.id); return
    case 'exit': void exit(0)
  }
})
process.on('disconnect', () => { void exit(0) })
// Ctrl-C in a terminal signals the whole process group: the parent decides
// when its children stop (it tells them, or its exit closes the channel)
process.on('SIGINT', () => { process.stderr.write('testnet child: SIGINT ignored, the parent stops this process\n') })
process.on('SIGTERM', () => { void exit(0) })
send({ t: 'ready' })
