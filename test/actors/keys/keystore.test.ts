import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { Keystore } from '../../../src/actors/keys/keystore.js'
import { validateRecord } from '../../../src/records/validate.js'
import { keystoreOps } from '../../../src/actors/keys/key-ops.js'
import type { PrivateKey } from '@libp2p/interface'

const self = await generateKeyPair('Ed25519')

async function open (ds = new MemoryDatastore(), pass: string | undefined = 'pass phrase', key: PrivateKey = self): Promise<{ ds: MemoryDatastore, ks: Keystore }> {
  return { ds, ks: await Keystore.open(ds, key, pass) }
}

const rejects = async (p: Promise<unknown>, name: string, extra: Record<string, unknown> = {}): Promise<void> => {
  await expect(p).rejects.toMatchObject({ name, ...extra })
}

describe('keystore', () => {
  it('generates, lists, renames, removes keys; self is always first and protected', async () => {
    const { ks } = await open()
    const a = await ks.generate('alice')
    expect(a).toMatchObject({ name: 'alice', type: 'Ed25519' })
    expect(a.ipnsName).toMatch(/^k51/)
    await ks.generate('rsa', 'RSA', 2048)
    await ks.generate('k1', 'secp256k1')
    await ks.generate('ec', 'ECDSA')
    expect((await ks.list()).map(k => [k.name, k.type])).toEqual([['self', 'Ed25519'], ['alice', 'Ed25519'], ['ec', 'ECDSA'], ['k1', 'secp256k1'], ['rsa', 'RSA']])
    const renamed = await ks.rename('alice', 'carol')
    expect(renamed.peerId).toBe(a.peerId)
    expect((await ks.list()).map(k => k.name)).toEqual(['self', 'carol', 'ec', 'k1', 'rsa'])
    expect(await ks.remove('carol')).toMatchObject({ name: 'carol', peerId: a.peerId })
    await rejects(ks.remove('carol'), 'NotFoundError')
    await rejects(ks.rename('self', 'x'), 'InvalidCommandError', { field: 'from' })
    await rejects(ks.remove('self'), 'InvalidCommandError', { field: 'name' })
    await rejects(ks.generate('self'), 'InvalidCommandError', { field: 'name' })
  })

  it('refuses duplicates and bad names without writing anything', async () => {
    const { ds, ks } = await open()
    await ks.generate('a')
    await ks.generate('b')
    const before = await countKeys(ds)
    await rejects(ks.generate('a'), 'InvalidCommandError', { field: 'name' })
    await rejects(ks.rename('a', 'b'), 'InvalidCommandError', { field: 'name' })
    await rejects(ks.generate('../evil'), 'InvalidCommandError', { field: 'name' })
    await rejects(ks.generate(''), 'InvalidCommandError')
    expect(await countKeys(ds)).toBe(before)
    // both keys are intact after the failed rename
    expect((await ks.privateKey('a')).type).toBe('Ed25519')
    expect((await ks.privateKey('b')).type).toBe('Ed25519')
  })

  it('seals key material: the datastore never holds a private key in clear', async () => {
    const { ds, ks } = await open()
    await ks.generate('secret')
    const raw = (await ks.privateKey('secret')).raw
    for await (const { value } of ds.query({})) {
      expect(Buffer.from(value).includes(Buffer.from(raw))).toBe(false)
      expect(Buffer.from(value).includes(Buffer.from(raw.subarray(0, 32)))).toBe(false)
    }
  })

  it('opens again with the right passphrase, refuses a wrong one, and is locked without one', async () => {
    const { ds, ks } = await open()
    const info = await ks.generate('k')
    const again = await Keystore.open(ds, self, 'pass phrase')
    expect((await again.list()).find(k => k.name === 'k')?.peerId).toBe(info.peerId)
    await rejects(Keystore.open(ds, self, 'wrong'), 'InvalidCommandError', { field: 'passphrase' })
    const locked = await Keystore.open(ds, self, undefined)
    expect(locked.locked).toBe(true)
    expect((await locked.list()).map(k => k.name)).toEqual(['self', 'k'])
    await rejects(locked.privateKey('k'), 'InvalidCommandError', { field: 'passphrase' })
    await rejects(locked.generate('n'), 'InvalidCommandError', { field: 'passphrase' })
    await rejects(Keystore.open(ds, self, ''), 'InvalidCommandError', { field: 'passphrase' })
  })

  it('exports to an encrypted document that imports elsewhere; wrong passphrase and tampering fail', async () => {
    const { ks } = await open()
    const info = await ks.generate('k', 'secp256k1')
    const doc = await ks.export('k', 'export pw')
    expect(JSON.parse(doc)).toMatchObject({ format: 'swarmbus-key', version: 1, keyType: 'secp256k1', peerId: info.peerId })
    expect(doc).not.toContain(Buffer.from((await ks.privateKey('k')).raw).toString('base64'))
    const other = (await open(new MemoryDatastore(), 'other', await generateKeyPair('Ed25519'))).ks
    await rejects(other.import('k', doc, 'nope'), 'InvalidCommandError', { field: 'passphrase' })
    const tampered = JSON.parse(doc) as { sealed: { data: string } }
    const bytes = Buffer.from(tampered.sealed.data, 'base64')
    bytes[0] = (bytes[0] ?? 0) ^ 1
    tampered.sealed.data = bytes.toString('base64')
    await rejects(other.import('k', JSON.stringify(tampered), 'export pw'), 'InvalidCommandError')
    await rejects(other.import('k', 'not json', 'export pw'), 'InvalidCommandError', { field: 'data' })
    await rejects(other.import('k', '{"format":"x"}', 'export pw'), 'InvalidCommandError', { field: 'data' })
    const imported = await other.import('k', doc, 'export pw')
    expect(imported).toMatchObject({ name: 'k', type: 'secp256k1', peerId: info.peerId })
    expect((await other.privateKey('k')).equals(await ks.privateKey('k'))).toBe(true)
    // self exports too
    const selfDoc = await ks.export('self', 'pw')
    expect(JSON.parse(selfDoc).peerId).toBe((await ks.list())[0]?.peerId)
  })

  it('signs records with a named key (V1+V2 by default, V2-only on request)', async () => {
    const { ks } = await open()
    const info = await ks.generate('pub')
    const ops = keystoreOps(ks)
    const now = 1_800_000_000_000
    const rec = await ops.createRecord({ type: 'record.create', key: 'pub', value: '/ipfs/bafkqaaa', sequence: 7n, ttlMs: 1000 }, now)
    expect(rec.name).toBe(info.ipnsName)
    const fields = validateRecord(rec.name, rec.record, now)
    expect(fields).toMatchObject({ value: '/ipfs/bafkqaaa', sequence: 7n, ttl: 1_000_000_000n, hasV1Signature: true })
    const v2 = await ops.createRecord({ type: 'record.create', key: 'pub', value: '/ipfs/bafkqaaa', v2Only: true }, now)
    expect(validateRecord(rec.name, v2.record, now).hasV1Signature).toBe(false)
    await expect(ops.createRecord({ type: 'record.create', key: 'missing', value: '/ipfs/bafkqaaa' }, now)).rejects.toMatchObject({ name: 'NotFoundError' })
  })
})

async function countKeys (ds: MemoryDatastore): Promise<number> {
  let n = 0
  for await (const _ of ds.queryKeys({ prefix: new Key('/swarmbus/keys').toString() + '/' })) n++
  return n
}

describe('locked keystore', () => {
  it('refuses to remove a named key without the passphrase', async () => {
    const { ds, ks } = await open()
    await ks.generate('keep')
    const locked = await Keystore.open(ds, self, undefined)
    await expect(locked.remove('keep')).rejects.toMatchObject({ name: 'InvalidCommandError', field: 'passphrase' })
    expect((await locked.list()).map(k => k.name)).toContain('keep')
  })
})
