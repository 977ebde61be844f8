/**
 * A child process of the ipns-spread bench (src/bench/ipns-spread.ts), forked
 * from dist-bench/bench/spread-worker.js: it holds some of a testnet's nodes (either
 * stack, through openBenchNode) and does what the parent asks over the IPC
 * channel (ChildCalls): start them, dial its share of the mesh, report
 * routing-table sizes, run self lookups, make keys, publish names, report its
 * CPU time and RSS. Nothing goes to stdout (the parent maps it to stderr
 * anyway).
 *
 * It exits by itself, its nodes stopped (bounded, then process.exit): when
 * told, when the IPC channel closes (the parent is gone), or after 15
 * minutes.
 */
import { Errors, bounded, errName, pool, rssMB } from './ipns.js'
import { dialMesh, openBenchNode } from './ipns-spread.js'
import type { BenchNode, ChildCall, ChildCalls, FromChild, ToChild } from './ipns-spread.js'

if (process.send === undefined) {
  process.stderr.write('spread-worker: run by the ipns-spread bench (npm run bench -- ipns-spread), not directly\n')
  process.exit(2)
}

const nodes = new Map<number, BenchNode>()
let lookups: Array<Promise<void>> = []
let lookupsDone = new AbortController()
let stopping = false

async function shutdown (code: number): Promise<void> {
  if (stopping) return
  stopping = true
  // whatever the nodes do, the process ends
  setTimeout(() => { process.exit(code === 0 ? 4 : code) }, 15_000).unref()
  lookupsDone.abort()
  await bounded('stopping nodes', 12_000, Promise.allSettled([...nodes.values()].map(async n => { await n.stop() }))).catch(() => {})
  process.exit(code)
}

process.on('disconnect', () => { void shutdown(0) })
setTimeout(() => {
  process.stderr.write('spread-worker: still running after 15 minutes, exiting\n')
  void shutdown(3)
}, 15 * 60_000).unref()

const node = (i: number): BenchNode => {
  const n = nodes.get(i)
  if (n === undefined) throw new Error(`node ${i} is not in this process`)
  return n
}

type Handlers = { [K in keyof ChildCalls]: (call: Extract<ChildCall, { type: K }>) => Promise<ChildCalls[K]['reply']> }

const handlers: Handlers = {
  start: async ({ stack, seed, indices }) => {
    // in batches of 4, as createTestnet: every start is CPU work (keys, listeners)
    for (let b = 0; b < indices.length; b += 4) {
      await Promise.all(indices.slice(b, b + 4).map(async i => {
        nodes.set(i, await bounded(`node ${i} start`, 60_000, openBenchNode(stack, seed + i)))
      }))
    }
    return { nodes: indices.map(i => ({ index: i, peerId: node(i).peerId, addr: node(i).addr })) }
  },
  mesh: async ({ addrs }) => await dialMesh(nodes, addrs),
  tables: async () => ({ sizes: await Promise.all([...nodes].map(async ([i, n]): Promise<[number, number]> => [i, await n.routingTableSize()])) }),
  selfLookup: async ({ indices }) => {
    for (const i of indices) lookups.push(node(i).selfLookup(lookupsDone.signal).catch(() => {}))
    return {}
  },
  meshDone: async () => {
    lookupsDone.abort()
    await bounded('self lookups', 15_000, Promise.all(lookups)).catch(() => {})
    lookups = []
    lookupsDone = new AbortController()
    return {}
  },
  keys: async ({ jobs }) => {
    const errors = new Errors()
    await pool(jobs.length, 4, async k => {
      const job = jobs[k] as { index: number, key: string }
      await bounded('key.generate', 40_000, node(job.index).generateKey(job.key)).catch(err => { errors.add(err) })
    })
    return { errors: errors.list() }
  },
  publish: async ({ jobs }) => {
    const errors = new Errors()
    const published: Array<{ j: number, name: string, sequence: string }> = []
    await pool(jobs.length, 4, async k => {
      const job = jobs[k] as { j: number, index: number, key: string, value: string }
      try {
        const r = await bounded('publish', 40_000, node(job.index).publish(job.key, job.value))
        published.push({ j: job.j, name: r.name, sequence: r.sequence.toString() })
      } catch (err) {
        errors.add(err)
      }
    })
    return { published, errors: errors.list() }
  },
  usage: async () => {
    const u = process.cpuUsage()
    return { cpuUs: u.user + u.system, loopActiveMs: performance.eventLoopUtilization().active, rssMB: rssMB() }
  }
}

const send = (m: FromChild): void => {
  try { process.send?.(m) } catch { /* the parent is gone: 'disconnect' ends us */ }
}

process.on('message', (m: ToChild) => {
  if ('stop' in m) { void shutdown(0); return }
  if (stopping) { send({ id: m.id, ok: false, error: 'stopping' }); return }
  const handler = handlers[m.call.type] as (call: ChildCall) => Promise<unknown>
  handler(m.call).then(
    reply => { send({ id: m.id, ok: true, reply }) },
    (err: unknown) => { send({ id: m.id, ok: false, error: errName(err) }) }
  )
})
