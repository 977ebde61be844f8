/**
 * The answer cache in front of the resolve machines: a repeat of a resolve
 * whose whole answer is fresh is answered without starting a machine; a new
 * path or nocache runs the machine; the node's own publish forgets answers
 * through that name; concurrent publishes of one key are serialised.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import type { ProgressEvent } from '../../../src/actors/runtime/actor.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

let net: Testnet
beforeAll(async () => { net = await createTestnet({ nodes: 3, seed: 6161 }) }, 60_000)
afterAll(async () => { await net?.stop() })

describe('IPNS answer cache', () => {
  it('answers a repeated resolve without a machine, and a new path or nocache with one', async () => {
    const [a, b] = net.nodes
    const pub = await a!.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/one' })
    const events: ProgressEvent[] = []
    const off = b!.on('progress', e => { if (e.type.startsWith('ipns:resolve')) events.push(e) })
    try {
      const first = await b!.ask({ type: 'ipns.resolve', name: pub.name })
      expect(first.source).toBe('dht')
      const machineEvents = events.length
      expect(machineEvents).toBeGreaterThan(0)
      const again = await b!.ask({ type: 'ipns.resolve', name: pub.name })
      expect(again).toMatchObject({ value: '/ipfs/bafkqaaa/one', source: 'cache', sequence: first.sequence })
      expect(events.length).toBe(machineEvents) // no machine ran
      const withPath = await b!.ask({ type: 'ipns.resolve', name: `/ipns/${pub.name}/x` })
      expect(withPath).toMatchObject({ value: '/ipfs/bafkqaaa/one/x', source: 'cache' }) // the hop came from the cache …
      expect(events.length).toBeGreaterThan(machineEvents) // … through a machine
      const forced = await b!.ask({ type: 'ipns.resolve', name: pub.name, nocache: true })
      expect(forced.source).toBe('dht')
    } finally {
      off()
    }
  })

  it("forgets a name's answers when this node publishes it again", async () => {
    const [a] = net.nodes
    const first = await a!.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/v1' })
    expect((await a!.ask({ type: 'ipns.resolve', name: first.name })).value).toBe('/ipfs/bafkqaaa/v1')
    const second = await a!.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa/v2' })
    expect(second.sequence).toBe(first.sequence + 1n)
    const r = await a!.ask({ type: 'ipns.resolve', name: first.name })
    expect(r).toMatchObject({ value: '/ipfs/bafkqaaa/v2', sequence: second.sequence })
  })
})

describe('concurrent publishes of one key', () => {
  it('run one after another, each above the sequence the one before stored', async () => {
    const [, , c] = net.nodes
    const results = await Promise.all(['a', 'b', 'c', 'd'].map(async v => await c!.ask({ type: 'ipns.publish', value: `/ipfs/bafkqaaa/${v}`, offline: true })))
    const sequences = results.map(r => r.sequence).sort((x, y) => Number(x - y))
    expect(sequences).toEqual([0n, 1n, 2n, 3n])
    const resolved = await c!.ask({ type: 'ipns.resolve', name: results[0]!.name, offline: true })
    expect(resolved.sequence).toBe(3n)
    expect(resolved.value).toBe(results.find(r => r.sequence === 3n)?.value)
  })
})
