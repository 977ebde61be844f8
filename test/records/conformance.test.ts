/**
 * The 15 records of shared/conformance/ipns/manifest.json, each checked the way
 * the manifest says: against its name, at the real time (the valid ones last
 * until 2123 or later; the kubo record expired in 2024), with both Ed25519
 * backends, and through prepare + worker-style batch verification.
 */
import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry } from '../../src/records/codec.js'
import { decodeRecordData, encodeRecordData } from '../../src/records/cbor.js'
import { parseName } from '../../src/records/name.js'
import { checkRecord, prepareRecord } from '../../src/records/validate.js'
import { createInlineVerifier } from '../../src/workers/verify-pool.js'
import { manifest, recordBytes } from './helpers.js'

const now = Date.now()

/** the rule each invalid vector breaks, from its manifest `reason` */
const EXPECTED_CODES: Record<string, string> = {
  _v1: 'missing-signature-v2',
  '_v1-v2-broken-v1-value': 'v1-v2-mismatch',
  '_v1-v2-broken-signature-v2': 'bad-signature',
  '_kubo-record': 'expired'
}

function suffix (file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1).replace('.ipns-record', '')
  const i = base.indexOf('_')
  return i === -1 ? '' : base.slice(i)
}

describe('conformance/ipns/manifest.json', () => {
  const entries = manifest()

  it('has the 15 records (11 valid, 4 invalid)', () => {
    expect(entries).toHaveLength(15)
    expect(entries.filter(e => e.expected === 'valid')).toHaveLength(11)
  })

  for (const entry of entries) {
    const label = entry.file.slice(entry.file.lastIndexOf('/') + 1)
    describe(label, () => {
      const bytes = recordBytes(entry)

      for (const backend of ['noble', 'native'] as const) {
        it(`is ${entry.expected} (${backend})`, () => {
          const result = checkRecord(entry.name, bytes, now, backend)
          expect(result.ok ? 'valid' : 'invalid').toBe(entry.expected)
          if (result.ok) {
            expect(result.fields.value).toBe(entry.value)
            expect(result.fields.sequence).toBe(BigInt(entry.sequence))
            expect(result.fields.validity).toBe(entry.validity)
            expect(result.fields.validityMs).toBe(Date.parse(entry.validity))
            expect(result.fields.ttl).toBe(BigInt(entry.ttl_ns))
            expect(result.fields.validityType).toBe(0)
            expect(result.fields.hasPubKey).toBe(entry.decoded.pubkey_embedded)
            expect(result.fields.hasV1Signature).toBe(entry.decoded.protobuf_fields_present.includes('signatureV1'))
            expect(result.fields.keyType).toBe(entry.decoded.key_type)
          } else {
            expect(result.error.name).toBe('InvalidRecordError')
            expect(result.error.code).toBe(EXPECTED_CODES[suffix(entry.file)])
          }
        })
      }

      it('gives the same verdict via the routing key and via prepare + batch verification', async () => {
        const name = parseName(entry.name).name
        const viaKey = checkRecord(name.toRoutingKey(), bytes, now)
        expect(viaKey.ok ? 'valid' : 'invalid').toBe(entry.expected)
        const prepared = prepareRecord(name.toRoutingKey(), bytes, now)
        if (!prepared.ok) {
          expect(entry.expected).toBe('invalid')
          return
        }
        const [signatureOk] = await createInlineVerifier().verifyBatch([prepared.sigCheck])
        expect(signatureOk).toBe(entry.expected === 'valid')
      })

      if (entry.roundtrip_byte_exact === true || suffix(entry.file) === '_kubo-record') {
        it('re-marshals byte for byte (protobuf and CBOR data)', () => {
          const decoded = decodeEntry(bytes)
          expect(encodeEntry(decoded)).toEqual(bytes)
          const data = decodeRecordData(decoded.data!)
          expect(encodeRecordData(data)).toEqual(decoded.data)
        })
      }
    })
  }

  it('the expired kubo record is valid when checked before its EOL (only time makes it invalid)', () => {
    const kubo = entries.find(e => e.file.endsWith('_kubo-record.ipns-record'))!
    const before = Date.parse(kubo.validity) - 1000
    const result = checkRecord(kubo.name, recordBytes(kubo), before)
    expect(result.ok).toBe(true)
    const at = checkRecord(kubo.name, recordBytes(kubo), Date.parse(kubo.validity))
    expect(at.ok).toBe(true)
    const after = checkRecord(kubo.name, recordBytes(kubo), Date.parse(kubo.validity) + 1)
    expect(after.ok ? 'valid' : after.error.code).toBe('expired')
  })

  it('a valid record checked against another name fails', () => {
    const [a, b] = entries.filter(e => e.expected === 'valid' && e.decoded.key_type === 'Ed25519')
    const result = checkRecord(b!.name, recordBytes(a!), now)
    expect(result.ok ? 'valid' : result.error.code).toBe('bad-signature')
  })
})
