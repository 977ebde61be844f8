import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BATCH_MAGIC, batchLength, decodeBatch, decodeResults, encodeBatch, encodeResults, ENTRY_HEADER_BYTES, HEADER_BYTES, MAX_SIGNATURE_BYTES
} from '../../src/workers/batch-codec.js'
import type { SigCheck } from '../../src/records/verify.js'

const arbCheck: fc.Arbitrary<SigCheck> = fc.record({
  keyType: fc.constantFrom('RSA', 'Ed25519', 'secp256k1', 'ECDSA'),
  publicKey: fc.uint8Array({ maxLength: 80 }),
  data: fc.uint8Array({ maxLength: 200 }),
  signature: fc.uint8Array({ maxLength: 80 })
})

describe('batch codec', () => {
  it('packs checks into one buffer and unpacks them unchanged', () => {
    fc.assert(fc.property(fc.array(arbCheck, { maxLength: 40 }), checks => {
      const buffer = encodeBatch(checks)
      expect(buffer).toBeInstanceOf(ArrayBuffer)
      const payload = checks.reduce((n, c) => n + c.publicKey.length + c.data.length + c.signature.length, 0)
      expect(buffer.byteLength).toBe(HEADER_BYTES + ENTRY_HEADER_BYTES * checks.length + payload)
      expect(batchLength(buffer)).toBe(checks.length)
      const decoded = decodeBatch(buffer)
      expect(decoded).toHaveLength(checks.length)
      decoded.forEach((entry, i) => {
        expect(entry).toEqual({
          keyType: checks[i]!.keyType,
          publicKey: checks[i]!.publicKey,
          data: checks[i]!.data,
          signature: checks[i]!.signature
        })
        // views into the one buffer, not copies
        expect(entry!.data.buffer).toBe(buffer)
      })
    }), { numRuns: 200 })
  })

  it('writes the documented layout', () => {
    const buffer = encodeBatch([{ keyType: 'ECDSA', publicKey: Uint8Array.of(1, 2), signature: Uint8Array.of(3), data: Uint8Array.of(4, 5, 6) }])
    const view = new DataView(buffer)
    expect(view.getUint32(0, true)).toBe(BATCH_MAGIC)
    expect(new TextDecoder().decode(new Uint8Array(buffer, 0, 4))).toBe('SVB1')
    expect(view.getUint32(4, true)).toBe(1)
    expect([...new Uint8Array(buffer, 8, 16)]).toEqual([3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0])
    expect([...new Uint8Array(buffer, 24)]).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('turns malformed or oversized checks into unusable entries, keeping positions', () => {
    const good: SigCheck = { keyType: 'Ed25519', publicKey: new Uint8Array(32), data: new Uint8Array(3), signature: new Uint8Array(64) }
    const checks = [good, null, { ...good, keyType: 'DSA' }, { ...good, signature: new Uint8Array(MAX_SIGNATURE_BYTES + 1) }, { ...good, data: 'x' }, good]
    const decoded = decodeBatch(encodeBatch(checks))
    expect(decoded.map(e => e !== undefined)).toEqual([true, false, false, false, false, true])
  })

  it('never throws on damaged or random buffers', () => {
    fc.assert(fc.property(fc.array(arbCheck, { minLength: 1, maxLength: 8 }), fc.nat(), fc.uint8Array({ maxLength: 64 }), (checks, cut, noise) => {
      const buffer = encodeBatch(checks)
      const truncated = buffer.slice(0, cut % (buffer.byteLength + 1))
      const t = decodeBatch(truncated)
      expect(t.length === checks.length || t.length === 0).toBe(true)
      // whatever survives truncation is a prefix of the original entries
      t.forEach((e, i) => { if (e !== undefined) expect(e.signature).toEqual(checks[i]!.signature) })
      const random = decodeBatch(Uint8Array.from(noise).buffer)
      expect(Array.isArray(random)).toBe(true)
      const corrupted = new Uint8Array(buffer.slice(0))
      corrupted[HEADER_BYTES + 7] = 0xff // a huge key length in entry 0
      expect(decodeBatch(corrupted.buffer).every(e => e === undefined)).toBe(true)
    }), { numRuns: 200 })
    expect(decodeBatch(new ArrayBuffer(0))).toEqual([])
    expect(decodeBatch('nope' as unknown as ArrayBuffer)).toEqual([])
    const hugeCount = new DataView(new ArrayBuffer(8))
    hugeCount.setUint32(0, BATCH_MAGIC, true)
    hugeCount.setUint32(4, 0xffffffff, true)
    expect(decodeBatch(hugeCount.buffer)).toEqual([])
  })

  it('packs verdicts into a bitmap, LSB first', () => {
    const bits = encodeResults([true, false, true, true, false, false, false, false, true])
    expect([...new Uint8Array(bits)]).toEqual([0b00001101, 0b00000001])
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 300 }), verdicts => {
      expect(decodeResults(encodeResults(verdicts), verdicts.length)).toEqual(verdicts)
    }))
    expect(decodeResults(new ArrayBuffer(0), 3)).toEqual([false, false, false])
  })
})
