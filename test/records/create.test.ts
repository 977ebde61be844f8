import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import * as cborg from 'cborg'
import { CID } from 'multiformats/cid'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { InvalidRecordError } from '../../src/messages/errors.js'
import { decodeRecordData } from '../../src/records/cbor.js'
import { decodeEntry } from '../../src/records/codec.js'
import { createRecord, DEFAULT_LIFETIME_MS, DEFAULT_TTL_NS } from '../../src/records/create.js'
import { ed25519Signer, generateEd25519Signer } from '../../src/records/ed25519.js'
import { nameFromPublicKey, parseName } from '../../src/records/name.js'
import { checkRecord, validateRecord } from '../../src/records/validate.js'

const NOW = Date.parse('2026-03-01T12:00:00.123Z')
const CID_V1 = 'bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui'

async function codeOf (fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof InvalidRecordError) return err.code
    throw err
  }
  return undefined
}

describe('createRecord', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('defaults: V1+V2, 48 h lifetime, 5 min TTL, sequence 0, EOL in RFC3339Nano', async () => {
    const signer = generateEd25519Signer()
    const created = await createRecord(signer, `/ipfs/${CID_V1}`, { now: NOW })
    expect(DEFAULT_LIFETIME_MS).toBe(48 * 3600 * 1000)
    expect(DEFAULT_TTL_NS).toBe(300_000_000_000n)
    expect(created.fields.validity).toBe('2026-03-03T12:00:00.123Z')
    expect(created.fields.validityMs).toBe(NOW + DEFAULT_LIFETIME_MS)
    expect(created.fields.ttl).toBe(300_000_000_000n)
    expect(created.fields.sequence).toBe(0n)
    expect(created.fields.hasV1Signature).toBe(true)
    expect(created.name.equals(nameFromPublicKey(signer.publicKey))).toBe(true)
    const entry = decodeEntry(created.bytes)
    expect(Object.keys(entry).sort()).toEqual(['data', 'sequence', 'signatureV1', 'signatureV2', 'ttl', 'validity', 'validityType', 'value'])
    expect(new TextDecoder().decode(entry.value)).toBe(`/ipfs/${CID_V1}`)
    expect(validateRecord(created.name, created.bytes, NOW)).toEqual(created.fields)
  })

  it('writes DAG-CBOR keys in canonical (length-first) order, as kubo does', async () => {
    const created = await createRecord(generateEd25519Signer(), `/ipfs/${CID_V1}`, { now: NOW })
    const data = decodeEntry(created.bytes).data!
    expect(Object.keys(cborg.decode(data) as Record<string, unknown>)).toEqual(['TTL', 'Value', 'Sequence', 'Validity', 'ValidityType'])
    expect(decodeRecordData(data).validityType).toBe(0n)
  })

  it('V2-only records carry just signatureV2 and data', async () => {
    const created = await createRecord(generateEd25519Signer(), `/ipfs/${CID_V1}/a/b`, { now: NOW, v1Compatible: false, sequence: 5n })
    expect(Object.keys(decodeEntry(created.bytes)).sort()).toEqual(['data', 'signatureV2'])
    expect(created.fields.hasV1Signature).toBe(false)
    expect(validateRecord(created.name, created.bytes, NOW).value).toBe(`/ipfs/${CID_V1}/a/b`)
  })

  it('formats the EOL like Go RFC3339Nano: trailing zeros dropped, nanoseconds kept', async () => {
    const signer = generateEd25519Signer()
    const at = async (now: number, lifetimeMs: number): Promise<string> => (await createRecord(signer, `/ipfs/${CID_V1}`, { now, lifetimeMs })).fields.validity
    expect(await at(Date.parse('2026-01-01T00:00:00Z'), 0)).toBe('2026-01-01T00:00:00Z')
    expect(await at(Date.parse('2026-01-01T00:00:00.100Z'), 0)).toBe('2026-01-01T00:00:00.1Z')
    expect(await at(Date.parse('2026-01-01T00:00:00Z'), 0.000123)).toBe('2026-01-01T00:00:00.000000123Z')
    expect(await at(Date.parse('2026-01-01T00:00:00Z'), 1.5)).toBe('2026-01-01T00:00:00.0015Z')
  })

  it('keeps sequence and TTL beyond 2^53 exact', async () => {
    const created = await createRecord(generateEd25519Signer(), `/ipfs/${CID_V1}`, { now: NOW, sequence: 2n ** 60n + 1n, ttlNs: 3155760000000000000n })
    const fields = validateRecord(created.name, created.bytes, NOW)
    expect(fields.sequence).toBe(2n ** 60n + 1n)
    expect(fields.ttl).toBe(3155760000000000000n)
    expect(decodeEntry(created.bytes).sequence).toBe(2n ** 60n + 1n)
  })

  it('expires exactly after its lifetime', async () => {
    const created = await createRecord(generateEd25519Signer(), `/ipfs/${CID_V1}`, { now: NOW, lifetimeMs: 60_000 })
    expect(checkRecord(created.name, created.bytes, NOW + 60_000).ok).toBe(true)
    const late = checkRecord(created.name, created.bytes, NOW + 60_001)
    expect(late.ok ? 'valid' : late.error.code).toBe('expired')
  })

  it('validates and normalises values', async () => {
    const signer = generateEd25519Signer()
    const ipnsName = nameFromPublicKey(generateEd25519Signer().publicKey)
    const ok: Array<[string | CID, string]> = [
      [`/ipfs/${CID_V1}`, `/ipfs/${CID_V1}`],
      ['/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/readme.md', '/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/readme.md'],
      [`/ipns/${ipnsName.toString()}`, `/ipns/${ipnsName.toString()}`],
      [`/ipns/${ipnsName.format('base58btc')}/x`, `/ipns/${ipnsName.format('base58btc')}/x`],
      ['/ipns/docs.ipfs.tech/how-to', '/ipns/docs.ipfs.tech/how-to'],
      [CID.parse('QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'), `/ipfs/${CID.parse('QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG').toV1().toString()}`],
      [ipnsName.toCID(), `/ipns/${ipnsName.toString()}`]
    ]
    for (const [value, expected] of ok) {
      const created = await createRecord(signer, value, { now: NOW })
      expect(created.fields.value).toBe(expected)
      expect(validateRecord(created.name, created.bytes, NOW).value).toBe(expected)
    }
    for (const value of ['hello', '/ipfs/notacid', '/ipns/', '/ipfs/', '/foo/bar', `/ipfs/${CID_V1}/a\nb`, '/ipns/not_a_domain', 'ipfs/' + CID_V1]) {
      expect(await codeOf(() => createRecord(signer, value, { now: NOW })), value).toBe('bad-value')
    }
  })

  it('rejects bad sequence, TTL and lifetime', async () => {
    const signer = generateEd25519Signer()
    const v = `/ipfs/${CID_V1}`
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, sequence: -1n }))).toBe('bad-sequence')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, sequence: 2n ** 64n }))).toBe('bad-sequence')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, sequence: 1.5 }))).toBe('bad-sequence')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, ttlNs: -1n }))).toBe('bad-ttl')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, lifetimeMs: -1 }))).toBe('bad-lifetime')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, lifetimeMs: 1e15 }))).toBe('bad-lifetime')
    expect(await codeOf(() => createRecord(signer, v, { now: NOW, sequence: 2n ** 64n - 1n }))).toBeUndefined()
  })

  it('embeds the public key only when it cannot be inlined (RSA, ECDSA)', async () => {
    const rsa = await generateKeyPair('RSA', 2048)
    for (const key of [rsa, await generateKeyPair('ECDSA'), await generateKeyPair('secp256k1'), await generateKeyPair('Ed25519')]) {
      const created = await createRecord(key, `/ipfs/${CID_V1}`, { now: NOW })
      const inline = key.type === 'Ed25519' || key.type === 'secp256k1'
      expect(created.fields.hasPubKey, key.type).toBe(!inline)
      expect(created.name.inlinesKey, key.type).toBe(inline)
      expect(validateRecord(created.name.format('base58btc'), created.bytes, NOW).keyType).toBe(key.type)
    }
  })

  it('the noble Ed25519 signer matches libp2p keys from the same seed', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i)
    const noble = ed25519Signer(seed)
    const libp2p = await generateKeyPairFromSeed('Ed25519', seed)
    expect(noble.publicKey.equals(libp2p.publicKey)).toBe(true)
    const a = await createRecord(noble, `/ipfs/${CID_V1}`, { now: NOW })
    const b = await createRecord(libp2p, `/ipfs/${CID_V1}`, { now: NOW })
    expect(a.bytes).toEqual(b.bytes)
  })

  it('never reads the clock', async () => {
    const clock = (): never => { throw new Error('record code read the clock') }
    vi.spyOn(Date, 'now').mockImplementation(clock)
    vi.spyOn(performance, 'now').mockImplementation(clock)
    const created = await createRecord(generateEd25519Signer(), `/ipfs/${CID_V1}`, { now: NOW })
    expect(validateRecord(parseName(created.name.toString()).name, created.bytes, NOW).validityMs).toBe(NOW + DEFAULT_LIFETIME_MS)
  })
})
