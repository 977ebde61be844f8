import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { compareRecords, selectionKey, selectRecord } from '../../src/records/select.js'
import { forgeRecord } from './helpers.js'

const signer = generateEd25519Signer()

describe('selectRecord', () => {
  it('prefers the higher sequence even with an earlier EOL', async () => {
    const newer = await forgeRecord(signer, { sequence: 5n, validity: '2100-01-01T00:00:00Z' })
    const older = await forgeRecord(signer, { sequence: 4n, validity: '2200-01-01T00:00:00Z' })
    expect(selectRecord([older, newer])).toBe(1)
    expect(selectRecord([newer, older])).toBe(0)
  })

  it('then the later EOL (to the nanosecond)', async () => {
    const a = await forgeRecord(signer, { sequence: 5n, validity: '2100-01-01T00:00:00.000000002Z' })
    const b = await forgeRecord(signer, { sequence: 5n, validity: '2100-01-01T00:00:00.000000001Z' })
    expect(selectRecord([b, a])).toBe(1)
    expect(compareRecords(a, b)).toBeGreaterThan(0)
  })

  it('then a V2-signed record over one without', async () => {
    const v1only = await forgeRecord(signer, { sequence: 5n, pb: { signatureV2: undefined, data: undefined } })
    const v2 = await forgeRecord(signer, { sequence: 5n })
    expect(selectionKey(v1only)?.hasSignatureV2).toBe(false)
    expect(selectRecord([v2, v1only])).toBe(0)
    expect(selectRecord([v1only, v2])).toBe(1)
  })

  it('ranks unreadable records last and returns -1 for none', async () => {
    const good = await forgeRecord(signer, { sequence: 0n })
    expect(selectRecord([Uint8Array.from([0xff]), good, new Uint8Array(0)])).toBe(1)
    expect(selectRecord([])).toBe(-1)
  })

  it('breaks full ties deterministically, whatever the order', async () => {
    // same sequence and EOL, different signatures (different keys) → bytes decide
    const records = await Promise.all([1, 2, 3, 4].map(async () => forgeRecord(generateEd25519Signer(), { sequence: 9n })))
    const winner = records[selectRecord(records)]
    fc.assert(fc.property(fc.shuffledSubarray(records, { minLength: 4, maxLength: 4 }), shuffled => {
      expect(shuffled[selectRecord(shuffled)]).toBe(winner)
    }), { numRuns: 30 })
  })

  it('compareRecords is antisymmetric and agrees with selectRecord', async () => {
    const pool = await Promise.all([
      forgeRecord(signer, { sequence: 1n }),
      forgeRecord(signer, { sequence: 2n, validity: '2100-01-01T00:00:00Z' }),
      forgeRecord(signer, { sequence: 2n, validity: '2101-01-01T00:00:00Z' }),
      forgeRecord(generateEd25519Signer(), { sequence: 2n, validity: '2101-01-01T00:00:00Z' }),
      Promise.resolve(Uint8Array.from([1, 2, 3]))
    ])
    for (const a of pool) {
      for (const b of pool) {
        expect(Math.sign(compareRecords(a, b)) + Math.sign(compareRecords(b, a))).toBe(0)
      }
      const best = pool[selectRecord(pool)]!
      expect(compareRecords(best, a)).toBeGreaterThanOrEqual(0)
    }
  })
})
