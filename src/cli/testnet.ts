/**
 * `swarmbus testnet --nodes N`: starts a local testnet, prints how to reach
 * its nodes, and runs until SIGINT/SIGTERM, then stops every node.
 */
import { choiceFlag, intFlag, parse, UsageError } from './args.js'
import { errorLine, fmtMs } from './format.js'
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
        const spread = await createTestnet({ nodes: n, processes, ...(seed !== undefined ? { seed } : {}) })
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
      process.stdout.write(JSON.stringify({ event: 'ready', pid: process.pid, transport, setupMs: Math.round(setupMs), mesh: { ...net.report, elapsedMs: Math.round(net.report.elapsedMs) }, ...(spread !== undefined ? { processes: spread } : {}), nodes, bootstrap }) + '\n')
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
