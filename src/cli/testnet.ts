/**
 * `swarmbus testnet --nodes N`: starts a local testnet, prints how to reach
 * its nodes, and runs until SIGINT/SIGTERM, then stops every node.
 */
import { choiceFlag, intFlag, parse, UsageError } from './args.js'
import { errorLine, fmtMs } from './format.js'
import { durationFlag } from './record-duration.js'
import type { ProcessTestnet, Testnet } from '../index.js'

export const summary = 'run a local testnet until interrupted'

export const help = `Usage: swarmbus testnet [options]

Starts a testnet of real libp2p nodes on loopback (DHT servers, fully meshed),
prints each node's peer id and multiaddrs, and runs until SIGINT (Ctrl-C) or
SIGTERM, then stops every node and exits 0. A second signal exits at once.

Connect another node with one of the printed addresses as a bootstrap peer:
  createNode({ loopback: true, bootstrap: ['/ip4/127.0.0.1/tcp/…/p2p/12D3KooW…'] })
or use it from another shell with the name commands (see swarmbus name --help):
  swarmbus name publish /ipfs/<cid> --repo DIR --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW…
  swarmbus name resolve NAME --network local --bootstrap /ip4/127.0.0.1/tcp/…/p2p/12D3KooW…

With --processes P the nodes live in P child processes (node i in process
i mod P), each joining through 3 random nodes started before it, as on a real
network; the routing-table fill (min / median / max) is reported, and a child
that dies is reported on stderr.

Faults (with --processes; docs/testnets.md has the model). Nodes are named as
printed, n1…nN; a list is like 1-10,15:
  --latency D          one-way delay of every link, e.g. 30ms (each node behind a delaying proxy)
  --jitter D           ± this much per chunk, uniform (at most --latency)
  --partition G/G/…    groups that cannot reach each other, e.g. 1-50/51-100 (nodes in none: one more group)
  --freeze LIST        these nodes stop answering (connections stay open, nothing moves)
  --churn PCT          put PCT % of the nodes in a process of their own and kill -9 it after --churn-after
  --churn-after D      when (default 30s after ready)

Options:
  --nodes N            how many nodes, 1 to 200 in one process, 1 to 1000 with --processes (default 4)
  --processes P        host the nodes in P child processes (1 to 64; TCP only)
  --transport T        tcp (default) or memory (reachable only inside this process)
  --seed N             stable peer ids (node i gets seed N + i)
  --json               print JSON lines: one when ready, one when stopped
  -h, --help           show this help
`

