/**
 * The built CLI (dist/cli/main.js) run as a child process of this Node:
 * help and usage errors, the demo on a small testnet, replay of a trace the
 * demo recorded (and of a tampered copy), and the testnet command's life
 * cycle. Needs `npm run build` first (npm test does it).
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAIN, runCli } from '../helpers/cli-process.js'
import type { CliRun } from '../helpers/cli-process.js'
import type { ChildProcess } from 'node:child_process'

const children = new Set<ChildProcess>()
let dir = ''

type Run = CliRun

/** Runs the CLI to its end (guarded, no env but PATH); killed (SIGKILL) if it outlives timeoutMs. */
function cli (args: string[], timeoutMs = 20_000): Promise<Run> {
  return runCli(children, args, timeoutMs)
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run 'npm run build' first`)
  dir = await mkdtemp(join(tmpdir(), 'swarmbus-cli-'))
})

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('help and usage errors', () => {
  it('--help lists the commands and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await cli([flag])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Usage: swarmbus <command>/)
      for (const c of ['demo', 'testnet', 'replay']) expect(r.stdout).toContain(`  ${c}`)
      expect(r.stderr).toBe('')
    }
  })

  it('every command has its own --help, also through `help <command>`', async () => {
    for (const args of [['demo', '--help'], ['testnet', '-h'], ['replay', '--help'], ['help', 'demo'], ['demo', '--nodes', '3', '-h']]) {
      const r = await cli(args)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^Usage: swarmbus ${args[0] === 'help' ? args[1] ?? '' : args[0] ?? ''}`))
    }
  })

  it('--version prints the package version', async () => {
    const r = await cli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^swarmbus \d+\.\d+\.\d+/)
  })

  it('no command, an unknown command or an unknown flag: a message on stderr and exit 2', async () => {
    const none = await cli([])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('Usage: swarmbus')

    const unknown = await cli(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("unknown command 'frobnicate'")
    expect(unknown.stdout).toBe('')

    const flag = await cli(['demo', '--bogus'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain("swarmbus demo: unknown option '--bogus'")
    expect(flag.stderr).toContain("Run 'swarmbus demo --help'")

    const global = await cli(['--bogus'])
    expect(global.code).toBe(2)
    expect(global.stderr).toContain("unknown option '--bogus'")
  })

  it('bad values and missing arguments are usage errors (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['demo', '--nodes', '0'], /--nodes must be an integer from 2 to 200/],
      [['demo', '--nodes', 'many'], /--nodes must be an integer/],
      [['demo', '--transport', 'udp'], /--transport must be one of tcp, memory/],
      [['demo', '--nodes'], /argument missing/],
      [['demo', 'extra'], /unexpected argument: 'extra'/],
      [['testnet', '--nodes', '500'], /--nodes must be an integer from 1 to 200/],
      [['testnet', '--nodes', '2000', '--processes', '2'], /--nodes must be an integer from 1 to 1000/],
      [['testnet', '--nodes', '2', '--processes', '3'], /--processes 3 is more than --nodes 2/],
      [['testnet', '--processes', '2', '--transport', 'memory'], /--processes needs --transport tcp/],
      [['testnet', '--latency', '30ms'], /--latency needs --processes/],
      [['testnet', '--processes', '2', '--latency', '10ms', '--jitter', '20ms'], /--jitter must be at most --latency/],
      [['replay'], /missing the TRACE file/],
      [['replay', 'a.jsonl', 'b.jsonl'], /unexpected argument: 'b.jsonl'/]
    ]
    for (const [args, message] of cases) {
      const r = await cli(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
    }
  })
})

interface DemoJson {
  ok: boolean
  nodes: number
  steps: Array<{ step: string, ok: boolean, result: string, error?: string, ms: number, what: string }>
  peers: Array<{ node: string, peerId: string }>
  commands: Record<string, { served: number, failed: number }>
  trace?: string
}

