/**
 * The resolve machine on its own: no actor, no network, no clock. Effects
 * are recorded, events come from the test, and each test asserts the path
 * through the lifecycle and the effects it asked for.
 */
import { describe, expect, it, vi } from 'vitest'
import { MAX_HOPS } from '../../../src/actors/ipns/resolve-machine.js'
import { bytesOf, driveResolve, resultOf, fields, HOUR, keyOf, T0, testName } from './machine-helpers.js'
import type { HopResult } from '../../../src/actors/ipns/resolve-machine.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'
import type { Failure } from '../../../src/messages/failure.js'

const A = testName(1)
const B = testName(2)
const C = testName(3)
const CID = 'bafkqaddwgevxmmraojswg33smq'

const result = resultOf

function failureOf (d: ReturnType<typeof driveResolve>): Failure {
  const snap = d.actor.getSnapshot()
  expect(snap.status).toBe('done')
  expect(snap.value).toBe('failed')
  expect(snap.context.result).toBeUndefined()
  const f = snap.context.failure
  if (f === undefined) throw new Error('no failure')
  return f
}

/** Events sent to a machine that has finished: XState ignores them (and says so on the console). */
function afterTheEnd (send: () => void): void {
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  try {
    send()
    expect(warn).toHaveBeenCalled()
  } finally {
    warn.mockRestore()
  }
}

const cachedHop = (name: string, value: string, sequence = 1): HopResult => ({
  name, record: bytesOf(`${name}:${value}`), fields: fields(value, sequence), source: 'cache', stale: []
})

describe('resolve machine: lookup', () => {
  it('an uncached name goes lookup → reading → querying: the repo first, then one query for it', () => {
    const d = driveResolve({ name: A })
    expect(d.states).toEqual(['lookup', 'reading', 'querying'])
    expect(d.effects).toEqual([{ effect: 'readRepo', name: A, hops: 0 }, { effect: 'startQuery', name: A, hops: 0, offline: false }])
    expect(d.actor.getSnapshot().status).toBe('active')
  })

  it('a cached hop goes lookup → hopResolved → done without any query', () => {
    const d = driveResolve({ name: A }, new Map([[A, cachedHop(A, `/ipfs/${CID}`, 7)]]))
    expect(d.states).toEqual(['lookup', 'hopResolved', 'done'])
    expect(d.count('startQuery')).toBe(0)
    expect(d.count('readRepo')).toBe(0)
    expect(d.count('takeCached')).toBe(1)
    expect(d.count('keep')).toBe(0) // a cache hit is not stored or corrected again
    expect(result(d)).toEqual({ value: `/ipfs/${CID}`, sequence: 7n, validity: new Date(T0 + 48 * HOUR).toISOString(), ttl: 300_000_000_000n, source: 'cache', hops: 1 })
  })

  it('offline: the cache answers first', () => {
    const d = driveResolve({ name: A, offline: true }, new Map([[A, cachedHop(A, `/ipfs/${CID}`, 2)]]))
    expect(d.states).toEqual(['lookup', 'hopResolved', 'done'])
    expect(result(d)).toMatchObject({ sequence: 2n, source: 'cache' })
  })

  it('offline: the stored records, whatever their TTL, answered with source local and no query', () => {
    const d = driveResolve({ name: A, offline: true }, new Map(), { repo: 'manual' })
    expect(d.effects).toEqual([{ effect: 'readRepo', name: A, hops: 0 }])
    d.stored('stored', T0 - 48 * HOUR) // long past its 5 min TTL
    d.repoEnd(T0)
    expect(d.state(), 'waits for the verdict').toBe('reading')
    d.verified('stored', fields(`/ipfs/${CID}`, 3))
    expect(d.states).toEqual(['lookup', 'reading', 'selecting', 'hopResolved', 'done'])
    expect(d.count('startQuery')).toBe(0)
    expect(result(d)).toMatchObject({ value: `/ipfs/${CID}`, sequence: 3n, source: 'local', hops: 1 })
    const kept = d.effects.find(e => e.effect === 'keep')
    expect(kept).toMatchObject({ hop: { source: 'local', stale: [], receivedAt: T0 - 48 * HOUR } })
  })

  // found by the IPNS simulation (test/sim/ipns-simulation.test.ts, seed 27): with quorum 1 the
  // first stored record verified was the answer, though the other one was newer
  it('offline: the quorum plays no part; the best of the stored records is the answer', () => {
    const d = driveResolve({ name: A, offline: true, quorum: 1 }, new Map(), { repo: 'manual' })
    d.stored('published')
    d.stored('resolved')
    d.repoEnd()
    d.verified('published', fields(`/ipfs/${CID}/published`, 2))
    expect(d.state(), 'still waiting for the other stored record').toBe('reading')
    d.verified('resolved', fields(`/ipfs/${CID}/resolved`, 6))
    expect(result(d)).toMatchObject({ value: `/ipfs/${CID}/resolved`, sequence: 6n, source: 'local' })
  })

  it('offline with nothing stored: not-found that says so, and no query', () => {
    const d = driveResolve({ name: A, offline: true })
    expect(failureOf(d)).toMatchObject({ kind: 'not-found', message: expect.stringContaining('offline') })
    expect(d.count('startQuery')).toBe(0)
  })
})