export async function run (argv: string[]): Promise<number> {
  const { values } = parse('testnet', argv, {
    nodes: { type: 'string' },
    processes: { type: 'string' },
    transport: { type: 'string' },
    seed: { type: 'string' },
    latency: { type: 'string' },
    jitter: { type: 'string' },
    partition: { type: 'string' },
    freeze: { type: 'string' },
    churn: { type: 'string' },
    'churn-after': { type: 'string' },
    json: { type: 'boolean' }
  })
  if (values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const processes = intFlag('testnet', values, 'processes', undefined, 1, 64)
  const n = intFlag('testnet', values, 'nodes', 4, 1, processes === undefined ? 200 : 1_000)
  const transport = choiceFlag('testnet', values, 'transport', ['tcp', 'memory'] as const, 'tcp')
  if (processes !== undefined && transport === 'memory') throw new UsageError('testnet', '--processes needs --transport tcp (memory addresses do not cross processes)')
  if (processes !== undefined && processes > n) throw new UsageError('testnet', `--processes ${processes} is more than --nodes ${n}`)
  const seed = intFlag('testnet', values, 'seed', undefined, 0, 2 ** 31 - 1)
  const json = values.json === true
  const faults = faultFlags(values, n, processes)

  // a signal during startup stops as soon as the testnet is up
  let signalled: NodeJS.Signals | undefined
  let wake: (() => void) | undefined
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled !== undefined) {
      process.stderr.write(`swarmbus testnet: second ${sig}, exiting without a clean stop\n`)
      process.exit(1)
    }
    signalled = sig
    wake?.()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    const t0 = performance.now()
    let net: Testnet | ProcessTestnet
    try {
      const { createTestnet } = await import('../index.js')
      if (processes === undefined) {
        net = await createTestnet({ nodes: n, transport, ...(seed !== undefined ? { seed } : {}) })
      } else {
        if (!json) process.stderr.write(`starting ${n} nodes in ${processes} processes…\n`)
        const victims = faults.churn === undefined ? undefined : churnVictims(n, faults.churn)
        const spread = await createTestnet({
          nodes: n,
          processes: processes + (victims !== undefined ? 1 : 0),
          ...(seed !== undefined ? { seed } : {}),
          ...(faults.delay !== undefined ? { faults: faults.delay } : {}),
          ...(victims !== undefined ? { placement: (i: number) => victims.has(i) ? processes : i % processes } : {})
        })
        if (faults.partition !== undefined) await spread.faults.partition(faults.partition)
        if (faults.freeze !== undefined) await spread.faults.freeze(faults.freeze)
        if (victims !== undefined) {
          const timer = setTimeout(() => {
            if (!json) process.stderr.write(`swarmbus testnet: churn: kill -9 of process ${processes} and its ${victims.size} nodes\n`)
            spread.host(processes).kill('SIGKILL')
          }, faults.churnAfterMs)
          timer.unref()
        }
        spread.on('process-exit', e => {
          process.stderr.write(`swarmbus testnet: process ${e.process} (pid ${e.pid ?? '?'}) exited (${e.signal ?? `code ${e.code ?? '?'}`}); its ${e.nodes.length} nodes are gone\n`)
          if (json) process.stdout.write(JSON.stringify({ event: 'process-exit', process: e.process, pid: e.pid, code: e.code, signal: e.signal, nodes: e.nodes }) + '\n')
        })
        net = spread
      }
    } catch (err) {
      if (json) process.stdout.write(JSON.stringify({ event: 'error', error: errorLine(err) }) + '\n')
      process.stderr.write(`swarmbus testnet: ${errorLine(err)}\n`)
      return 1
    }
    const setupMs = performance.now() - t0
    const nodes = net.nodes.map((node, i) => ({ node: `n${i + 1}`, peerId: node.peerId, multiaddrs: node.multiaddrs }))
    const bootstrap = nodes.flatMap(x => x.multiaddrs.slice(0, 1))
    const spread = 'processes' in net ? net.processes : undefined
    if (json) {
      process.stdout.write(JSON.stringify({ event: 'ready', pid: process.pid, transport, setupMs: Math.round(setupMs), mesh: { ...net.report, elapsedMs: Math.round(net.report.elapsedMs) }, ...(spread !== undefined ? { processes: spread } : {}), ...(faults.delay !== undefined ? { faults: faultsJson(faults) } : {}), nodes, bootstrap }) + '\n')
    } else {
      const sizes = net.report.routingTableSizes
      const sorted = [...sizes].sort((a, b) => a - b)
      const tables = spread === undefined
        ? `routing tables ${Math.min(...sizes)}–${Math.max(...sizes)}`
        : `routing tables min ${sorted[0] ?? 0}, median ${sorted[Math.floor(sorted.length / 2)] ?? 0}, max ${sorted.at(-1) ?? 0} of ${Math.min(20, n - 1)}`
      const lines = [`swarmbus testnet: ${n} nodes on ${transport === 'tcp' ? 'TCP' : 'in-memory'} loopback${spread !== undefined ? ` in ${spread.length} processes (pids ${spread.map(p => p.pid ?? '?').join(', ')})` : ''}, ready in ${fmtMs(setupMs)} ms` +
        ` (mesh ${net.report.settled ? 'settled' : 'NOT settled'}, ${tables})`, '']
      const shown = nodes.length > 20 ? nodes.slice(0, 10) : nodes
      for (const x of shown) {
        lines.push(`${x.node}  ${x.peerId}`)
        for (const a of x.multiaddrs) lines.push(`      ${a}`)
      }
      if (shown.length < nodes.length) lines.push(`… and ${nodes.length - shown.length} more (--json lists every node)`)
      lines.push('')
      if (transport === 'memory') lines.push('memory addresses are reachable only from inside this process.')
      else {
        const addr = bootstrap[0] ?? ''
        lines.push(`connect from code: createNode({ loopback: true, bootstrap: ['${addr}'] })`)
        lines.push('use it from another shell (inside this repository: npm run swarmbus -- name …):')
        lines.push(`  swarmbus name publish /ipfs/<cid> --repo DIR --network local --bootstrap ${addr}`)
        lines.push(`  swarmbus name resolve NAME --network local --bootstrap ${addr}`)
      }
      lines.push(`running (pid ${process.pid}); Ctrl-C or SIGTERM stops it.`)
      process.stdout.write(lines.join('\n') + '\n')
    }

    if (signalled === undefined) {
      // the listeners keep the process alive on TCP, nothing does on memory
      const keepAlive = setInterval(() => {}, 1 << 30)
      await new Promise<void>(resolve => { wake = resolve })
      clearInterval(keepAlive)
    }
    const t1 = performance.now()
    if (!json) process.stdout.write(`${signalled ?? 'signal'}: stopping ${n} nodes…\n`)
    await net.stop()
    const stopMs = performance.now() - t1
    if (json) process.stdout.write(JSON.stringify({ event: 'stopped', signal: signalled, stopMs: Math.round(stopMs) }) + '\n')
    else process.stdout.write(`stopped in ${fmtMs(stopMs)} ms\n`)
    return 0
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

interface FaultFlags {
  delay?: { latencyMs: number, jitterMs: number }
  partition?: number[][]
  freeze?: number[]
  /** share of the nodes killed, 0–1 */
  churn?: number
  churnAfterMs: number
}

/** "1-10,15" (nodes as printed, from 1) → 0-based indices */
function nodeList (flag: string, text: string, n: number): number[] {
  const out = new Set<number>()
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    const from = Number(m?.[1])
    const to = m?.[2] !== undefined ? Number(m[2]) : from
    if (m === null || from < 1 || to > n || from > to) throw new UsageError('testnet', `--${flag}: '${part}' is not a node or range of nodes from 1 to ${n} (e.g. 1-10,15)`)
    for (let i = from; i <= to; i++) out.add(i - 1)
  }
  return [...out]
}

