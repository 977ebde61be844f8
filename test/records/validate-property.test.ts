/**
 * Property test: thousands of mutations of the conformance vectors and of
 * fresh records (truncated, bytes flipped, oversized, random bytes, wrong
 * name, bad CBOR, fields dropped or replaced) go through validateRecord with
 * both Ed25519 backends and through prepare + the worker pool. Asserted:
 *  - nothing but InvalidRecordError (with a documented code) is ever thrown;
 *  - noble, native and the pool give identical verdicts, codes and fields;
 *  - a mutant is only ever accepted with the content its seed was signed with.
 * Needs `npm run build` (the pool runs dist/workers/verify-worker.js).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import fc from 'fast-check'
import { concat } from 'uint8arrays/concat'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/messages/errors.js'
import { decodeEntry, encodeEntry } from '../../src/records/codec.js'
import { createRecord } from '../../src/records/create.js'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { VALIDATION_ERROR_CODES } from '../../src/records/errors.js'
import { parseName } from '../../src/records/name.js'
import { finishValidation, prepareRecord, validateRecord } from '../../src/records/validate.js'
import { VerifyPool } from '../../src/workers/verify-pool.js'
import { manifest, recordBytes } from './helpers.js'
import type { IpnsEntryInput } from '../../src/records/codec.js'
import type { NameInput } from '../../src/records/name.js'
import type { PrepareResult, RecordFields } from '../../src/records/validate.js'

const NOW = Date.now()
const RUNS = 2500

interface Seed { name: string, bytes: Uint8Array, fields?: RecordFields }
type Outcome = { ok: true, content: string } | { ok: false, code: string }

const seeds: Seed[] = []
let pool: VerifyPool

/** the signed content of a record: what a forger would want to change */
const content = (f: RecordFields): string => JSON.stringify([f.value, String(f.sequence), f.validity, String(f.ttl), f.keyType])

function outcome (fn: () => RecordFields): Outcome {
  try {
    return { ok: true, content: content(fn()) }
  } catch (err) {
    if (!(err instanceof InvalidRecordError)) throw new Error(`threw something other than InvalidRecordError: ${String(err)}`, { cause: err })
    if (!(VALIDATION_ERROR_CODES as readonly string[]).includes(err.code)) throw new Error(`undocumented code ${err.code}`, { cause: err })
    return { ok: false, code: err.code }
  }
}

beforeAll(async () => {
  pool = new VerifyPool({ threads: 2 })
  for (const entry of manifest()) {
    const bytes = recordBytes(entry)
    const seed: Seed = { name: entry.name, bytes }
    if (entry.expected === 'valid') seed.fields = validateRecord(entry.name, bytes, NOW)
    seeds.push(seed)
  }
  const signers = [generateEd25519Signer(), await generateKeyPair('RSA', 2048), await generateKeyPair('secp256k1'), await generateKeyPair('ECDSA')]
  for (const signer of signers) {
    for (const v1Compatible of [true, false]) {
      const created = await createRecord(signer, '/ipfs/bafkqaddwgevxmmraojswg33smq/a', { now: NOW, sequence: 3n, v1Compatible })
      seeds.push({ name: created.name.toString(), bytes: created.bytes, fields: created.fields })
    }
  }
}, 60_000)

afterAll(async () => {
  await pool?.destroy()
})

const arbSeed = fc.nat().map(i => seeds[i % seeds.length]!)
const arbBytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max })

function flip (bytes: Uint8Array, positions: number[], masks: number[]): Uint8Array {
  const out = Uint8Array.from(bytes)
  positions.forEach((p, i) => {
    if (out.length > 0) out[p % out.length]! ^= (masks[i]! % 255) + 1
  })
  return out
}

function reencode (bytes: Uint8Array, change: (e: IpnsEntryInput) => void): Uint8Array {
  try {
    const entry: IpnsEntryInput = { ...decodeEntry(bytes) }
    change(entry)
    return encodeEntry(entry)
  } catch {
    return bytes
  }
}

const FIELDS = ['value', 'signatureV1', 'validityType', 'validity', 'sequence', 'ttl', 'pubKey', 'signatureV2', 'data'] as const

interface Case { label: string, name: NameInput, bytes: Uint8Array, seed: Seed }

