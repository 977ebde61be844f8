/**
 * `swarmbus replay TRACE`: replays a node's JSONL trace on a simulated clock
 * with the recorded inputs and reports whether the outputs are the same.
 * Exit 0 identical, 1 diverged, 2 the trace could not be read.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parse, UsageError } from './args.js'
import { compact, differences, errorLine, fmtMs } from './format.js'
import type { NodeReplayOptions, NodeReplayReport } from '../index.js'

export const summary = 'replay a recorded trace and report the first divergence'

export const help = `Usage: swarmbus replay TRACE [options]

Replays a trace recorded by a node (createNode({ trace: FILE }) or
'swarmbus demo --trace FILE'): the same actors on a simulated clock, fed the
recorded inputs, must produce the recorded outputs in the same order.

A node that ran extension actors (node.spawn) needs them on replay too:
--actors names a JavaScript module whose default export is a function
(header) => ActorDefinition[] (or an array of definitions), the same
actors the recording node spawned.

Exit codes: 0 identical, 1 diverged (the first divergence is shown with its
sequence number, the recorded event beside the replayed one), 2 the trace
or the actors module could not be read.

Options:
  --actors MODULE      extension actors to spawn beside the built-in ones
  --json               print one JSON object
  -h, --help           show this help
`

export async function run (argv: string[]): Promise<number> {
  const { values, positionals } = parse('replay', argv, { json: { type: 'boolean' }, actors: { type: 'string' } }, 1)
  if (values.help === true) {
    process.stdout.write(help)
    return 0
  }
  const file = positionals[0]
  if (file === undefined) throw new UsageError('replay', 'missing the TRACE file')
  const json = values.json === true

  const t = performance.now()
  let report: NodeReplayReport
  try {
    const { replayNodeTraceFile } = await import('../index.js')
    const options: NodeReplayOptions = typeof values.actors === 'string' ? { extraActors: await loadActors(values.actors) } : {}
    report = await replayNodeTraceFile(file, options)
  } catch (err) {
    const message = `cannot replay ${file}: ${errorLine(err)}`
    if (json) process.stdout.write(JSON.stringify({ ok: false, file, error: message }) + '\n')
    process.stderr.write(`swarmbus replay: ${message}\n`)
    return 2
  }
  const ms = performance.now() - t
  const peerId = (report.header.config as { peerId?: unknown }).peerId
  const d = report.divergence
  const strip = (e: unknown): unknown => {
    if (e === null || typeof e !== 'object') return e
    const { seq: _s, dir: _d, ...rest } = e as Record<string, unknown>
    return rest
  }
  if (json) {
    process.stdout.write(JSON.stringify({
      ok: report.ok,
      file,
      header: { version: report.header.version, seed: report.header.seed, startedAt: report.header.startedAt, wallAt: report.header.wallAt ?? report.header.startedAt, peerId: typeof peerId === 'string' ? peerId : null },
      inputs: report.inputs,
      outputs: report.outputs,
      deliveries: report.deliveries,
      ...(d !== undefined ? { divergence: { ...d, differences: differences(strip(d.expected), strip(d.actual)) } } : {}),
      ms: Math.round(ms * 100) / 100
    }) + '\n')
    return report.ok ? 0 : 1
  }
  const lines: string[] = []
  const counts = `${report.inputs.toLocaleString('en-US')} inputs, ${report.outputs.toLocaleString('en-US')} outputs, ${report.deliveries.toLocaleString('en-US')} deliveries`
  const recorded = `recorded by ${typeof peerId === 'string' ? peerId : 'an unknown node'} (seed ${report.header.seed}) at ${new Date(report.header.wallAt ?? report.header.startedAt).toISOString()}`
  if (d === undefined) {
    lines.push(`${file}: identical — ${counts} replayed in ${fmtMs(ms)} ms`)
    lines.push(`  ${recorded}`)
  } else {
    lines.push(`${file}: DIVERGED at seq ${d.seq}: ${d.reason}`)
    if (d.expected !== undefined || d.actual !== undefined) {
      lines.push(`  recorded: ${d.expected === undefined ? '(nothing)' : compact(strip(d.expected))}`)
      lines.push(`  replayed: ${d.actual === undefined ? '(nothing)' : compact(strip(d.actual))}`)
      if (d.expected !== undefined && d.actual !== undefined) {
        for (const diff of differences(strip(d.expected), strip(d.actual))) lines.push(`  differs:  ${diff}`)
      }
    }
    lines.push(`  ${recorded}; replay made ${counts} in ${fmtMs(ms)} ms`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return report.ok ? 0 : 1
}

type ExtraActors = NonNullable<NodeReplayOptions['extraActors']>

/** The --actors module: its default export (or `actors`), a function of the header or an array. */
async function loadActors (path: string): Promise<ExtraActors> {
  let mod: { default?: unknown, actors?: unknown }
  try {
    mod = await import(pathToFileURL(resolve(path)).href) as { default?: unknown, actors?: unknown }
  } catch (err) {
    throw new Error(`cannot load the actors module ${path}: ${errorLine(err)}`, { cause: err })
  }
  const exported = mod.default ?? mod.actors
  if (typeof exported === 'function') return exported as ExtraActors
  if (Array.isArray(exported)) return () => exported as ReturnType<ExtraActors>
  throw new Error(`the actors module ${path} exports no default function or array of actor definitions`)
}