describe('resolve machine: querying', () => {
  it('every distinct record is sent for verification; the quorum of valid answers ends the query', () => {
    const d = driveResolve({ name: A, quorum: 3 })
    d.value('r1', 'p1')
    d.value('r2', 'p2')
    d.value('r3', 'p3')
    expect(d.effects.filter(e => e.effect === 'verify').map(e => e.effect === 'verify' ? e.key : '')).toEqual([keyOf('r1'), keyOf('r2'), keyOf('r3')])
    d.verified('r1', fields('/ipfs/one', 1))
    d.verified('r2', fields('/ipfs/two', 2))
    expect(d.state()).toBe('querying')
    expect(d.count('stopQuery')).toBe(0)
    d.verified('r3', fields('/ipfs/three', 1))
    // quorum: stop the query at once, do not wait for its end
    expect(d.count('stopQuery')).toBe(1)
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'hopResolved', 'done'])
    expect(result(d)).toMatchObject({ value: '/ipfs/two', sequence: 2n, source: 'dht', hops: 1 })
    // the peers that answered with something else get the best record back
    const kept = d.effects.find(e => e.effect === 'keep')
    expect(kept?.effect === 'keep' && [...kept.hop.stale].sort()).toEqual(['p1', 'p3'])
  })

  it('the same record from several peers is verified once and counts once per peer toward the quorum', () => {
    const d = driveResolve({ name: A, quorum: 3 })
    d.value('same', 'p1')
    d.value('same', 'p2')
    d.verified('same', fields('/ipfs/x', 4))
    // valid answers: p1 and p2
    expect(d.state()).toBe('querying')
    d.value('same', 'p3')
    // p3 joins a record already valid: the third valid answer
    expect(d.count('stopQuery')).toBe(1)
    expect(result(d)).toMatchObject({ value: '/ipfs/x', sequence: 4n })
    const kept = d.effects.find(e => e.effect === 'keep')
    expect(kept?.effect === 'keep' && kept.hop.stale).toEqual([])
  })

  it('a peer that repeats its answer is not counted twice toward the quorum', () => {
    const d = driveResolve({ name: A, quorum: 2 })
    d.value('same', 'p1')
    d.value('same', 'p1')
    d.verified('same', fields('/ipfs/x', 1))
    expect(d.state()).toBe('querying')
    d.value('same', 'p1')
    expect(d.state()).toBe('querying')
    expect(d.count('stopQuery')).toBe(0)
    d.value('same', 'p2')
    expect(result(d)).toMatchObject({ value: '/ipfs/x' })
  })

  it('query end with some valid records: waits for outstanding verdicts, then picks the best valid one', () => {
    const d = driveResolve({ name: A })
    d.value('good', 'p1')
    d.value('forged', 'p2')
    d.value('pending', 'p3')
    d.verified('good', fields('/ipfs/good', 2))
    d.rejected('forged', 'bad-signature')
    d.end()
    // one verdict still outstanding: the query has ended but the machine waits
    expect(d.state()).toBe('querying')
    expect(d.actor.getSnapshot().context.queryEnded).toBe(true)
    d.verified('pending', fields('/ipfs/older', 1))
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'hopResolved', 'done'])
    expect(d.count('stopQuery')).toBe(0) // nothing to stop: the query ended by itself
    expect(result(d)).toMatchObject({ value: '/ipfs/good', sequence: 2n, source: 'dht' })
  })

  it('query end with no valid record: not-found, naming how many records were invalid', () => {
    const d = driveResolve({ name: A })
    d.value('bad1', 'p1')
    d.value('bad2', 'p2')
    d.rejected('bad1', 'bad-signature')
    d.rejected('bad2', 'expired')
    d.end()
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'failed'])
    const f = failureOf(d)
    expect(f.kind).toBe('not-found')
    expect(f.message).toContain('2 invalid')
    expect(d.count('keep')).toBe(0)
  })

  it('query end with nothing at all: not-found; a timed-out or aborted query keeps its failure', () => {
    const none = driveResolve({ name: A })
    none.end()
    expect(failureOf(none)).toMatchObject({ kind: 'not-found' })
    expect(failureOf(none).message).not.toContain('invalid')

    const failed = driveResolve({ name: A })
    failed.end({ kind: 'failed', message: 'no peers' })
    expect(failureOf(failed)).toMatchObject({ kind: 'not-found' })

    const timedOut = driveResolve({ name: A })
    timedOut.end({ kind: 'timeout', message: 'deadline exceeded' })
    expect(failureOf(timedOut)).toEqual({ kind: 'timeout', message: 'deadline exceeded' })

    const aborted = driveResolve({ name: A })
    aborted.end({ kind: 'aborted', message: 'cancelled' })
    expect(failureOf(aborted)).toMatchObject({ kind: 'aborted' })
  })

  it('soft deadline with a valid record: stops the query and answers with the best so far', () => {
    const d = driveResolve({ name: A })
    d.value('good', 'p1')
    d.value('slow', 'p2')
    d.verified('good', fields('/ipfs/good', 5))
    d.soft()
    expect(d.count('stopQuery')).toBe(1)
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'hopResolved', 'done'])
    expect(result(d)).toMatchObject({ value: '/ipfs/good', sequence: 5n })
    // a verdict that arrives later changes nothing
    afterTheEnd(() => { d.verified('slow', fields('/ipfs/better', 9)) })
    expect(result(d)).toMatchObject({ value: '/ipfs/good', sequence: 5n })
  })

  it('soft deadline without a valid record: not-found before the ask times out', () => {
    const d = driveResolve({ name: A })
    d.value('slow', 'p1')
    d.soft()
    expect(d.count('stopQuery')).toBe(1)
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'failed'])
    expect(failureOf(d).kind).toBe('not-found')
  })

  it('invalid and rejected candidates are never selected, whatever their sequence; verdicts for unknown or settled records are ignored', () => {
    const d = driveResolve({ name: A })
    d.value('valid-low', 'p1')
    d.value('forged-high', 'p2')
    d.rejected('forged-high', 'bad-signature')
    // a second verdict for a record already judged, and one for a record nobody sent
    d.verified('forged-high', fields('/ipfs/evil', 99))
    d.verified('never-sent', fields('/ipfs/evil', 100))
    d.verified('valid-low', fields('/ipfs/ok', 1))
    d.end()
    expect(result(d)).toMatchObject({ value: '/ipfs/ok', sequence: 1n })
    const ctx = d.actor.getSnapshot().context
    expect(ctx.candidates.size).toBe(2)
    expect(ctx.candidates.get(keyOf('forged-high'))?.state).toBe('invalid')
    const kept = d.effects.find(e => e.effect === 'keep')
    expect(kept?.effect === 'keep' && kept.hop.stale).toEqual(['p2'])
  })

  it('events that do not belong to querying are ignored once the machine is done', () => {
    const d = driveResolve({ name: A, quorum: 1 })
    d.value('r', 'p1')
    d.verified('r', fields('/ipfs/r', 1))
    const before = result(d)
    afterTheEnd(() => {
      d.value('other', 'p2')
      d.end()
      d.soft()
    })
    expect(result(d)).toEqual(before)
    expect(d.count('verify')).toBe(1)
  })
})

