/**
 * Whole-record checks off the main thread give exactly validateRecord's
 * verdicts: for every rule (forged records), the conformance vectors and
 * every name form, through the Piscina workers (both Ed25519 backends), the
 * inline checker, and a verifier that only checks signatures (recordChecker).
 * Needs `npm run build` (the pool runs dist/workers/verify-worker.js).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { nameFromPublicKey } from '../../src/records/name.js'
import { checkRecord } from '../../src/records/validate.js'
import { recordChecker, verdictAt } from '../../src/workers/check-records.js'
import { createInlineVerifier, VerifyPool } from '../../src/workers/verify-pool.js'
import { forgeRecord, manifest, recordBytes } from '../records/helpers.js'
import type { RecordItem } from '../../src/workers/record-codec.js'
import type { RecordChecker } from '../../src/workers/verify-pool.js'
import type { ValidationResult } from '../../src/records/validate.js'

const NOW = Date.parse('2026-06-01T00:00:00Z')
const cases: Array<RecordItem & { label: string }> = []
let pools: VerifyPool[] = []

const outcome = (r: ValidationResult | undefined): unknown => r === undefined
  ? 'unchecked'
  : r.ok ? { ok: true, fields: r.fields } : { ok: false, code: r.error.code, message: r.error.message, name: r.error.name }

beforeAll(async () => {
  const ed = generateEd25519Signer()
  const other = generateEd25519Signer()
  const secp = await generateKeyPair('secp256k1')
  const ecdsa = await generateKeyPair('ECDSA')
  const name = nameFromPublicKey(ed.publicKey)
  const n = name.toString()
  const valid = await forgeRecord(ed)
  const tampered = valid.slice()
  const at = tampered.findIndex((b, i) => b === 0x42 && tampered[i + 1] === 64)
  tampered[at + 10]! ^= 0x01
  const add = (label: string, record: Uint8Array, nm = n): void => { cases.push({ label, name: nm, record }) }
  add('valid V1+V2', valid)
  add('valid, /ipns/ name', valid, `/ipns/${n}`)
  add('valid, base58 peer id', valid, name.format('base58btc'))
  add('valid V2 only', await forgeRecord(ed, { v1: false }))
  add('valid secp256k1', await forgeRecord(secp), nameFromPublicKey(secp.publicKey).toString())
  add('valid ECDSA, embedded key', await forgeRecord(ecdsa, { embedPubKey: true }), nameFromPublicKey(ecdsa.publicKey).toString())
  add('bad-name', valid, 'not-a-name')
  add('bad-name, over the codec limit', valid, 'k'.repeat(5000))
  add('too-large', new Uint8Array(11 * 1024))
  add('bad-protobuf', Uint8Array.of(0xff, 0xff, 0xff))
  add('missing-signature-v2', await forgeRecord(ed, { signatureV2: new Uint8Array(0) }))
  add('missing-data', await forgeRecord(ed, { data: new Uint8Array(0), v1: false }))
  add('key-mismatch', await forgeRecord(other, { embedPubKey: true }))
  add('missing-pubkey', await forgeRecord(ecdsa), nameFromPublicKey(ecdsa.publicKey).toString())
  add('bad-cbor', await forgeRecord(ed, { data: Uint8Array.of(1, 2, 3), v1: false }))
  add('bad-value', await forgeRecord(ed, { value: 'not a path' }))
  add('v1-v2-mismatch', await forgeRecord(ed, { pb: { value: new TextEncoder().encode('/ipfs/other') } }))
  add('unknown-validity-type', await forgeRecord(ed, { validityType: 1n, v1: false }))
  add('bad-validity', await forgeRecord(ed, { validity: 'tomorrow' }))
  add('expired', await forgeRecord(ed, { validity: '2020-01-01T00:00:00Z' }))
  add('bad-signature, tampered', tampered)
  add('bad-signature, another name', valid, nameFromPublicKey(other.publicKey).toString())
  add('bad-signature, secp256k1 under another key', await forgeRecord(secp, { signatureV2: new Uint8Array(72).fill(3) }), nameFromPublicKey(secp.publicKey).toString())
  for (const entry of manifest()) add(`conformance ${entry.file}`, recordBytes(entry), entry.name)
  pools = [new VerifyPool({ threads: 1, batchSize: 5 }), new VerifyPool({ threads: 1, backend: 'noble' })]
}, 60_000)

afterAll(async () => { await Promise.all(pools.map(async p => { await p.destroy() })) })

describe('checkRecords', () => {
  const checkers: Array<[string, () => RecordChecker]> = [
    ['the pool (native)', () => pools[0]!.checkRecords.bind(pools[0])],
    ['the pool (noble)', () => pools[1]!.checkRecords.bind(pools[1])],
    ['the inline checker', () => recordChecker(createInlineVerifier())],
    ['a signature-only verifier', () => recordChecker({ verifyBatch: async c => await createInlineVerifier().verifyBatch(c), destroy: async () => {} })]
  ]
  for (const [label, make] of checkers) {
    it(`gives validateRecord's result for every rule and vector: ${label}`, async () => {
      const verdicts = await make()(cases, { expiryHintMs: NOW })
      const got = cases.map((c, i) => ({ label: c.label, r: outcome(verdictAt(verdicts[i]!, NOW)) }))
      const want = cases.map(c => ({ label: c.label, r: outcome(checkRecord(c.name, c.record, NOW)) }))
      expect(got).toEqual(want)
      // the forged cases cover every rule
      const codes = new Set(want.map(w => (w.r as { code?: string }).code).filter(Boolean))
      expect([...codes].sort()).toEqual(['bad-cbor', 'bad-name', 'bad-protobuf', 'bad-signature', 'bad-validity', 'bad-value', 'expired', 'key-mismatch', 'missing-data', 'missing-pubkey', 'missing-signature-v2', 'too-large', 'unknown-validity-type', 'v1-v2-mismatch'])
    })
  }

  it('skips the signature of a record expired at the hint, and says so', async () => {
    const expired = cases.find(c => c.label === 'expired')!
    const [v] = await pools[0]!.checkRecords([expired], { expiryHintMs: NOW })
    expect(v).toMatchObject({ ok: true, signature: null })
    expect(outcome(verdictAt(v!, NOW))).toMatchObject({ ok: false, code: 'expired' })
    // before its EOL the verdict cannot answer: the signature was never checked
    expect(verdictAt(v!, Date.parse('2019-01-01T00:00:00Z'))).toBeUndefined()
    const [checked] = await pools[0]!.checkRecords([expired])
    expect(checked).toMatchObject({ ok: true, signature: true })
  })
})
