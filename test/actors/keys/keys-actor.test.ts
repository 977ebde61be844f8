import { afterEach, describe, expect, it } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { keysActor } from '../../../src/actors/keys/keys-actor.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { RealClock } from '../../../src/platform/real-clock.js'
import { createNode } from '../../../src/node/create-node.js'
import type { KeyOps } from '../../../src/actors/keys/key-ops.js'

const systems: ActorSystem[] = []
afterEach(async () => { await Promise.all(systems.splice(0).map(async s => { await s.stop() })) })

async function keysSystem (open?: () => Promise<KeyOps>): Promise<ActorSystem> {
  const self = await generateKeyPair('Ed25519')
  const system = new ActorSystem({ clock: new RealClock() })
  systems.push(system)
  system.spawn(keysActor({ open: open ?? (async () => keystoreOps(await Keystore.open(new MemoryDatastore(), self, 'pw'))) }))
  return system
}

describe('keys actor', () => {
  it('serves key commands, holding those that arrive while the keystore opens', async () => {
    const system = await keysSystem()
    // asked before the keystore has opened: held, then served
    const [a, b] = await Promise.all([
      system.ask({ type: 'key.generate', name: 'a' }),
      system.ask({ type: 'key.generate', name: 'b', keyType: 'secp256k1' })
    ])
    expect(a.name).toBe('a')
    expect(b.type).toBe('secp256k1')
    expect((await system.ask({ type: 'key.list' })).keys.map(k => k.name)).toEqual(['self', 'a', 'b'])
  })

  it('rejects malformed commands before they reach the keystore, naming the field', async () => {
    let calls = 0
    const counting = async (): Promise<KeyOps> => {
      const ops = keystoreOps(await Keystore.open(new MemoryDatastore(), await generateKeyPair('Ed25519'), 'pw'))
      return new Proxy(ops, { get: (t, p) => { calls++; return t[p as keyof KeyOps] } })
    }
    const system = await keysSystem(counting)
    const cases: Array<[object, string]> = [
      [{ type: 'key.generate', name: '' }, 'name'],
      [{ type: 'key.generate', name: 'a/b' }, 'name'],
      [{ type: 'key.generate', name: 'a', keyType: 'DSA' }, 'keyType'],
      [{ type: 'key.generate', name: 'a', bits: 2048 }, 'bits'],
      [{ type: 'key.generate', name: 'a', keyType: 'RSA', bits: 1024 }, 'bits'],
      [{ type: 'key.rename', from: 'a', to: '' }, 'to'],
      [{ type: 'key.export', name: 'a', passphrase: '' }, 'passphrase'],
      [{ type: 'key.import', name: 'a', data: '', passphrase: 'x' }, 'data'],
      [{ type: 'record.create', value: '' }, 'value'],
      [{ type: 'record.create', value: '/ipfs/x', sequence: -1 }, 'sequence'],
      [{ type: 'record.create', value: '/ipfs/x', lifetimeMs: 0 }, 'lifetimeMs'],
      [{ type: 'record.create', value: '/ipfs/x', key: '..' }, 'key']
    ]
    for (const [cmd, field] of cases) {
      await expect(system.ask(cmd as { type: 'key.list' })).rejects.toMatchObject({ name: 'InvalidCommandError', field })
    }
    expect(calls).toBe(0)
  })

  it('fails a second change to a name that a running command is changing (busy), instead of racing', async () => {
    const system = await keysSystem()
    const results = await Promise.allSettled([
      system.ask({ type: 'key.generate', name: 'same' }),
      system.ask({ type: 'key.generate', name: 'same' })
    ])
    // the first is served; the second reaches the actor while the first still runs (both wait for the
    // keystore to open and are served in one turn), so it is refused as busy, never as a duplicate
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { name: 'same' } })
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { name: 'FailedError', message: expect.stringMatching(/'same' is busy/) } })
    expect((await system.ask({ type: 'key.list' })).keys.filter(k => k.name === 'same')).toHaveLength(1)
  })

  it('refuses the same change once the first has finished as a duplicate (InvalidCommandError), not as busy', async () => {
    const system = await keysSystem()
    await system.ask({ type: 'key.generate', name: 'same' })
    await expect(system.ask({ type: 'key.generate', name: 'same' })).rejects.toMatchObject({ name: 'InvalidCommandError' })
    expect((await system.ask({ type: 'key.list' })).keys.filter(k => k.name === 'same')).toHaveLength(1)
  })

  it('answers every command with the open failure when the keystore cannot open, without crashing', async () => {
    const system = await keysSystem(async () => { const e = new Error('wrong passphrase'); e.name = 'InvalidCommandError'; throw e })
    // a foreign error named like one of ours keeps its kind
    await expect(system.ask({ type: 'key.list' })).rejects.toMatchObject({ name: 'InvalidCommandError' })
    expect(system.status().actors.find(a => a.name === 'keys')?.restarts).toBe(0)
  })
})

describe('keys on a node with a directory repo', () => {
  const dirs: string[] = []
  afterEach(async () => { await Promise.all(dirs.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) })) })

  it('keeps keys, and the node identity, across a restart; a wrong passphrase fails createNode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swarmbus-keys-'))
    dirs.push(dir)
    let node = await createNode({ repo: dir, passphrase: 'first pass' })
    const peerId = node.peerId
    const k = await node.ask({ type: 'key.generate', name: 'site' })
    await node.stop()
    await expect(createNode({ repo: dir, passphrase: 'not it' })).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'passphrase' })
    node = await createNode({ repo: dir, passphrase: 'first pass' })
    try {
      expect(node.peerId).toBe(peerId)
      const keys = (await node.ask({ type: 'key.list' })).keys
      expect(keys.find(x => x.name === 'site')?.peerId).toBe(k.peerId)
      expect(keys.find(x => x.name === 'self')?.peerId).toBe(peerId)
      const rec = await node.ask({ type: 'record.create', key: 'site', value: '/ipfs/bafkqaaa' })
      expect(rec.name).toBe(k.ipnsName)
    } finally {
      await node.stop()
    }
  })
})