const arbCase: fc.Arbitrary<Case> = fc.oneof(
  arbSeed.map(seed => ({ label: 'unchanged', name: seed.name, bytes: seed.bytes, seed })),
  fc.tuple(arbSeed, fc.nat()).map(([seed, n]) => ({ label: 'truncate', name: seed.name, bytes: seed.bytes.subarray(0, n % (seed.bytes.length + 1)), seed })),
  fc.tuple(arbSeed, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { minLength: 4, maxLength: 4 }))
    .map(([seed, pos, masks]) => ({ label: 'flip', name: seed.name, bytes: flip(seed.bytes, pos, masks), seed })),
  fc.tuple(arbSeed, fc.integer({ min: 1, max: 2048 })).map(([seed, extra]) => ({
    label: 'oversize',
    name: seed.name,
    // an unknown protobuf field (15, bytes) so the record still parses
    bytes: concat([seed.bytes, Uint8Array.of(0x7a, 0x80 | ((10240 + extra) & 0x7f), (10240 + extra) >> 7), new Uint8Array(10240 + extra)]),
    seed
  })),
  fc.tuple(arbSeed, arbBytes(600)).map(([seed, bytes]) => ({ label: 'random', name: seed.name, bytes, seed })),
  fc.tuple(arbSeed, arbSeed, fc.constantFrom('text', 'b58', 'routing-key', 'garbage')).map(([seed, other, form]) => {
    const otherName = parseName(other.name).name
    const name = form === 'text' ? other.name : form === 'b58' ? otherName.format('base58btc') : form === 'routing-key' ? otherName.toRoutingKey() : `/ipns/${other.name.slice(0, 20)}`
    return { label: `wrong-name(${form})`, name, bytes: seed.bytes, seed }
  }),
  fc.tuple(arbSeed, fc.oneof(arbBytes(200), fc.nat().map(n => ({ cut: n })), fc.array(fc.nat(), { minLength: 1, maxLength: 3 }))).map(([seed, how]) => ({
    label: 'bad-cbor',
    name: seed.name,
    bytes: reencode(seed.bytes, e => {
      const data = e.data ?? new Uint8Array(0)
      if (how instanceof Uint8Array) e.data = how
      else if (Array.isArray(how)) e.data = flip(data, how, how)
      else e.data = data.subarray(0, how.cut % (data.length + 1))
    }),
    seed
  })),
  fc.tuple(arbSeed, fc.constantFrom(...FIELDS), fc.option(arbBytes(80)), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([seed, field, replacement, n]) => ({
    label: `field(${field})`,
    name: seed.name,
    bytes: reencode(seed.bytes, e => {
      if (field === 'sequence' || field === 'ttl') e[field] = replacement === null ? undefined : n
      else if (field === 'validityType') e.validityType = replacement === null ? undefined : e.validityType
      else e[field] = replacement ?? undefined
    }),
    seed
  }))
)

describe('validateRecord under mutation (fast-check)', () => {
  it(`${RUNS} mutants: only InvalidRecordError, identical verdicts inline (noble, native) and in the pool, no forged content`, async () => {
    const cases: Array<{ c: Case, inline: Outcome, prepared: PrepareResult }> = []
    const labels = new Map<string, number>()
    fc.assert(fc.property(arbCase, c => {
      const noble = outcome(() => validateRecord(c.name, c.bytes, NOW, 'noble'))
      const native = outcome(() => validateRecord(c.name, c.bytes, NOW, 'native'))
      expect(native).toEqual(noble)
      if (noble.ok) {
        // accepted mutants carry exactly the content the seed was signed with
        expect(c.seed.fields).toBeDefined()
        expect(noble.content).toBe(content(c.seed.fields!))
      }
      if (c.label === 'unchanged') expect(noble.ok).toBe(c.seed.fields !== undefined)
      if (c.label === 'oversize') expect(noble).toEqual({ ok: false, code: 'too-large' })
      cases.push({ c, inline: noble, prepared: prepareRecord(c.name, c.bytes, NOW) })
      labels.set(c.label, (labels.get(c.label) ?? 0) + 1)
    }), { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 20260301) })

    // the same cases through prepare + the worker pool
    const toVerify = cases.filter(x => x.prepared.ok)
    const verdicts = await pool.verifyBatch(toVerify.map(x => x.prepared.ok ? x.prepared.sigCheck : undefined!))
    const poolOutcome = new Map(toVerify.map((x, i) => [x, verdicts[i]!]))
    for (const x of cases) {
      const result = finishValidation(x.prepared, poolOutcome.get(x) ?? false)
      const viaPool: Outcome = result.ok ? { ok: true, content: content(result.fields) } : { ok: false, code: result.error.code }
      expect(viaPool, x.c.label).toEqual(x.inline)
    }

    // the run really exercised every kind of mutation and both outcomes
    expect(cases).toHaveLength(RUNS)
    expect([...labels.keys()].filter(l => !l.startsWith('field(') && !l.startsWith('wrong-name(')).sort())
      .toEqual(['bad-cbor', 'flip', 'oversize', 'random', 'truncate', 'unchanged'])
    const codes = new Set(cases.map(x => x.inline.ok ? 'valid' : x.inline.code))
    for (const code of ['valid', 'too-large', 'bad-protobuf', 'bad-signature', 'bad-cbor', 'missing-signature-v2', 'missing-data', 'v1-v2-mismatch']) {
      expect(codes, code).toContain(code)
    }
    expect(toVerify.length).toBeGreaterThan(RUNS / 10)
  }, 120_000)
})