describe('resolve machine: selection', () => {
  const select = (answers: Array<[string, ReturnType<typeof fields>]>): ResolveReply => {
    const d = driveResolve({ name: A })
    answers.forEach(([label], i) => { d.value(label, `p${i}`) })
    for (const [label, f] of [...answers].reverse()) d.verified(label, f)
    d.end()
    return result(d)
  }

  it('the higher sequence wins, whatever the order and the EOL', () => {
    expect(select([
      ['s1', fields('/ipfs/s1', 1, { validityMs: T0 + 100 * HOUR })],
      ['s3', fields('/ipfs/s3', 3, { validityMs: T0 + 1 * HOUR })],
      ['s2', fields('/ipfs/s2', 2, { validityMs: T0 + 50 * HOUR })]
    ]).value).toBe('/ipfs/s3')
  })

  it('on equal sequences the later EOL wins', () => {
    expect(select([
      ['early', fields('/ipfs/early', 4, { validityMs: T0 + 10 * HOUR })],
      ['late', fields('/ipfs/late', 4, { validityMs: T0 + 20 * HOUR })],
      ['mid', fields('/ipfs/mid', 4, { validityMs: T0 + 15 * HOUR })]
    ]).value).toBe('/ipfs/late')
  })

  it('on equal sequence and EOL a V2-only record wins over one that also carries V1', () => {
    expect(select([
      ['v1', fields('/ipfs/v1', 4, { v1: true })],
      ['v2', fields('/ipfs/v2', 4, { v1: false })]
    ]).value).toBe('/ipfs/v2')
    expect(select([
      ['v2', fields('/ipfs/v2', 4, { v1: false })],
      ['v1', fields('/ipfs/v1', 4, { v1: true })]
    ]).value).toBe('/ipfs/v2')
  })
})

