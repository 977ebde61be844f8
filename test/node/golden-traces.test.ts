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
  /** largest acceptable size (default 300 KB) */
  maxBytes?: number
}

const GOLDEN: Golden[] = [
  { file: 'put-get.jsonl', commands: ['swarm.bootstrap', 'swarm.status', 'dht.put', 'dht.get'] },
  { file: 'providers-and-peers.jsonl', commands: ['dht.provide', 'dht.findProviders', 'dht.closestPeers', 'dht.findPeer', 'swarm.dial', 'swarm.peers', 'swarm.status'] },
  { file: 'ipns-publish.jsonl', commands: ['ipns.publish'], maxBytes: 400 * 1024 },
  { file: 'ipns-resolve.jsonl', commands: ['ipns.resolve'], maxBytes: 400 * 1024 }
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
        expect(statSync(join(DIR, g.file)).size).toBeLessThan(g.maxBytes ?? 300 * 1024)
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

  it('the golden traces are of the current format (version 2, with the wall clock in the header)', () => {
    for (const g of GOLDEN) {
      const { header } = parseTrace(readFileSync(join(DIR, g.file), 'utf8'))
      expect(header.version, g.file).toBe(2)
      expect(header.wallAt, g.file).toBeGreaterThan(1_700_000_000_000)
    }
  })

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

  describe('IPNS', () => {
    type Transition = Extract<TraceEvent, { type: 'transition' }>
    type Ask = Extract<TraceEvent, { type: 'ask' }>

    /** the host asks of one command type, in order, with how each settled */
    function asks (events: TraceEvent[], type: string): Array<{ ask: Ask, settle: Settle | undefined, transitions: Transition[] }> {
      return events.flatMap(e => e.dir === 'in' && e.type === 'ask' && (e.command as { type: string }).type === type
        ? [{
            ask: e,
            settle: events.find((x): x is Settle => x.type === 'settle' && x.id === e.id),
            transitions: events.filter((x): x is Transition => x.type === 'transition' && x.id === e.id)
          }]
        : [])
    }

    it('ipns-publish: two publishes through every state, the second one sequence higher; a missing key, offline, out of time', () => {
      const { events } = read('ipns-publish.jsonl')
      const pubs = asks(events, 'ipns.publish')
      expect(pubs.length).toBe(6)
      const [first, second, missingKey, offline, late, later] = pubs
      for (const p of [first, second]) {
        expect(p?.settle?.ok).toBe(true)
        expect(p?.transitions.map(t => t.state)).toEqual(['{"preparing":"key"}', '{"preparing":"seen"}', '{"preparing":"seen"}', 'signing', 'storing', 'putting', 'done'])
        expect(p?.transitions.every(t => t.actor === 'ipns' && t.machine === 'publish')).toBe(true)
      }
      const value = (p: typeof first): { sequence: bigint, peers: number, name: string } => {
        const v = (p?.settle?.ok === true ? p.settle.value : {}) as { sequence: bigint | { $bigint: string }, peers: number, name: string }
        return { ...v, sequence: typeof v.sequence === 'bigint' ? v.sequence : BigInt(v.sequence?.$bigint ?? -1) }
      }
      expect(value(second).name).toBe(value(first).name)
      expect(value(second).sequence).toBe(value(first).sequence + 1n)
      expect(value(first).peers).toBeGreaterThan(0)
      expect(missingKey?.settle).toMatchObject({ ok: false, failure: { kind: 'not-found' } })
      expect(missingKey?.transitions.at(-1)?.state).toBe('failed')
      expect(offline?.settle?.ok).toBe(true)
      expect(value(offline)).toMatchObject({ peers: 0, sequence: value(second).sequence + 1n })
      expect(offline?.transitions.map(t => t.state)).not.toContain('putting')
      expect(late?.settle).toMatchObject({ ok: false, failure: { kind: 'timeout' } })
      expect(later?.settle).toMatchObject({ ok: false, failure: { kind: 'timeout' } })
    })

    it('ipns-resolve: uncached from the DHT, then cached, recursive with a sub-path, a missing name, out of time', () => {
      const { events } = read('ipns-resolve.jsonl')
      const res = asks(events, 'ipns.resolve')
      expect(res.length).toBe(5)
      const [uncached, cached, recursive, missing, late] = res
      const value = (r: typeof uncached): Record<string, unknown> => (r?.settle?.ok === true ? r.settle.value : {}) as Record<string, unknown>
      expect(value(uncached)).toMatchObject({ source: 'dht', hops: 1 })
      // the query went to the network, and each distinct record was verified
      expect(uncached?.transitions.map(t => t.state)).toContain('querying')
      expect(uncached?.transitions.map(t => t.event)).toEqual(expect.arrayContaining(['VALUE', 'VERIFIED']))
      expect(events.some(e => e.dir === 'in' && e.type === 'ask' && (e.command as { type: string }).type === 'dht.getValues')).toBe(false) // asked by the actor, not the host
      expect(value(cached)).toMatchObject({ source: 'cache', value: value(uncached).value, sequence: value(uncached).sequence })
      expect(value(recursive)).toMatchObject({ source: 'dht', hops: 2 })
      expect(String(value(recursive).value)).toMatch(/\/inner\/mid\/tail$/)
      expect(missing?.settle).toMatchObject({ ok: false, failure: { kind: 'not-found' } })
      expect(late?.settle).toMatchObject({ ok: false, failure: { kind: 'timeout' } })
    })

    it('ipns-resolve: a changed machine transition is caught at its seq', async () => {
      const { lines, events } = read('ipns-resolve.jsonl')
      const t = events.find((e): e is Extract<TraceEvent, { type: 'transition' }> & { seq: number } => e.type === 'transition' && e.machine === 'resolve' && e.state === 'done')
      expect(t).toBeDefined()
      if (t === undefined) return
      const report = await replayNodeTrace(mutate(lines, t.seq, ev => { ev.state = 'failed' }))
      expect(report.ok).toBe(false)
      expect(report.divergence?.seq).toBe(t.seq)
    })

    it('ipns-publish: a changed sequence in the reply is caught at that settle', async () => {
      const { lines, events } = read('ipns-publish.jsonl')
      const ids = new Set(asks(events, 'ipns.publish').map(p => p.ask.id))
      const s = events.find((e): e is Settle & { seq: number } => e.type === 'settle' && ids.has(e.id) && e.ok)
      expect(s).toBeDefined()
      if (s === undefined || !s.ok) return
      const report = await replayNodeTrace(mutate(lines, s.seq, ev => {
        const v = ev.value as Record<string, unknown>
        ev.value = { ...v, sequence: { $bigint: '999' } }
      }))
      expect(report.ok).toBe(false)
      expect(report.divergence?.seq).toBe(s.seq)
    })
  })
})
