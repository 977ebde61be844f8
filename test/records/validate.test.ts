/**
 * Every validation rule, each broken on its own in an otherwise well-signed
 * record, must be reported with its code; and the order of checks is the
 * documented one.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import * as cborg from 'cborg'
import { CID } from 'multiformats/cid'
import { beforeAll, describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/messages/errors.js'
import { encodeEntry } from '../../src/records/codec.js'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { VALIDATION_ERROR_CODES } from '../../src/records/errors.js'
import { nameFromPublicKey } from '../../src/records/name.js'
import { checkRecord, finishValidation, missingParts, prepareRecord, v1v2Differences, validateRecord } from '../../src/records/validate.js'
import { decodeEntry } from '../../src/records/codec.js'
import { decodeRecordData } from '../../src/records/cbor.js'
import { verifySignature } from '../../src/records/verify.js'
import { forgeRecord } from './helpers.js'
import type { RecordSigner } from '../../src/records/signer.js'
import type { PrivateKey } from '@libp2p/interface'

const NOW = Date.parse('2030-01-01T00:00:00Z')
const signer = generateEd25519Signer()
const other = generateEd25519Signer()
const name = nameFromPublicKey(signer.publicKey).toString()
let rsa1024: PrivateKey
let ecdsa: PrivateKey

beforeAll(async () => {
  rsa1024 = await generateKeyPair('RSA', 1024)
  ecdsa = await generateKeyPair('ECDSA')
})

function codeOf (n: string | Uint8Array, bytes: Uint8Array, now = NOW): string {
  const r = checkRecord(n, bytes, now)
  return r.ok ? 'valid' : r.error.code
}

const cbor = (doc: unknown): Uint8Array => cborg.encode(doc)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const goodData = {
  Value: text('/ipfs/bafkqaddwgevxmmraojswg33smq'),
  Validity: text('2123-01-01T00:00:00Z'),
  ValidityType: 0,
  Sequence: 1,
  TTL: 1
}

describe('validateRecord', () => {
  it('accepts a well-formed V1+V2 and V2-only record and returns its fields', async () => {
    for (const v1 of [true, false]) {
      const bytes = await forgeRecord(signer, { v1, sequence: 7n, ttl: 3155760000000000000n, validity: '2123-04-12T13:36:58.23727Z' })
      const fields = validateRecord(name, bytes, NOW)
      expect(fields).toEqual({
        value: '/ipfs/bafkqaddwgevxmmraojswg33smq',
        sequence: 7n,
        validity: '2123-04-12T13:36:58.23727Z',
        validityMs: Date.parse('2123-04-12T13:36:58.237Z'),
        validityNs: BigInt(Date.parse('2123-04-12T13:36:58Z')) * 1_000_000n + 237_270_000n,
        validityType: 0,
        ttl: 3155760000000000000n,
        keyType: 'Ed25519',
        hasPubKey: false,
        hasV1Signature: v1
      })
    }
  })

  it('bad-name: the name is not an IPNS name', async () => {
    expect(codeOf('example.com', await forgeRecord(signer))).toBe('bad-name')
    expect(codeOf(text('/pk/xyz'), await forgeRecord(signer))).toBe('bad-name')
  })

  it('too-large: more than 10 KiB, checked before parsing', async () => {
    expect(codeOf(name, new Uint8Array(10 * 1024 + 1).fill(0xff))).toBe('too-large')
    expect(codeOf(name, await forgeRecord(signer, { value: `/ipfs/bafkqaddwgevxmmraojswg33smq/${'a'.repeat(5000)}` }))).toBe('too-large')
    // exactly 10 KiB is parsed (and fails later for being garbage)
    expect(codeOf(name, new Uint8Array(10 * 1024).fill(0xff))).toBe('bad-protobuf')
  })

  it('bad-protobuf: not an IpnsEntry', () => {
    expect(codeOf(name, Uint8Array.from([0x0a, 0x05, 0x01]))).toBe('bad-protobuf')
    expect(codeOf(name, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('bad-protobuf')
    // validityType 7 is not a member of the enum
    expect(codeOf(name, Uint8Array.from([0x18, 0x07]))).toBe('bad-protobuf')
  })

  it('missing-signature-v2: a V1-only record, or an empty signatureV2', async () => {
    const bytes = await forgeRecord(signer)
    expect(codeOf(name, await forgeRecord(signer, { pb: { signatureV2: undefined, data: undefined } }))).toBe('missing-signature-v2')
    expect(codeOf(name, await forgeRecord(signer, { pb: { signatureV2: new Uint8Array(0) } }))).toBe('missing-signature-v2')
    expect(codeOf(name, new Uint8Array(0))).toBe('missing-signature-v2')
    expect(codeOf(name, bytes)).toBe('valid')
  })

  it('missing-data: signatureV2 without data', async () => {
    expect(codeOf(name, await forgeRecord(signer, { pb: { data: undefined } }))).toBe('missing-data')
    expect(codeOf(name, await forgeRecord(signer, { pb: { data: new Uint8Array(0) } }))).toBe('missing-data')
  })

  it('bad-pubkey: an embedded key that is not a usable libp2p key', async () => {
    expect(codeOf(name, await forgeRecord(signer, { pb: { pubKey: Uint8Array.from([1, 2, 3]) } }))).toBe('bad-pubkey')
    // RSA below 2048 bits, as go-libp2p refuses
    const weak = await forgeRecord(rsa1024, { embedPubKey: true })
    expect(codeOf(nameFromPublicKey(rsa1024.publicKey).toString(), weak)).toBe('bad-pubkey')
  })

  it('key-mismatch: the embedded key does not hash to the name', async () => {
    const bytes = await forgeRecord(other, { embedPubKey: true })
    expect(codeOf(name, bytes)).toBe('key-mismatch')
    expect(codeOf(nameFromPublicKey(other.publicKey).toString(), bytes)).toBe('valid')
    const ecdsaName = nameFromPublicKey(ecdsa.publicKey).toString()
    expect(codeOf(ecdsaName, await forgeRecord(other, { embedPubKey: true }))).toBe('key-mismatch')
  })

  it('missing-pubkey: a hashed name and no embedded key', async () => {
    const ecdsaName = nameFromPublicKey(ecdsa.publicKey).toString()
    expect(codeOf(ecdsaName, await forgeRecord(ecdsa))).toBe('missing-pubkey')
    expect(codeOf(ecdsaName, await forgeRecord(ecdsa, { embedPubKey: true }))).toBe('valid')
  })

  it('bad-cbor: data that is not the expected map', async () => {
    const cases: Uint8Array[] = [
      Uint8Array.from([0xa5, 0x63]), // truncated
      cbor([1, 2, 3]),
      cbor({ ...goodData, Value: '/ipfs/bafkqaddwgevxmmraojswg33smq' }), // text, not bytes
      cbor({ ...goodData, Sequence: -1 }),
      cbor({ ...goodData, TTL: 1.5 }),
      cbor({ Value: goodData.Value, Validity: goodData.Validity, ValidityType: 0, Sequence: 1 }), // no TTL
      Uint8Array.from([...cbor(goodData), 0x00]) // trailing byte
    ]
    for (const data of cases) {
      expect(codeOf(name, await forgeRecord(signer, { v1: false, data }))).toBe('bad-cbor')
    }
  })

  it('ignores extra CBOR fields, and reads bigint Sequence/TTL', async () => {
    const data = cbor({ ...goodData, Sequence: 2n ** 63n, TTL: 2n ** 64n - 1n, Extra: 'ignored', Z: [1] })
    const result = checkRecord(name, await forgeRecord(signer, { v1: false, data }), NOW)
    expect(result.ok && result.fields.sequence).toBe(2n ** 63n)
    expect(result.ok && result.fields.ttl).toBe(2n ** 64n - 1n)
  })

  it('bad-value: a Value that is neither a path nor a CID', async () => {
    expect(codeOf(name, await forgeRecord(signer, { value: 'hello world' }))).toBe('bad-value')
    // a CID string is accepted and normalised to /ipfs/<cidv1>, like the npm ipns package
    const v0 = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'
    const r = checkRecord(name, await forgeRecord(signer, { value: v0 }), NOW)
    expect(r.ok && r.fields.value).toBe(`/ipfs/${CID.parse(v0).toV1().toString()}`)
    expect(r.ok && r.fields.value).toMatch(/^\/ipfs\/bafybei/)
  })

  it('v1-v2-mismatch: any protobuf copy differing from CBOR', async () => {
    const overrides = [
      { value: text('/ipfs/bafkqaddwgevxmmraojswg33smp') },
      { validity: text('2123-01-01T00:00:00.6Z') },
      { sequence: 2n },
      { ttl: 300_000_000_001n },
      { value: undefined, signatureV1: Uint8Array.from([1]) }
    ]
    for (const pb of overrides) expect(codeOf(name, await forgeRecord(signer, { pb }))).toBe('v1-v2-mismatch')
  })

  it('v1v2Differences names every differing copy in order; validation reports the first', async () => {
    const bytes = await forgeRecord(signer, { pb: { sequence: 2n, ttl: 1n, value: text('/ipfs/bafkqaddwgevxmmraojswg33smp') } })
    const entry = decodeEntry(bytes)
    expect(v1v2Differences(entry, decodeRecordData(entry.data ?? new Uint8Array()))).toEqual(['value', 'sequence', 'ttl'])
    const r = checkRecord(name, bytes, NOW)
    expect(r.ok ? undefined : r.error.message).toBe('protobuf value differs from CBOR Value')
    const v2only = decodeEntry(await forgeRecord(signer, { v1: false }))
    expect(v1v2Differences(v2only, decodeRecordData(v2only.data ?? new Uint8Array()))).toEqual([])
  })

  it('missingParts lists both missing V2 parts; validation reports the first', () => {
    const bare = encodeEntry({ value: text('/ipfs/bafkqaddwgevxmmraojswg33smq') })
    expect(missingParts(decodeEntry(bare)).map(e => e.code)).toEqual(['missing-signature-v2', 'missing-data'])
    expect(codeOf(name, bare)).toBe('missing-signature-v2')
  })

  it('applies the V1/V2 check when only `value` is present, and reads absent copies as defaults', async () => {
    expect(codeOf(name, await forgeRecord(signer, { pb: { signatureV1: undefined, sequence: 2n } }))).toBe('v1-v2-mismatch')
    // signatureV1 present, protobuf sequence/ttl/validityType absent, CBOR Sequence 0 TTL 0: consistent
    const bytes = await forgeRecord(signer, { sequence: 0n, ttl: 0n, pb: { sequence: undefined, ttl: undefined, validityType: undefined } })
    expect(codeOf(name, bytes)).toBe('valid')
  })

  it('unknown-validity-type: ValidityType other than 0', async () => {
    expect(codeOf(name, await forgeRecord(signer, { v1: false, validityType: 1n }))).toBe('unknown-validity-type')
    // with V1 copies (which can only say EOL) the inconsistency is found first
    expect(codeOf(name, await forgeRecord(signer, { validityType: 1n }))).toBe('v1-v2-mismatch')
  })

  it('bad-validity: Validity that is not RFC 3339', async () => {
    for (const validity of ['tomorrow', '2123-02-30T00:00:00Z', '2123-01-01 00:00:00Z', '2123-01-01T00:00:00']) {
      expect(codeOf(name, await forgeRecord(signer, { validity })), validity).toBe('bad-validity')
    }
    for (const validity of ['2123-01-01T00:00:00Z', '2123-01-01T00:00:00.123456789Z', '2123-01-01T01:00:00+01:00']) {
      expect(codeOf(name, await forgeRecord(signer, { validity })), validity).toBe('valid')
    }
  })

  it('expired: EOL before now (nanosecond precision; EOL == now is still valid)', async () => {
    const bytes = await forgeRecord(signer, { validity: '2030-01-01T00:00:00.000000001Z' })
    expect(codeOf(name, bytes, NOW)).toBe('valid')
    expect(codeOf(name, bytes, NOW + 1)).toBe('expired')
    const exact = await forgeRecord(signer, { validity: '2030-01-01T00:00:00Z' })
    expect(codeOf(name, exact, NOW)).toBe('valid')
    expect(codeOf(name, exact, NOW + 1)).toBe('expired')
  })

  it('bad-signature: V2 over other bytes, or by another key; V1 never rescues it', async () => {
    expect(codeOf(name, await forgeRecord(signer, { signatureV2: new Uint8Array(64) }))).toBe('bad-signature')
    expect(codeOf(name, await forgeRecord(other))).toBe('bad-signature')
    const good = await forgeRecord(signer)
    const wrongV2 = await forgeRecord(signer, { signatureV2: await signer.sign(text('ipns-signature:something else')) })
    expect(codeOf(name, good)).toBe('valid')
    expect(codeOf(name, wrongV2)).toBe('bad-signature')
  })

  it('checks in the documented order: cheap checks before the signature', async () => {
    const expiredAndBadSig = await forgeRecord(signer, { validity: '2000-01-01T00:00:00Z', signatureV2: new Uint8Array(64) })
    expect(codeOf(name, expiredAndBadSig)).toBe('expired')
    const noDataAndBadKey = encodeEntry({ signatureV2: Uint8Array.from([1]), pubKey: Uint8Array.from([1]) })
    expect(codeOf(name, noDataAndBadKey)).toBe('missing-data')
    expect(codeOf('nope', new Uint8Array(20_000))).toBe('bad-name')
  })

  it('validateRecord throws InvalidRecordError with a documented code', async () => {
    const bad = await forgeRecord(other)
    let thrown: unknown
    try {
      validateRecord(name, bad, NOW)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(InvalidRecordError)
    expect((VALIDATION_ERROR_CODES as readonly string[]).includes((thrown as InvalidRecordError).code)).toBe(true)
    expect((thrown as InvalidRecordError).toFailure()).toEqual({ kind: 'invalid-record', message: 'signatureV2 does not verify', code: 'bad-signature' })
  })

  it('prepare + verifySignature + finishValidation equals validateRecord', async () => {
    const good = await forgeRecord(signer)
    const prepared = prepareRecord(name, good, NOW)
    expect(prepared.ok).toBe(true)
    if (!prepared.ok) return
    expect(new TextDecoder().decode(prepared.sigCheck.data.subarray(0, 15))).toBe('ipns-signature:')
    expect(prepared.sigCheck.publicKey).toEqual(signer.publicKey.raw)
    expect(finishValidation(prepared, verifySignature(prepared.sigCheck, 'noble'))).toEqual({ ok: true, fields: validateRecord(name, good, NOW) })
    const failed = finishValidation(prepared, false)
    expect(failed.ok ? 'valid' : failed.error.code).toBe('bad-signature')
  })

  it('rejects a non-finite `now` as a caller error', async () => {
    const good = await forgeRecord(signer)
    expect(() => prepareRecord(name, good, Number.NaN)).toThrow(TypeError)
  })
})

// keep the RecordSigner shape honest for libp2p keys
const _libp2pKeysAreSigners = (k: PrivateKey): RecordSigner => k
