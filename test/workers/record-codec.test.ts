/**
 * The record batch codec: requests and verdicts round-trip exactly (sequence,
 * TTL and an EOL past 2^64 ns included), and neither decoder throws on
 * garbage or a short buffer.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeRecordBatch, decodeVerdicts, encodable, encodeRecordBatch, encodeVerdicts, MAX_NAME_CHARS, MAX_RECORD_BYTES } from '../../src/workers/record-codec.js'
import type { RecordVerdict } from '../../src/workers/record-codec.js'

const fields = {
  value: '/ipfs/bafkqaaa/é',
  sequence: (1n << 64n) - 1n,
  validity: '9999-12-31T23:59:59.999999999Z',
  validityMs: 253402300799999,
  validityNs: 253402300799999999999n, // more than 2^64
  validityType: 0 as const,
  ttl: 300_000_000_000n,
  keyType: 'ECDSA' as const,
  hasPubKey: true,
  hasV1Signature: false
}

describe('record batch requests', () => {
  it('round-trip names, records and the expiry hint', () => {
    const items = [
      { name: 'k51qzi5uqu5dhi6k6q9quhessmvvmv0txuy3czu5seddk8uzrkjtozr2gidrfp', record: Uint8Array.of(1, 2, 3) },
      { name: '/ipns/ünïcode', record: new Uint8Array(0) },
      { name: 'x', record: new Uint8Array(5000).fill(7) }
    ]
    const decoded = decodeRecordBatch(encodeRecordBatch(items, 1_700_000_000_123.5))
    expect(decoded.expiryHintMs).toBe(1_700_000_000_123.5)
    expect(decoded.items.map(i => ({ name: i?.name, record: Array.from(i?.record ?? []) }))).toEqual(items.map(i => ({ name: i.name, record: Array.from(i.record) })))
    expect(decodeRecordBatch(encodeRecordBatch(items)).expiryHintMs).toBeNaN()
  })

  it('say which items they cannot carry, and refuse to encode them', () => {
    expect(encodable({ name: 'a'.repeat(MAX_NAME_CHARS), record: new Uint8Array(MAX_RECORD_BYTES) })).toBe(true)
    expect(encodable({ name: 'a'.repeat(MAX_NAME_CHARS + 1), record: new Uint8Array(1) })).toBe(false)
    expect(encodable({ name: 'a', record: new Uint8Array(MAX_RECORD_BYTES + 1) })).toBe(false)
    expect(encodable({ name: 'k51\uD800', record: new Uint8Array(1) })).toBe(false) // a lone surrogate: UTF-8 would change the name
    expect(encodable({ name: 'k51\uD83D\uDE00', record: new Uint8Array(1) })).toBe(true)
    expect(() => encodeRecordBatch([{ name: 'a', record: new Uint8Array(MAX_RECORD_BYTES + 1) }])).toThrow(RangeError)
  })

  it('decode garbage and cut buffers without throwing; entries past the cut are unusable', () => {
    const buffer = encodeRecordBatch([{ name: 'a', record: Uint8Array.of(1) }, { name: 'b', record: new Uint8Array(100) }])
    const cut = decodeRecordBatch(buffer.slice(0, buffer.byteLength - 1))
    expect(cut.items[0]?.name).toBe('a')
    expect(cut.items[1]).toBeUndefined()
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), bytes => {
      const d = decodeRecordBatch(bytes.slice().buffer)
      expect(Array.isArray(d.items)).toBe(true)
    }))
    expect(decodeRecordBatch(new ArrayBuffer(3)).items).toEqual([])
  })
})

describe('verdicts', () => {
  it('round-trip every shape exactly', () => {
    const verdicts: RecordVerdict[] = [
      { ok: true, fields, signature: true },
      { ok: true, fields: { ...fields, keyType: 'Ed25519', hasPubKey: false, hasV1Signature: true, sequence: 0n }, signature: false },
      { ok: true, fields, signature: null },
      { ok: false, code: 'key-mismatch', message: 'embedded pubKey does not hash to the name' },
      { ok: false, code: 'bad-name', message: '' }
    ]
    expect(decodeVerdicts(encodeVerdicts(verdicts), verdicts.length)).toEqual(verdicts)
  })

  it('read a short or foreign buffer as undefined from the first unreadable verdict on', () => {
    const buffer = encodeVerdicts([{ ok: false, code: 'expired', message: 'x' }, { ok: true, fields, signature: true }])
    expect(decodeVerdicts(buffer.slice(0, buffer.byteLength - 2), 3)).toEqual([{ ok: false, code: 'expired', message: 'x' }, undefined, undefined])
    expect(decodeVerdicts(new ArrayBuffer(0), 2)).toEqual([undefined, undefined])
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(8), (bytes, n) => {
      expect(decodeVerdicts(bytes.slice().buffer, n)).toHaveLength(n)
    }))
  })
})