describe('demo', () => {
  it('demo --nodes 4 --json exits 0 with every step ok', async () => {
    const r = await cli(['demo', '--nodes', '4', '--json'], 45_000)
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout) as DemoJson
    expect(report.ok).toBe(true)
    expect(report.nodes).toBe(4)
    expect(report.peers).toHaveLength(4)
    expect(report.steps.map(s => s.step)).toEqual([
      'mesh', 'dht.put', 'dht.get', 'dht.provide', 'dht.findProviders', 'dht.findPeer', 'dht.closestPeers',
      'ipns.publish', 'ipns.resolve', 'ipns.resolve cached', 'ipns.publish again', 'ipns.resolve nocache',
      'system.ping', 'invalid command', 'dht.get missing', 'deadline 200 ms', 'swarm.status'
    ])
    for (const s of report.steps) {
      expect(s.ok, `${s.step}: ${s.error ?? s.result}`).toBe(true)
      expect(s.ms).toBeGreaterThanOrEqual(0)
    }
    expect(report.commands['system.ping']?.served).toBe(10_000)
    // the lifecycle of n1's publish and of n2's resolve, as the machine went through them
    expect(report.steps.find(s => s.step === 'ipns.publish')?.what).toMatch(
      /: preparing\.key [\d.]+ ms → preparing\.seen [\d.]+ ms \(SEEN×2\) → signing [\d.]+ ms → storing [\d.]+ ms → putting [\d.]+ ms → done$/)
    expect(report.steps.find(s => s.step === 'ipns.resolve')?.what).toMatch(/n2: reading [\d.]+ ms → querying [\d.]+ ms \(.*VALUE.*\) → done$/)
    // the publishes and the resolves of n2, n3, n4: uncached, cached (+ 1,000 timed on n2), nocache
    expect(report.commands['ipns.publish']?.served).toBe(2)
    expect(report.commands['ipns.resolve']).toMatchObject({ served: 3 * 3 + 1 + 1_000, failed: 0 })
  })

  it('the table names every step with its result', async () => {
    const r = await cli(['demo', '--nodes', '3', '--transport', 'memory', '--seed', '5'], 45_000)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^swarmbus demo: 3 nodes on in-memory loopback, ready in/)
    expect(r.stdout).toMatch(/step\s+what happened\s+result\s+ms/)
    for (const step of ['dht.put', 'dht.get', 'dht.findProviders', 'ipns.publish', 'ipns.resolve', 'ipns.resolve cached', 'system.ping', 'deadline 200 ms', 'swarm.status']) {
      expect(r.stdout).toMatch(new RegExp(`^${step.replace('.', '\\.')}\\s.*\\sok\\s+[\\d.]+`, 'm'))
    }
    expect(r.stdout).toMatch(/all 17 steps ok/)
  })
})

