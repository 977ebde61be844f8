/**
 * What `swarmbus demo` reports: each step's outcome, the checks a step makes
 * (a failed check is a failed step, not a crash), the small formatting
 * helpers its lines use, and the table it prints (`render`).
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { fmtMs, round, shortId, table } from './format.js'
import { compactLifecycle } from './name-lifecycle.js'
import type { LifecycleState } from './name-lifecycle.js'
import type { SwarmNode, Testnet } from '../index.js'

/** every ask of the demo names its deadline; none may hang the demo */
export const STEP_TIMEOUT_MS = 15_000

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

export interface Outcome { what: string, data?: unknown }

export class CheckFailed extends Error {
  override readonly name = 'CheckFailed'
}

export function check (cond: boolean, message: string): asserts cond {
  if (!cond) throw new CheckFailed(message)
}

/** The error an ask that must fail failed with (a reply is a failed check). */
export async function failureOf (ask: () => Promise<unknown>): Promise<Error> {
  let reply: unknown
  try {
    reply = await ask()
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
  throw new CheckFailed(`expected a failure, got a reply: ${JSON.stringify(reply)?.slice(0, 80) ?? ''}`)
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

/** What a step of the demo may use of the demo (the Demo class in demo.ts). */
export interface DemoHost {
  readonly nodes: SwarmNode[]
  /** node i of the testnet (n1 is 0), wrapping around */
  node(i: number): SwarmNode
  /** the node's name in the report: n1, n2, … */
  label(node: SwarmNode): string
  /** run one step: timed, and a failed check or a thrown error recorded as a failed step */
  step(step: string, fn: (note: (what: string) => void) => Promise<Outcome>): Promise<void>
}

export function plural (n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`
}

/** k51qzi…abcd */
export function shortName (name: string): string {
  return name.length <= 16 ? name : `${name.slice(0, 8)}…${name.slice(-4)}`
}

/** /ipfs/bafkrei…wxyz/v2 */
export function shortPath (path: string): string {
  return path.replace(/^\/(ipfs|ipns)\/([^/]{20,})/, (_m, ns: string, root: string) => `/${ns}/${root.slice(0, 10)}…${root.slice(-4)}`)
}

export function median (xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** A cache hit's lifecycle: the machine straight to done, or no machine at all. */
export function cachedLifecycle (states: LifecycleState[]): string {
  if (states.length === 0) return 'no machine ran (the whole answer was cached)'
  if (states.length === 1 && states[0]?.state === 'done') return 'done (a cache hit passes lookup and hopResolved in one step)'
  return compactLifecycle(states)
}

export function lifecycleData (states: LifecycleState[]): Array<{ state: string, ms?: number, events: Record<string, number> }> {
  return states.map(x => ({ state: x.state, ...(x.ms !== undefined ? { ms: round(x.ms, 3) } : {}), events: x.events }))
}

/** kad-dht's keyspace id of a peer: sha256 of its multihash (the bytes a base58btc peer id spells). */
export function kadId (peerId: string): Buffer {
  return createHash('sha256').update(base58btc.baseDecode(peerId)).digest()
}

export function xor (a: Buffer, b: Buffer): Buffer {
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
