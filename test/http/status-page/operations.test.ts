/**
 * The ring of recent IPNS operations: lifecycles from progress events (runs
 * of one state merged, router reports kept as their own steps), outcome and
 * duration at done / failed, the bounds (operations, steps, text), and the
 * duration histograms.
 */
import { describe, expect, it } from 'vitest'
import { DURATION_BOUNDS_MS, MAX_STEPS, MAX_TEXT, OperationRing, durationHistograms } from '../../../src/http/status-page/operations.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'

function clocks (): { wall: () => number, mono: () => number, advance: (ms: number) => void } {
  let t = 0
  return { wall: () => 1_700_000_000_000 + t, mono: () => t, advance: ms => { t += ms } }
}

const ev = (type: string, id: string, detail?: Record<string, unknown>): ProgressEvent => ({ type, actor: 'ipns', id, ...(detail !== undefined ? { detail } : {}) })

describe('OperationRing', () => {
  it('builds a lifecycle: states with offsets, merged runs, router notes, outcome and duration', () => {
    const c = clocks()
    const ring = new OperationRing(50, c)
    ring.observe(ev('ipns:resolve:querying', 'q1', { event: 'xstate.init' }))
    c.advance(3)
    ring.observe(ev('ipns:resolve:querying', 'q1', { event: 'VALUE' }))
    c.advance(2)
    ring.observe(ev('ipns:resolve:router', 'q1', { name: 'k51abc', endpoint: 'http://127.0.0.1:1', sequence: '4', value: '/ipfs/bafy' }))
    c.advance(5)
    ring.observe(ev('ipns:resolve:done', 'q1', { event: 'QUERY_DONE' }))
    ring.observe(ev('kad-dht:query:send-query', 'q1'))
    ring.observe(ev('ipns:publish:preparing.key', 'p1', { event: 'xstate.init' }))
    const s = ring.snapshot()
    expect(s.seen).toBe(2)
    expect(s.operations.map(o => o.id)).toEqual(['p1', 'q1'])
    const q = s.operations[1]
    expect(q).toMatchObject({ kind: 'resolve', name: 'k51abc', outcome: 'done', durationMs: 10, startedAt: 1_700_000_000_000 })
    expect(q?.steps).toEqual([
      { state: 'querying', events: ['xstate.init', 'VALUE'], atMs: 0, count: 2 },
      { state: 'router', events: [], atMs: 5, count: 1, note: 'sequence 4, /ipfs/bafy' },
      { state: 'done', events: ['QUERY_DONE'], atMs: 10, count: 1 }
    ])
    // the endpoint is not kept
    expect(JSON.stringify(s)).not.toContain('127.0.0.1')
    expect(s.operations[0]).toMatchObject({ kind: 'publish', outcome: 'running' })
    expect(s.operations[0]?.durationMs).toBeUndefined()
  })

  it('keeps the last `capacity` operations, counts the evicted, bounds steps and text', () => {
    const ring = new OperationRing(3, clocks())
    for (let i = 0; i < 5; i++) ring.observe(ev('ipns:publish:signing', `p${i}`))
    const s = ring.snapshot()
    expect(s).toMatchObject({ capacity: 3, seen: 5, evicted: 2 })
    expect(s.operations.map(o => o.id)).toEqual(['p4', 'p3', 'p2'])

    const long = new OperationRing(1, clocks())
    for (let i = 0; i < MAX_STEPS + 5; i++) long.observe(ev(`ipns:resolve:s${i % 2}`, 'x', { error: 'e'.repeat(MAX_TEXT * 2) }))
    const op = long.snapshot().operations[0]
    expect(op?.steps.length).toBe(MAX_STEPS)
    expect(op?.droppedSteps).toBe(5)
    expect(op?.steps[0]?.note?.length).toBe(MAX_TEXT + 1)
    expect(() => new OperationRing(0)).toThrow(RangeError)
  })

  it('a snapshot is a copy: later events do not change it', () => {
    const ring = new OperationRing(5, clocks())
    ring.observe(ev('ipns:resolve:querying', 'a'))
    const before = ring.snapshot()
    ring.observe(ev('ipns:resolve:failed', 'a', { event: 'QUERY_DONE' }))
    expect(before.operations[0]?.outcome).toBe('running')
    expect(ring.snapshot().operations[0]?.outcome).toBe('failed')
  })

  it('histograms count finished operations by kind and outcome into the bounds', () => {
    const c = clocks()
    const ring = new OperationRing(10, c)
    const run = (kind: string, id: string, ms: number, end: string): void => {
      ring.observe(ev(`ipns:${kind}:start`, id))
      c.advance(ms)
      ring.observe(ev(`ipns:${kind}:${end}`, id))
    }
    run('resolve', 'a', 0.5, 'done')
    run('resolve', 'b', 70, 'done')
    run('resolve', 'c', 20_000, 'done')
    run('resolve', 'd', 3, 'failed')
    run('publish', 'e', 7, 'done')
    ring.observe(ev('ipns:publish:signing', 'f'))
    const hs = durationHistograms(ring.snapshot().operations)
    expect(hs.map(h => `${h.kind}/${h.outcome}`)).toEqual(['resolve/done', 'resolve/failed', 'publish/done'])
    const counts = new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0)
    counts[0] = 1; counts[4] = 1; counts[DURATION_BOUNDS_MS.length] = 1
    expect(hs[0]).toMatchObject({ total: 3, counts, maxMs: 20_000 })
    expect(hs[2]?.counts[2]).toBe(1)
  })
})
