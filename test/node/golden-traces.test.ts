/**
 * Golden traces recorded from real loopback testnet runs
 * (scripts/record-golden-traces.ts, `npm run record-traces`) replay without a
 * network: the real actors on a simulated clock, fed the recorded inputs,
 * must produce exactly the recorded outputs. A copy with one output changed
 * must be reported as diverging at that output's sequence number.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseTrace } from '../../src/actors/runtime/trace-recorder.js'
import { replayNodeTrace, replayNodeTraceFile } from '../../src/node/replay-node.js'
import type { TraceEvent } from '../../src/actors/runtime/trace-events.js'

const DIR = join(import.meta.dirname, '..', 'fixtures', 'traces')

interface Golden {
  file: string
  /** command types the recorded scenario asked */
  commands: string[]
}

const GOLDEN: Golden[] = [
  { file: 'put-get.jsonl', commands: ['swarm.bootstrap', 'swarm.status', 'dht.put', 'dht.get'] },
  { file: 'providers-and-peers.jsonl', commands: ['dht.provide', 'dht.findProviders', 'dht.closestPeers', 'dht.findPeer', 'swarm.dial', 'swarm.peers', 'swarm.status'] }
]

type Settle = Extract<TraceEvent, { type: 'settle' }>

function read (file: string): { text: string, lines: string[], events: TraceEvent[] } {
  const text = readFileSync(join(DIR, file), 'utf8')
  return { text, lines: text.split('\n').filter(l => l !== ''), events: parseTrace(text).events }
}

/** Replace the event with this seq in the JSONL text. */
function mutate (lines: string[], seq: number, change: (ev: Record<string, unknown>) => void): string {
  let hit = 0
  const out = lines.map(line => {
    const ev = JSON.parse(line) as Record<string, unknown>
    if (ev.seq !== seq) return line
    hit++
    change(ev)
    return JSON.stringify(ev)
  })
  expect(hit).toBe(1)
  return out.join('\n') + '\n'
}

describe('golden traces from real testnet runs', () => {
  for (const g of GOLDEN) {
    describe(g.file, () => {
      it('is a small real recording: asks of the scenario, libp2p completions, at least one timeout', () => {
        const { events } = read(g.file)
        expect(statSync(join(DIR, g.file)).size).toBeLessThan(300 * 1024)
        const asked = new Set(events.flatMap(e => e.dir === 'in' && e.type === 'ask' ? [(e.command as { type: string }).type] : []))
        for (const c of g.commands) expect(asked, c).toContain(c)
        expect(events.filter(e => e.dir === 'in' && e.type === 'external').length).toBeGreaterThan(10)
        const settles = events.filter((e): e is Settle & { seq: number } => e.type === 'settle')
        expect(settles.some(s => !s.ok && s.failure.kind === 'timeout')).toBe(true)
        expect(events.some(e => e.dir === 'in' && e.type === 'timer')).toBe(true)
        expect(settles.some(s => s.ok)).toBe(true)
      })

      it('replays with ok: true and the recorded number of inputs and outputs', async () => {
        const { events } = read(g.file)
        const inputs = events.filter(e => e.dir === 'in').length
        const outputs = events.filter(e => e.dir === 'out').length
        const report = await replayNodeTraceFile(join(DIR, g.file))
        expect(report.divergence).toBeUndefined()
        expect(report.ok).toBe(true)
        expect(report.inputs).toBeGreaterThan(0)
        expect(report.inputs).toBe(inputs)
        expect(report.outputs).toBe(outputs)
        expect(report.deliveries).toBe(events.filter(e => e.type === 'deliver').length)
        expect(report.header.config.peerId).toMatch(/^12D3KooW/)
      })

      it('a copy with one reply value changed diverges at that output\'s seq', async () => {
        const { lines, events } = read(g.file)
        // the last successful reply of the recording that carries a value
        const target = events.filter((e): e is Settle & { seq: number } => e.type === 'settle' && e.ok && e.value !== null && typeof e.value === 'object').at(-1)
        expect(target).toBeDefined()
        if (target === undefined || !target.ok) return
        const text = mutate(lines, target.seq, ev => {
          ev.value = { ...(ev.value as Record<string, unknown>), mutated: true }
        })
        const report = await replayNodeTrace(text)
        expect(report.ok).toBe(false)
        expect(report.divergence?.seq).toBe(target.seq)
        expect(report.divergence?.reason).toBe('the output differs')
      })
    })
  }

  it('put-get: changing the peer count of the put reply is caught at that settle', async () => {
    const { lines, events } = read('put-get.jsonl')
    const putIds = new Set(events.flatMap(e => e.dir === 'in' && e.type === 'ask' && (e.command as { type: string }).type === 'dht.put' ? [e.id] : []))
    const put = events.find((e): e is Settle & { seq: number } => e.type === 'settle' && putIds.has(e.id) && e.ok)
    expect(put).toBeDefined()
    if (put === undefined || !put.ok) return
    const peers = (put.value as { peers: number }).peers
    expect(peers).toBeGreaterThan(0)
    const report = await replayNodeTrace(mutate(lines, put.seq, ev => { ev.value = { peers: peers + 1 } }))
    expect(report.ok).toBe(false)
    expect(report.divergence?.seq).toBe(put.seq)
    expect(report.divergence?.expected).toMatchObject({ value: { peers: peers + 1 } })
    expect(report.divergence?.actual).toMatchObject({ value: { peers } })
  })

  it('providers-and-peers: changing a streamed provider is caught at that item', async () => {
    const { lines, events } = read('providers-and-peers.jsonl')
    const item = events.find(e => e.type === 'item')
    expect(item).toBeDefined()
    if (item === undefined || item.type !== 'item') return
    const report = await replayNodeTrace(mutate(lines, item.seq, ev => {
      ev.item = { ...(ev.item as Record<string, unknown>), peerId: '12D3KooWPT98FXMfDQYavZm66EeVjTqP9Nnehn1gyaydqV8L8BQw' }
    }))
    expect(report.ok).toBe(false)
    expect(report.divergence?.seq).toBe(item.seq)
  })
})
