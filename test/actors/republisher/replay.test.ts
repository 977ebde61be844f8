/**
 * The republisher is inside the replay boundary: a trace recorded by a real
 * node — start-up scan, a timer-driven run, ipns.republish with force, its
 * store, key and DHT traffic — replays with the same outputs in the same order.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseTrace } from '../../../src/actors/runtime/trace-recorder.js'
import { createNode } from '../../../src/node/create-node.js'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { replayNodeTrace } from '../../../src/node/replay-node.js'
import { poll, status } from '../../node/support.js'
import type { Testnet } from '../../../src/node/create-testnet.js'
import '../../../src/messages/republish.js'

const HOUR = 3_600_000
const VALUE = '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('a recorded republisher', () => {
  let net: Testnet
  let dir: string

  beforeAll(async () => {
    net = await createTestnet({ nodes: 2, seed: 62_000 })
    dir = await mkdtemp(join(tmpdir(), 'swarmbus-republish-trace-'))
  }, 60_000)

  afterAll(async () => {
    await net?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  }, 30_000)

  it('replays identically', async () => {
    const file = join(dir, 'trace.jsonl')
    const node = await createNode({
      loopback: true,
      seed: 62_100,
      bootstrap: [net.nodes[0]?.multiaddrs[0] as string],
      trace: file,
      republish: { intervalMs: 1_000 }
    })
    try {
      await node.ask({ type: 'ipns.publish', value: VALUE, lifetimeMs: 23 * HOUR }, { timeoutMs: 30_000 })
      // the timer finds it due within one jittered second
      expect(await poll(async () => ((await status(node)).republish?.republished ?? 0) >= 1, 10_000, 50)).toBe(true)
      const forced = await node.ask({ type: 'ipns.republish', force: true }, { timeoutMs: 30_000 })
      expect(forced.republished).toHaveLength(1)
    } finally {
      await node.stop()
    }
    const text = await readFile(file, 'utf8')
    const { header, events } = parseTrace(text)
    expect((header.config as { actors: string[] }).actors).toContain('republisher')
    const asked = events.flatMap(e => e.dir === 'in' && e.type === 'ask' ? [(e.command as { type: string }).type] : [])
    expect(asked).toContain('ipns.republish')
    expect(events.some(e => e.dir === 'out' && e.type === 'deliver' && e.actor === 'republisher')).toBe(true)

    const report = await replayNodeTrace(text)
    expect(report.divergence).toBeUndefined()
    expect(report.ok).toBe(true)
  }, 60_000)
})
