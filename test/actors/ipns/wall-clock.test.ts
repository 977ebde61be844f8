/**
 * The IPNS actor's caches on a host whose clock steps: a cached answer is
 * fresh for its TTL in elapsed time and never past its record's EOL as a
 * date, so neither a sleep of hours, nor a step forward past the TTL, nor a
 * step backward keeps an entry alive beyond what its record allows; and the
 * records the repo keeps are stamped with the wall clock's date.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { answer, record, rig } from './fakes.js'
import { fields, HOUR, T0, testName } from './machine-helpers.js'
import type { IpnsRig } from './fakes.js'
import type { Tracked } from '../../helpers/sim.js'
import type { BaseCommand } from '../../../src/messages/commands.js'
import type { ResolveReply } from '../../../src/messages/ipns.js'

const A = testName(21)
const CID = 'bafkqaddwgevxmmraojswg33smq'
const resolveCmd = (name: string): BaseCommand => ({ type: 'ipns.resolve', name }) as BaseCommand

let live: IpnsRig | undefined
afterEach(async () => {
  await live?.system.stop()
  live = undefined
})

function source (t: Tracked): ResolveReply['source'] {
  const o = t.outcome
  if (o === undefined || !o.ok) throw new Error(`the resolve did not succeed: ${o === undefined ? 'unsettled' : o.error.message}`)
  return (o.value as ResolveReply).source
}

/** deliver and move virtual time through the timers due within ms (not beyond) */
async function runFor (r: IpnsRig, ms: number): Promise<void> {
  const end = r.clock.now() + ms
  for (let i = 0; i < 10_000; i++) {
    await r.h.flush()
    const next = r.clock.nextTimerAt()
    if (next === undefined || next > end) break
    r.clock.advanceTo(next)
  }
  r.clock.advanceTo(end)
  await r.h.flush()
}

/** a rig with one record for A (TTL 60 s unless given), resolved once so it is cached; `cachedAt` on the monotonic clock */
async function cachedRig (o: { ttlMs?: number, validityMs?: number } = {}): Promise<IpnsRig & { cachedAt: number }> {
  live = rig()
  const { world, h } = live
  const rec = record(world, 'r', fields(`/ipfs/${CID}`, 1, { ttlMs: o.ttlMs ?? 60_000, ...(o.validityMs !== undefined ? { validityMs: o.validityMs } : {}) }))
  answer(world, A, [[rec, 'p1']])
  const first = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
  await runFor(live, 100)
  expect(source(first)).toBe('dht')
  const hit = h.ask(resolveCmd(A), { timeoutMs: 10_000 })
  await h.flush()
  expect(source(hit)).toBe('cache')
  return { ...live, cachedAt: first.outcome?.at ?? Number.NaN }
}

async function resolveAgain (r: IpnsRig): Promise<Tracked> {
  const t = r.h.ask(resolveCmd(A), { timeoutMs: 10_000 })
  await r.h.flush()
  if (t.outcome === undefined) await runFor(r, 100)
  return t
}

describe('IPNS caches when the host clock steps', () => {
  it('a sleep of several hours: the cached answer is stale on waking, though no timer moved', async () => {
    const r = await cachedRig()
    r.clock.sleep(5 * HOUR)
    expect(source(await resolveAgain(r))).toBe('dht')
    expect(r.world.log.getValues).toHaveLength(2)
  })

  it('a step forward past the TTL: stale', async () => {
    const r = await cachedRig()
    r.clock.stepWall(61_000)
    expect(source(await resolveAgain(r))).toBe('dht')
  })

  it('a step forward within the TTL: still fresh', async () => {
    const r = await cachedRig()
    r.clock.stepWall(30_000)
    expect(source(await resolveAgain(r))).toBe('cache')
  })

  it('a step backward does not stretch the TTL: stale once the TTL has elapsed', async () => {
    const r = await cachedRig()
    r.clock.stepWall(-HOUR)
    await runFor(r, r.cachedAt + 59_999 - r.clock.now())
    expect(source(await resolveAgain(r))).toBe('cache')
    await runFor(r, 1)
    expect(source(await resolveAgain(r))).toBe('dht')
  })

  it('a step forward past the record EOL (a date): stale even within its TTL', async () => {
    const r = await cachedRig({ ttlMs: 24 * HOUR, validityMs: T0 + 2 * HOUR })
    r.clock.stepWall(2 * HOUR)
    expect(source(await resolveAgain(r))).toBe('dht')
  })

  it('stored records are stamped with the wall clock date, after a sleep too', async () => {
    const r = await cachedRig()
    // no step yet: the wall clock reads the monotonic one's number (the rig starts both at T0)
    expect(r.world.store.get(`resolved|${A}`)?.receivedAt).toBe(r.cachedAt)
    r.clock.sleep(7 * HOUR)
    const again = r.h.ask({ type: 'ipns.resolve', name: A, nocache: true } as BaseCommand, { timeoutMs: 10_000 })
    await runFor(r, 100)
    expect(source(again)).toBe('dht')
    expect(r.world.store.get(`resolved|${A}`)?.receivedAt).toBe((again.outcome?.at ?? 0) + 7 * HOUR)
  })
})