describe('resolve machine: recursion', () => {
  it('follows /ipns/ values hop by hop, joining every sub-path in order', () => {
    const d = driveResolve({ name: A, rest: '/from/caller' })
    d.value('a', 'p1')
    d.verified('a', fields(`/ipns/${B}/from/a`, 1))
    d.end()
    // the second hop: a fresh query for B, nothing carried over
    expect(d.effects.filter(e => e.effect === 'startQuery')).toEqual([
      { effect: 'startQuery', name: A, hops: 0, offline: false },
      { effect: 'startQuery', name: B, hops: 1, offline: false }
    ])
    const ctx = d.actor.getSnapshot().context
    expect(ctx.candidates.size).toBe(0)
    expect(ctx.valid).toBe(0)
    expect(ctx.queryEnded).toBe(false)
    expect(ctx.rest).toBe('/from/a/from/caller')
    d.value('b', 'p2')
    d.verified('b', fields(`/ipfs/${CID}/from/b`, 2))
    d.end()
    expect(d.states).toEqual(['lookup', 'reading', 'querying', 'selecting', 'hopResolved', 'lookup', 'reading', 'querying', 'selecting', 'hopResolved', 'done'])
    expect(result(d)).toMatchObject({ value: `/ipfs/${CID}/from/b/from/a/from/caller`, sequence: 2n, hops: 2, source: 'dht' })
    expect(d.count('keep')).toBe(2)
  })

  it('a cached hop followed by a DHT hop reports source dht', () => {
    const d = driveResolve({ name: A }, new Map([[A, cachedHop(A, `/ipns/${B}`)]]))
    expect(d.effects.filter(e => e.effect === 'startQuery')).toEqual([{ effect: 'startQuery', name: B, hops: 1, offline: false }])
    d.value('b', 'p1')
    d.verified('b', fields(`/ipfs/${CID}`, 1))
    d.end()
    expect(result(d)).toMatchObject({ value: `/ipfs/${CID}`, source: 'dht', hops: 2 })
  })

  it('recursive: false answers with the /ipns/ value itself', () => {
    const d = driveResolve({ name: A, recursive: false, rest: '/x' })
    d.value('a', 'p1')
    d.verified('a', fields(`/ipns/${B}/y`, 1))
    d.end()
    expect(result(d)).toMatchObject({ value: `/ipns/${B}/y/x`, hops: 1 })
    expect(d.count('startQuery')).toBe(1)
  })

  it(`a chain of exactly ${MAX_HOPS} records resolves`, () => {
    const names = Array.from({ length: MAX_HOPS }, (_, i) => testName(100 + i))
    const cache = new Map(names.map((n, i) => [n, cachedHop(n, i === names.length - 1 ? `/ipfs/${CID}` : `/ipns/${names[i + 1]}/${i}`)]))
    const d = driveResolve({ name: names[0] as string }, cache)
    const r = result(d)
    expect(r.hops).toBe(MAX_HOPS)
    expect(r.value).toBe(`/ipfs/${CID}/${Array.from({ length: MAX_HOPS - 1 }, (_, i) => MAX_HOPS - 2 - i).join('/')}`)
  })

  it(`a loop (a → b → a) fails with too-many-hops after ${MAX_HOPS} records`, () => {
    const d = driveResolve({ name: A }, new Map([[A, cachedHop(A, `/ipns/${B}`)], [B, cachedHop(B, `/ipns/${A}`)]]))
    const f = failureOf(d)
    expect(f).toMatchObject({ kind: 'invalid-record', code: 'too-many-hops' })
    expect(d.actor.getSnapshot().context.hops).toBe(MAX_HOPS)
    expect(d.count('takeCached')).toBe(MAX_HOPS)
    expect(d.count('startQuery')).toBe(0)
  })

  it('a loop through the network fails the same way', () => {
    const d = driveResolve({ name: A })
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      expect(d.state()).toBe('querying')
      d.value(`h${hop}`, 'p1')
      d.verified(`h${hop}`, fields(`/ipns/${hop % 2 === 0 ? B : A}`, hop))
      d.end()
    }
    expect(failureOf(d)).toMatchObject({ kind: 'invalid-record', code: 'too-many-hops' })
    expect(d.count('startQuery')).toBe(MAX_HOPS)
  })

  it('a value under /ipns/ that is not a name fails with bad-value (no query for it)', () => {
    for (const bad of ['/ipns/not-a-name', '/ipns/QmNotBase58!', `/ipns/${C.slice(0, 20)}`]) {
      const d = driveResolve({ name: A })
      d.value('a', 'p1')
      d.verified('a', fields(bad, 1))
      d.end()
      expect(failureOf(d), bad).toMatchObject({ kind: 'invalid-record', code: 'bad-value' })
      expect(d.count('startQuery'), bad).toBe(1)
    }
  })

  it('a non-recursive resolve returns such a value as it is', () => {
    const d = driveResolve({ name: A, recursive: false })
    d.value('a', 'p1')
    d.verified('a', fields('/ipns/not-a-name/x', 1))
    d.end()
    expect(result(d).value).toBe('/ipns/not-a-name/x')
  })
})
