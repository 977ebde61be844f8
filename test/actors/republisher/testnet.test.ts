/**
 * The republisher on a real 3-node TCP testnet on 127.0.0.1: a name published
 * with a lifetime under the 24 h threshold is due at once; ipns.republish signs
 * it again and puts it to the DHT; another node's uncached resolve then sees
 * the higher sequence and the same value. A name published with the default
 * 48 h lifetime is left alone. swarm.status shows the run. A node on a
 * LevelDB repo that published and stopped republishes the due name by itself
 * after a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../../src/node/create-node.js'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { poll, status } from '../../node/support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'
import '../../../src/messages/republish.js'

const HOUR = 3_600_000
const VALUE = '/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const OTHER = '/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

describe('republishing on a 3-node testnet', () => {
  let net: Testnet
  let a: SwarmNode
  let b: SwarmNode

  beforeAll(async () => {
    net = await createTestnet({ nodes: 3, seed: 61_000, settleTimeoutMs: 20_000 })
    a = net.nodes[0] as SwarmNode
    b = net.nodes[1] as SwarmNode
  }, 60_000)

  afterAll(async () => {
    await net?.stop()
  }, 30_000)

  it('ipns.republish re-signs the due name with the next sequence; another node resolves the new record with the same value', async () => {
    const pub = await a.ask({ type: 'ipns.publish', value: VALUE, lifetimeMs: 23 * HOUR, ttlMs: 60_000 }, { timeoutMs: 30_000 })
    expect(pub.sequence).toBe(0n)
    expect(pub.peers).toBeGreaterThan(0)
    const before = await b.ask({ type: 'ipns.resolve', name: pub.name, nocache: true }, { timeoutMs: 30_000 })
    expect(before).toMatchObject({ value: VALUE, sequence: 0n })

    // a second key, published with the default 48 h lifetime: not due
    await a.ask({ type: 'key.generate', name: 'fresh' }, { timeoutMs: 30_000 })
    const fresh = await a.ask({ type: 'ipns.publish', key: 'fresh', value: OTHER }, { timeoutMs: 30_000 })

    const rep = await a.ask({ type: 'ipns.republish' }, { timeoutMs: 60_000 })
    expect(rep.failed).toEqual([])
    expect(rep.skipped).toBe(1)
    expect(rep.republished).toHaveLength(1)
    expect(rep.republished[0]).toMatchObject({ name: pub.name, sequence: 1n })
    expect(rep.republished[0]?.peers).toBeGreaterThan(0)

    const after = await b.ask({ type: 'ipns.resolve', name: pub.name, nocache: true }, { timeoutMs: 30_000 })
    expect(after).toMatchObject({ value: VALUE, sequence: 1n, source: 'dht' })
    // the same lifetime and TTL as published: EOL ≈ now + 23 h, TTL 60 s
    expect(after.ttl).toBe(60_000_000_000n)
    const eol = Date.parse(after.validity)
    expect(eol).toBeGreaterThan(Date.now() + 22.9 * HOUR)
    expect(eol).toBeLessThanOrEqual(Date.now() + 23 * HOUR)

    // the fresh name is untouched
    const third = net.nodes[2] as SwarmNode
    const f = await third.ask({ type: 'ipns.resolve', name: fresh.name, nocache: true }, { timeoutMs: 30_000 })
    expect(f).toMatchObject({ value: OTHER, sequence: 0n })

    const s = await status(a)
    expect(s.republish).toMatchObject({ ready: true, running: false, republished: 1, failed: 0, tracked: 2, retrying: 0 })
    expect(s.republish?.lastRun).toMatchObject({ trigger: 'command', republished: 1, skipped: 1, failed: 0 })
    expect(s.republish?.nextRunAt).toBeGreaterThan(Date.now())
  }, 120_000)

  it('a node restarted on its repo finds the due name in its store and republishes it by itself', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmbus-republish-'))
    const opts = { repo: dir, loopback: true, passphrase: 'republish test', bootstrap: [a.multiaddrs[0] as string] }
    try {
      const first = await createNode({ ...opts, republish: false })
      let name: string
      try {
        const pub = await first.ask({ type: 'ipns.publish', value: OTHER, lifetimeMs: 20 * HOUR }, { timeoutMs: 30_000 })
        expect(pub.sequence).toBe(0n)
        name = pub.name
      } finally {
        await first.stop()
      }

      const again = await createNode({ ...opts, republish: { startDelayMs: 200 } })
      try {
        expect(await poll(async () => (await status(again)).republish?.lastRun != null, 20_000, 50)).toBe(true)
        const s = await status(again)
        expect(s.republish).toMatchObject({ ready: true, tracked: 1, retrying: 0 })
        expect(s.republish?.lastRun).toMatchObject({ trigger: 'timer', republished: 1, failed: 0 })
        const seen = await b.ask({ type: 'ipns.resolve', name, nocache: true }, { timeoutMs: 30_000 })
        expect(seen).toMatchObject({ value: OTHER, sequence: 1n })
      } finally {
        await again.stop()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