function faultFlags (values: Record<string, string | boolean | undefined>, n: number, processes: number | undefined): FaultFlags {
  const given = ['latency', 'jitter', 'partition', 'freeze', 'churn', 'churn-after'].filter(f => values[f] !== undefined)
  if (given.length > 0 && processes === undefined) throw new UsageError('testnet', `--${given[0] as string} needs --processes (faults live in the child processes)`)
  const latencyMs = durationFlag('testnet', values, 'latency', 0, 60_000, '1m')
  const jitterMs = durationFlag('testnet', values, 'jitter', 0, 60_000, '1m')
  if (jitterMs !== undefined && jitterMs > (latencyMs ?? 0)) throw new UsageError('testnet', '--jitter must be at most --latency')
  const partition = typeof values.partition === 'string' ? values.partition.split('/').map(g => nodeList('partition', g, n)) : undefined
  if (partition !== undefined && new Set(partition.flat()).size !== partition.flat().length) throw new UsageError('testnet', '--partition: a node is in two groups')
  const freeze = typeof values.freeze === 'string' ? nodeList('freeze', values.freeze, n) : undefined
  let churn: number | undefined
  if (typeof values.churn === 'string') {
    const pct = Number(values.churn.replace(/%$/, ''))
    if (!Number.isFinite(pct) || pct <= 0 || pct >= 100) throw new UsageError('testnet', `--churn: '${values.churn}' is not a share of the nodes above 0 and below 100 %`)
    churn = pct / 100
  }
  const churnAfterMs = durationFlag('testnet', values, 'churn-after', 0, 24 * 3_600_000, '24h') ?? 30_000
  // any fault needs the proxies; a delay of 0 is fine
  const delay = given.length > 0 ? { latencyMs: latencyMs ?? 0, jitterMs: jitterMs ?? 0 } : undefined
  return { ...(delay !== undefined ? { delay } : {}), ...(partition !== undefined ? { partition } : {}), ...(freeze !== undefined ? { freeze } : {}), ...(churn !== undefined ? { churn } : {}), churnAfterMs }
}

/** every k-th node, spread over the testnet (not node 0, which everyone joins through first) */
function churnVictims (n: number, share: number): Set<number> {
  const count = Math.max(1, Math.min(n - 1, Math.round(n * share)))
  const out = new Set<number>()
  for (let k = 0; k < count; k++) out.add(1 + Math.floor(k * (n - 1) / count))
  return out
}

/** the faults in force, for the ready line (nodes by their printed names) */
function faultsJson (f: FaultFlags): Record<string, unknown> {
  const names = (list: number[]): string[] => list.map(i => `n${i + 1}`)
  return {
    ...f.delay,
    ...(f.partition !== undefined ? { partition: f.partition.map(names) } : {}),
    ...(f.freeze !== undefined ? { freeze: names(f.freeze) } : {}),
    ...(f.churn !== undefined ? { churn: f.churn, churnAfterMs: f.churnAfterMs } : {})
  }
}
