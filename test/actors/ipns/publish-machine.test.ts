/**
 * The publish machine on its own: effects recorded, events sent by the test.
 */
import { describe, expect, it } from 'vitest'
import { nextSequence } from '../../../src/actors/ipns/publish-machine.js'
import { drivePublish, testName } from './machine-helpers.js'
import type { CreatedRecordReply } from '../../../src/messages/records.js'
import type { PublishDriver } from './machine-helpers.js'

const NAME = testName(7)

const created = (sequence: bigint): CreatedRecordReply => ({
  name: NAME, record: new Uint8Array([1, 2, 3]), value: '/ipfs/bafkqaaa', sequence, validity: '2030-01-03T00:00:00Z'
})

function upToSigning (d: PublishDriver, seen: Array<bigint | undefined> = [undefined, undefined]): void {
  d.actor.send({ type: 'KEY', name: NAME })
  for (const s of seen) d.actor.send({ type: 'SEEN', sequence: s })
}

describe('publish machine', () => {
  it('key → seen → signing → storing → putting → done, one effect per state', () => {
    const d = drivePublish({ value: '/ipfs/bafkqaaa' })
    expect(d.states).toEqual(['preparing', '{"preparing":"key"}'])
    expect(d.effects).toEqual(['loadKey'])
    d.actor.send({ type: 'KEY', name: NAME })
    expect(d.state()).toBe('{"preparing":"seen"}')
    expect(d.actor.getSnapshot().context.name).toBe(NAME)
    expect(d.effects).toEqual(['loadKey', 'loadSeen'])
    d.actor.send({ type: 'SEEN', sequence: 3n })
    // both lookups (published, resolved) must answer first
    expect(d.state()).toBe('{"preparing":"seen"}')
    d.actor.send({ type: 'SEEN', sequence: undefined })
    expect(d.state()).toBe('signing')
    expect(d.actor.getSnapshot().context.seen).toBe(3n)
    d.actor.send({ type: 'SIGNED', created: created(4n) })
    expect(d.state()).toBe('storing')
    d.actor.send({ type: 'STORED' })
    expect(d.state()).toBe('putting')
    expect(d.effects).toEqual(['loadKey', 'loadSeen', 'sign', 'store', 'put'])
    d.actor.send({ type: 'PUT', peers: 17 })
    expect(d.states).toEqual(['preparing', '{"preparing":"key"}', '{"preparing":"seen"}', 'signing', 'storing', 'putting', 'done'])
    const snap = d.actor.getSnapshot()
    expect(snap.status).toBe('done')
    expect(snap.context.result).toEqual({ name: NAME, value: '/ipfs/bafkqaaa', sequence: 4n, record: new Uint8Array([1, 2, 3]), peers: 17 })
    expect(snap.context.failure).toBeUndefined()
  })

  it('the next sequence is one above the highest seen (published or resolved), 0 for a new name', () => {
    expect(nextSequence(undefined)).toBe(0n)
    expect(nextSequence(0n)).toBe(1n)
    expect(nextSequence(2n ** 64n - 2n)).toBe(2n ** 64n - 1n)
    for (const [seen, highest] of [[[undefined, undefined], undefined], [[5n, undefined], 5n], [[undefined, 9n], 9n], [[7n, 3n], 7n], [[3n, 7n], 7n]] as const) {
      const d = drivePublish()
      upToSigning(d, [...seen])
      expect(d.state()).toBe('signing')
      expect(d.actor.getSnapshot().context.seen).toBe(highest)
      expect(nextSequence(d.actor.getSnapshot().context.seen)).toBe(highest === undefined ? 0n : highest + 1n)
    }
  })

  it('a missing key fails in preparing: nothing is looked up, signed, stored or put', () => {
    const d = drivePublish({ key: 'nope' })
    d.actor.send({ type: 'FAILED', failure: { kind: 'not-found', message: "no key named 'nope'" } })
    expect(d.states).toEqual(['preparing', '{"preparing":"key"}', 'failed'])
    expect(d.effects).toEqual(['loadKey'])
    const snap = d.actor.getSnapshot()
    expect(snap.status).toBe('done')
    expect(snap.context.failure).toMatchObject({ kind: 'not-found' })
    expect(snap.context.result).toBeUndefined()
  })

  it('a failed lookup of seen sequences fails the publish before signing', () => {
    const d = drivePublish()
    d.actor.send({ type: 'KEY', name: NAME })
    d.actor.send({ type: 'SEEN', sequence: 1n })
    d.actor.send({ type: 'FAILED', failure: { kind: 'failed', message: 'datastore closed' } })
    expect(d.state()).toBe('failed')
    expect(d.effects).not.toContain('sign')
  })

  it('a sign failure: nothing stored or put', () => {
    const d = drivePublish()
    upToSigning(d)
    d.actor.send({ type: 'FAILED', failure: { kind: 'invalid-record', code: 'bad-value', message: 'bad value' } })
    expect(d.states.slice(-2)).toEqual(['signing', 'failed'])
    expect(d.effects).toEqual(['loadKey', 'loadSeen', 'sign'])
    expect(d.actor.getSnapshot().context.failure).toMatchObject({ code: 'bad-value' })
  })

  it('a store failure: never put to the DHT (nothing is published that is not durable here)', () => {
    const d = drivePublish()
    upToSigning(d)
    d.actor.send({ type: 'SIGNED', created: created(0n) })
    d.actor.send({ type: 'FAILED', failure: { kind: 'failed', message: 'disk full' } })
    expect(d.states.slice(-2)).toEqual(['storing', 'failed'])
    expect(d.effects).not.toContain('put')
    expect(d.actor.getSnapshot().context.result).toBeUndefined()
  })

  it('a put failure fails the publish (the record stays stored)', () => {
    const d = drivePublish()
    upToSigning(d)
    d.actor.send({ type: 'SIGNED', created: created(0n) })
    d.actor.send({ type: 'STORED' })
    d.actor.send({ type: 'FAILED', failure: { kind: 'timeout', message: 'deadline exceeded' } })
    expect(d.states.slice(-3)).toEqual(['storing', 'putting', 'failed'])
    expect(d.actor.getSnapshot().context.failure).toMatchObject({ kind: 'timeout' })
    expect(d.actor.getSnapshot().context.result).toBeUndefined()
  })

  it('offline: done once stored, with no put and 0 peers', () => {
    const d = drivePublish({ offline: true })
    upToSigning(d, [2n, 2n])
    d.actor.send({ type: 'SIGNED', created: created(3n) })
    d.actor.send({ type: 'STORED' })
    expect(d.states.slice(-3)).toEqual(['signing', 'storing', 'done'])
    expect(d.effects).toEqual(['loadKey', 'loadSeen', 'sign', 'store'])
    expect(d.actor.getSnapshot().context.result).toMatchObject({ sequence: 3n, peers: 0 })
  })

  it('events out of turn change nothing', () => {
    const d = drivePublish()
    d.actor.send({ type: 'SEEN', sequence: 99n })
    d.actor.send({ type: 'SIGNED', created: created(100n) })
    d.actor.send({ type: 'STORED' })
    d.actor.send({ type: 'PUT', peers: 3 })
    expect(d.state()).toBe('{"preparing":"key"}')
    expect(d.actor.getSnapshot().context.seen).toBeUndefined()
    upToSigning(d)
    d.actor.send({ type: 'STORED' })
    d.actor.send({ type: 'PUT', peers: 3 })
    expect(d.state()).toBe('signing')
    d.actor.send({ type: 'SIGNED', created: created(0n) })
    d.actor.send({ type: 'PUT', peers: 3 })
    expect(d.state()).toBe('storing')
    expect(d.effects).toEqual(['loadKey', 'loadSeen', 'sign', 'store'])
  })
})