describe('demo --trace, then replay', () => {
  let trace = ''
  let report: DemoJson

  beforeAll(async () => {
    trace = join(dir, 'n1.jsonl')
    const r = await cli(['demo', '--nodes', '4', '--json', '--trace', trace], 45_000)
    expect(r.code, r.stderr).toBe(0)
    report = JSON.parse(r.stdout) as DemoJson
  })

  it('records n1 while the demo still passes', () => {
    expect(report.ok).toBe(true)
    expect(report.trace).toBe(trace)
    expect(existsSync(trace)).toBe(true)
  })

  it('replays the recording as identical (exit 0)', async () => {
    const human = await cli(['replay', trace])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain(`${trace}: identical`)
    expect(human.stdout).toContain(report.peers[0]?.peerId ?? 'n1')

    const json = await cli(['replay', trace, '--json'])
    expect(json.code).toBe(0)
    const out = JSON.parse(json.stdout) as { ok: boolean, inputs: number, outputs: number, deliveries: number, header: { peerId: string } }
    expect(out.ok).toBe(true)
    expect(out.header.peerId).toBe(report.peers[0]?.peerId)
    expect(out.inputs).toBeGreaterThan(10_000) // the pings alone are 10,000 asks
    expect(out.outputs).toBeGreaterThan(out.inputs)
    expect(out.deliveries).toBeGreaterThan(0)
  })

  it('reports a tampered output as a divergence with its seq (exit 1)', async () => {
    const lines = (await readFile(trace, 'utf8')).split('\n')
    // the first successful reply the node recorded: change what it said
    const i = lines.findIndex(l => l.includes('"dir":"out"') && l.includes('"type":"settle"') && l.includes('"ok":true'))
    expect(i).toBeGreaterThan(0)
    const ev = JSON.parse(lines[i] as string) as { seq: number, value: unknown }
    ev.value = { tampered: true }
    lines[i] = JSON.stringify(ev)
    const bad = join(dir, 'tampered.jsonl')
    await writeFile(bad, lines.join('\n'))

    const human = await cli(['replay', bad])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(`DIVERGED at seq ${ev.seq}: the output differs`)
    // the recorded event beside the replayed one
    expect(human.stdout).toMatch(/recorded: .*"tampered":true/)
    expect(human.stdout).toMatch(/replayed: .*"type":"settle"/)
    expect(human.stdout).not.toMatch(/replayed: .*"tampered"/)

    const json = await cli(['replay', bad, '--json'])
    expect(json.code).toBe(1)
    const out = JSON.parse(json.stdout) as { ok: boolean, divergence: { seq: number, differences: string[] } }
    expect(out.ok).toBe(false)
    expect(out.divergence.seq).toBe(ev.seq)
    expect(out.divergence.differences.some(d => d.startsWith('value.tampered'))).toBe(true)
  })

  it('reports an input the replay cannot apply with the recorded input and what the replay had', async () => {
    const lines = (await readFile(trace, 'utf8')).split('\n')
    const i = lines.findIndex(l => l.includes('"dir":"in"') && l.includes('"type":"timer"'))
    expect(i).toBeGreaterThan(0)
    const ev = JSON.parse(lines[i] as string) as { seq: number, timer: number }
    ev.timer = 987_654
    lines[i] = JSON.stringify(ev)
    const bad = join(dir, 'bad-timer.jsonl')
    await writeFile(bad, lines.join('\n'))
    const human = await cli(['replay', bad])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(`DIVERGED at seq ${ev.seq}: input could not be applied: timer 987654 is not set`)
    expect(human.stdout).toMatch(/recorded: .*"timer":987654/)
    expect(human.stdout).toMatch(/replayed: .*"timersSet":\[/)
  })

  it('an unreadable trace exits 2', async () => {
    const missing = await cli(['replay', join(dir, 'no-such.jsonl')])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/cannot replay .*ENOENT/)

    const junk = join(dir, 'junk.jsonl')
    await writeFile(junk, 'not json\n')
    const bad = await cli(['replay', junk])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/SyntaxError: trace line 1/)
  })
})

/** `swarmbus testnet ARGS --json` until its first line; then SIGTERM it and read its last */
async function testnetCli (args: string[]): Promise<{ first: Record<string, unknown>, lines: () => Array<Record<string, unknown>>, stop: () => Promise<{ code: number | null, last: Record<string, unknown> }> }> {
  const child = spawn(process.execPath, [MAIN, 'testnet', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', SWARMBUS_NETWORK_GUARD: '1' } })
  children.add(child)
  const kill = setTimeout(() => { child.kill('SIGKILL') }, 60_000)
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const closed = new Promise<number | null>(resolve => { child.on('close', code => { clearTimeout(kill); children.delete(child); resolve(code) }) })
  const ready = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s
      const nl = stdout.indexOf('\n')
      if (nl >= 0) resolve(stdout.slice(0, nl))
    })
    void closed.then(code => { reject(new Error(`testnet exited (${String(code)}) before it was ready: ${stderr}`)) })
  })
  return {
    first: JSON.parse(ready) as Record<string, unknown>,
    lines: () => stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      child.kill('SIGTERM')
      const code = await closed
      return { code, last: JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown> }
    }
  }
}

