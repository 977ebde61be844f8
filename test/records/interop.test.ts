/**
 * Interop both ways with the npm `ipns` package (what Helia uses): its records
 * validate here with the same fields, ours pass its validator and unmarshal to
 * the same fields. Ed25519, RSA (2048 bits, the smallest go-libp2p accepts,
 * generated once) and secp256k1.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createIPNSRecord, marshalIPNSRecord, multihashToIPNSRoutingKey, unmarshalIPNSRecord } from 'ipns'
import { ipnsValidator, validate as ipnsValidate } from 'ipns/validator'
import { CID } from 'multiformats/cid'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRecord } from '../../src/records/create.js'
import { nameFromPublicKey } from '../../src/records/name.js'
import { checkRecord, validateRecord } from '../../src/records/validate.js'
import type { PrivateKey } from '@libp2p/interface'

const keys: Partial<Record<'Ed25519' | 'RSA' | 'secp256k1', PrivateKey>> = {}
const VALUE = '/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui/sub/path'

beforeAll(async () => {
  keys.Ed25519 = await generateKeyPair('Ed25519')
  keys.RSA = await generateKeyPair('RSA', 2048)
  keys.secp256k1 = await generateKeyPair('secp256k1')
}, 60_000)

describe('interop with the npm ipns package', () => {
  for (const type of ['Ed25519', 'RSA', 'secp256k1'] as const) {
    describe(type, () => {
      for (const v1Compatible of [true, false]) {
        const kind = v1Compatible ? 'V1+V2' : 'V2-only'

        it(`its ${kind} records validate here with the same fields`, async () => {
          const key = keys[type]!
          const record = await createIPNSRecord(key, VALUE, 42n, 3_600_000, { v1Compatible, ttlNs: 120_000_000_000n })
          const bytes = marshalIPNSRecord(record)
          const now = Date.now()
          const routingKey = multihashToIPNSRoutingKey(key.publicKey.toMultihash())
          for (const backend of ['noble', 'native'] as const) {
            const fields = validateRecord(routingKey, bytes, now, backend)
            expect(fields.value).toBe(record.value)
            expect(fields.sequence).toBe(record.sequence)
            expect(fields.validity).toBe(record.validity)
            expect(fields.ttl).toBe(record.ttl)
            expect(fields.hasPubKey).toBe(record.pubKey !== undefined)
            expect(fields.hasV1Signature).toBe('signatureV1' in record)
            expect(fields.keyType).toBe(type)
          }
          // and under the name in its text forms
          expect(validateRecord(nameFromPublicKey(key.publicKey).format('base58btc'), bytes, now).value).toBe(VALUE)
          // its expiry is ours too
          const expired = checkRecord(routingKey, bytes, Date.parse(record.validity) + 1)
          expect(expired.ok ? 'valid' : expired.error.code).toBe('expired')
        })

        it(`our ${kind} records pass its validator and unmarshal to the same fields`, async () => {
          const key = keys[type]!
          const now = Date.now()
          const created = await createRecord(key, VALUE, { now, sequence: 2n ** 55n + 3n, ttlNs: 3155760000000000000n, v1Compatible })
          const routingKey = multihashToIPNSRoutingKey(key.publicKey.toMultihash())
          expect(created.name.toRoutingKey()).toEqual(routingKey)
          await ipnsValidator(routingKey, created.bytes)
          await ipnsValidate(key.publicKey, created.bytes)
          const theirs = unmarshalIPNSRecord(created.bytes)
          expect(theirs.value).toBe(created.fields.value)
          expect(theirs.sequence).toBe(created.fields.sequence)
          expect(theirs.validity).toBe(created.fields.validity)
          expect(theirs.ttl).toBe(created.fields.ttl)
          expect(theirs.pubKey !== undefined).toBe(created.fields.hasPubKey)
          expect('signatureV1' in theirs).toBe(v1Compatible)
          // its marshaller reproduces our bytes exactly
          expect(marshalIPNSRecord(theirs)).toEqual(created.bytes)
        })
      }
    })
  }

  it('a record ours rejects as tampered, its validator rejects too', async () => {
    const key = keys.Ed25519!
    const created = await createRecord(key, VALUE, { now: Date.now() })
    const tampered = Uint8Array.from(created.bytes)
    tampered[tampered.length - 3]! ^= 0x01 // inside the CBOR data
    const ours = checkRecord(created.name, tampered, Date.now())
    expect(ours.ok).toBe(false)
    await expect(ipnsValidator(created.name.toRoutingKey(), tampered)).rejects.toThrow()
  })

  it('values given as CIDs become /ipfs/<cidv1> here as there', async () => {
    const key = keys.Ed25519!
    const cid = CID.parse('QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG')
    const theirs = await createIPNSRecord(key, cid, 1n, 60_000)
    const ours = await createRecord(key, cid, { now: Date.now() })
    expect(ours.fields.value).toBe(theirs.value)
  })
})