describe('testnet', () => {
  it('testnet --nodes 3 --json prints the nodes, then stops cleanly on SIGTERM (exit 0)', async () => {
    const run = await testnetCli(['--nodes', '3'])
    const first = run.first as { event: string, nodes: Array<{ peerId: string, multiaddrs: string[] }>, bootstrap: string[] }
    expect(first.event).toBe('ready')
    expect(first.nodes).toHaveLength(3)
    for (const node of first.nodes) {
      expect(node.multiaddrs.length).toBeGreaterThan(0)
      for (const a of node.multiaddrs) expect(a).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${node.peerId}$`))
    }
    expect(first.bootstrap).toHaveLength(3)
    const { code, last } = await run.stop()
    expect(code).toBe(0)
    expect(last).toMatchObject({ event: 'stopped', signal: 'SIGTERM' })
  })

  it('testnet --processes 2 hosts the nodes in 2 child processes, and SIGTERM stops them all', async () => {
    const run = await testnetCli(['--nodes', '6', '--processes', '2'])
    const first = run.first as { event: string, pid: number, nodes: unknown[], processes: Array<{ index: number, pid: number, nodes: number[] }>, mesh: { routingTableSizes: number[] } }
    expect(first.event).toBe('ready')
    expect(first.nodes).toHaveLength(6)
    expect(first.processes.map(p => p.nodes)).toEqual([[0, 2, 4], [1, 3, 5]])
    expect(first.processes.every(p => p.pid !== first.pid)).toBe(true)
    expect(first.mesh.routingTableSizes.every(n => n >= 1)).toBe(true)
    const { code, last } = await run.stop()
    expect(code).toBe(0)
    expect(last).toMatchObject({ event: 'stopped', signal: 'SIGTERM' })
    for (const p of first.processes) expect(() => process.kill(p.pid, 0)).toThrow(/ESRCH/)
  })

  it('testnet --latency puts every node behind a delaying proxy, and --churn kills its victims\' process', async () => {
    const run = await testnetCli(['--nodes', '6', '--processes', '2', '--latency', '120ms', '--churn', '34%', '--churn-after', '1s'])
    const first = run.first as { event: string, faults: Record<string, unknown>, processes: Array<{ index: number, pid: number }>, bootstrap: string[] }
    expect(first.event).toBe('ready')
    expect(first.faults).toMatchObject({ latencyMs: 120, jitterMs: 0, churn: 0.34, churnAfterMs: 1_000 })
    // the victims live in a third process
    expect(first.processes).toHaveLength(3)
    // a dial through the proxy pays the delay: its handshakes need more than one round trip (2 × 120 ms)
    const { createNode } = await import('../../src/index.js')
    const probe = await createNode({ loopback: true, verifier: 'inline', republish: false })
    try {
      const t0 = performance.now()
      await probe.ask({ type: 'swarm.dial', multiaddr: first.bootstrap[0] as string }, { timeoutMs: 10_000 })
      expect(performance.now() - t0).toBeGreaterThanOrEqual(240)
    } finally {
      await probe.stop()
    }
    // --churn-after 1s: the victims' process is killed -9 and reported
    for (let i = 0; i < 100 && !run.lines().some(l => l.event === 'process-exit'); i++) await new Promise(resolve => setTimeout(resolve, 100))
    expect(run.lines().find(l => l.event === 'process-exit')).toMatchObject({ process: 2, signal: 'SIGKILL' })
    const { code, last } = await run.stop()
    expect(code).toBe(0)
    expect(last).toMatchObject({ event: 'stopped', signal: 'SIGTERM' })
  })
})
