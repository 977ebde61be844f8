/**
 * The Piscina verifier pool (needs `npm run build`: it runs
 * dist/workers/verify-worker.js) and the inline verifier.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readdirSync, readFileSync } from 'node:fs'
import { FailedError, OverloadedError, StoppedError } from '../../src/messages/errors.js'
import { createRecord } from '../../src/records/create.js'
import { generateEd25519Signer } from '../../src/records/ed25519.js'
import { prepareRecord } from '../../src/records/validate.js'
import { createInlineVerifier, defaultPoolThreads, resolveVerifyWorker, VerifyPool } from '../../src/workers/verify-pool.js'
import { manifest, recordBytes } from '../records/helpers.js'
import type { SigCheck } from '../../src/records/verify.js'

const NOW = Date.now()
let pool: VerifyPool
/** checks with known verdicts */
const known: Array<{ check: SigCheck, ok: boolean }> = []

function tamper (check: SigCheck): SigCheck {
  const signature = Uint8Array.from(check.signature)
  signature[5]! ^= 0x10
  return { ...check, signature }
}

beforeAll(async () => {
  pool = new VerifyPool({ threads: 2, batchSize: 7 })
  for (const entry of manifest()) {
    const prepared = prepareRecord(entry.name, recordBytes(entry), NOW)
    if (!prepared.ok) continue
    // the only prepared-but-invalid vector is the broken V2 signature
    known.push({ check: prepared.sigCheck, ok: entry.expected === 'valid' })
  }
  for (const key of [await generateKeyPair('secp256k1'), await generateKeyPair('ECDSA'), generateEd25519Signer()]) {
    const created = await createRecord(key, '/ipfs/bafkqaddwgevxmmraojswg33smq', { now: NOW })
    const prepared = prepareRecord(created.name, created.bytes, NOW)
    if (!prepared.ok) throw prepared.error
    known.push({ check: prepared.sigCheck, ok: true }, { check: tamper(prepared.sigCheck), ok: false })
  }
}, 60_000)

afterAll(async () => {
  await pool?.destroy()
})

describe('resolveVerifyWorker', () => {
  it('points at dist/workers/verify-worker.js when running from src/', () => {
    const file = resolveVerifyWorker()
    expect(file.endsWith(join('dist', 'workers', 'verify-worker.js'))).toBe(true)
  })

  it('points beside the module when running from dist/', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmbus-pool-'))
    mkdirSync(join(dir, 'dist', 'workers'), { recursive: true })
    writeFileSync(join(dir, 'dist', 'workers', 'verify-worker.js'), 'export default () => {}\n')
    const url = pathToFileURL(join(dir, 'dist', 'workers', 'verify-pool.js')).href
    expect(resolveVerifyWorker(url)).toBe(join(dir, 'dist', 'workers', 'verify-worker.js'))
  })

  it('says to build when the worker is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarmbus-pool-'))
    const url = pathToFileURL(join(dir, 'src', 'workers', 'verify-pool.ts')).href
    expect(() => resolveVerifyWorker(url)).toThrow(FailedError)
    expect(() => resolveVerifyWorker(url)).toThrow(/npm run build/)
  })
})

describe('VerifyPool', () => {
  it('gives the known verdicts, in order, across chunked tasks on 2 threads', async () => {
    const before = pool.completedTasks
    const verdicts = await pool.verifyBatch(known.map(k => k.check))
    expect(verdicts).toEqual(known.map(k => k.ok))
    expect(verdicts.filter(Boolean).length).toBeGreaterThan(5)
    expect(verdicts.filter(v => !v).length).toBeGreaterThan(2)
    expect(pool.completedTasks - before).toBe(Math.ceil(known.length / 7))
    expect(pool.runningThreads).toBe(2)
  })

  it('keeps order for large inputs', async () => {
    const many = Array.from({ length: 300 }, (_, i) => known[(i * 7) % known.length]!)
    expect(await pool.verifyBatch(many.map(k => k.check))).toEqual(many.map(k => k.ok))
  })

  it('answers false for garbage and keeps working', async () => {
    const garbage = [null, 42, 'check', {}, { keyType: 'Ed25519', publicKey: new Uint8Array(32), data: 'x', signature: new Uint8Array(64) },
      { keyType: 'RSA', publicKey: new Uint8Array(5000), data: new Uint8Array(1), signature: new Uint8Array(1) },
      { keyType: 'ECDSA', publicKey: new Uint8Array(91).fill(7), data: new Uint8Array(1), signature: new Uint8Array(64) }] as unknown as SigCheck[]
    const mixed = [...garbage, known[0]!.check]
    expect(await pool.verifyBatch(mixed)).toEqual([...garbage.map(() => false), known[0]!.ok])
    expect(await pool.verifyBatch([])).toEqual([])
    expect(await pool.verifyBatch(known.map(k => k.check))).toEqual(known.map(k => k.ok))
  })

  it('gives the same verdicts with either Ed25519 backend and inline', async () => {
    const noble = new VerifyPool({ threads: 1, backend: 'noble' })
    try {
      const checks = known.map(k => k.check)
      expect(await noble.verifyBatch(checks)).toEqual(known.map(k => k.ok))
      expect(await createInlineVerifier({ backend: 'native' }).verifyBatch(checks)).toEqual(known.map(k => k.ok))
      expect(await createInlineVerifier({ backend: 'noble' }).verifyBatch(checks)).toEqual(known.map(k => k.ok))
    } finally {
      await noble.destroy()
    }
  })

  it('rejects with StoppedError after destroy', async () => {
    const p = new VerifyPool({ threads: 1 })
    const running = p.verifyBatch(known.map(k => k.check))
    await p.destroy()
    // a batch already running is finished, not aborted
    expect(await running).toEqual(known.map(k => k.ok))
    await expect(p.verifyBatch([known[0]!.check])).rejects.toBeInstanceOf(StoppedError)
    await p.destroy()
    const inline = createInlineVerifier()
    await inline.destroy()
    await expect(inline.verifyBatch([])).rejects.toBeInstanceOf(StoppedError)
  })

  it('validates its options', () => {
    expect(() => new VerifyPool({ threads: 0 })).toThrow(RangeError)
    expect(() => new VerifyPool({ batchSize: 1.5 })).toThrow(RangeError)
    expect(() => new VerifyPool({ maxQueue: -1 })).toThrow(RangeError)
    expect(() => new VerifyPool({ nice: 20 })).toThrow(RangeError)
  })

  it('sizes itself from the machine: one thread per core but one, one per core on 1–2 cores', () => {
    expect([0, 1, 2, 3, 4, 16].map(n => defaultPoolThreads(n))).toEqual([1, 1, 2, 2, 3, 15])
    const p = new VerifyPool()
    try {
      expect(p.threads).toBe(defaultPoolThreads())
    } finally {
      void p.destroy()
    }
  })

  it('bounds its queue: a call whose tasks do not fit fails with OverloadedError, counted, and later calls get in', async () => {
    const p = new VerifyPool({ threads: 1, batchSize: 1, maxQueue: 2 })
    try {
      const check = known[0]!.check
      // one task runs and two wait: the pool is full
      const admitted = [p.verifyBatch([check]), p.verifyBatch([check]), p.verifyBatch([check])]
      expect(p.stats()).toMatchObject({ pendingTasks: 3, maxQueue: 2, overloaded: 0 })
      await expect(p.verifyBatch([check])).rejects.toBeInstanceOf(OverloadedError)
      await expect(p.checkRecords([{ name: 'k51', record: new Uint8Array(1) }])).rejects.toBeInstanceOf(OverloadedError)
      // a call is refused whole, before any of it runs
      expect(p.stats()).toMatchObject({ pendingTasks: 3, overloaded: 2 })
      expect(await Promise.all(admitted)).toEqual([[known[0]!.ok], [known[0]!.ok], [known[0]!.ok]])
      expect(p.stats().pendingTasks).toBe(0)
      expect(await p.verifyBatch([check, check, check])).toHaveLength(3)
      await expect(p.verifyBatch(Array.from({ length: 4 }, () => check))).rejects.toThrow(/verify pool is full/)
    } finally {
      await p.destroy()
    }
  })

  it.runIf(process.platform === 'linux')('runs its threads at the nice value asked for, and only them', async () => {
    const niceOf = (): number[] => readdirSync('/proc/self/task').map(t => {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
    })
    const before = niceOf().filter(n => n === 7).length
    const p = new VerifyPool({ threads: 2, nice: 7 })
    try {
      expect(await p.verifyBatch(known.map(k => k.check))).toEqual(known.map(k => k.ok))
      // each thread lowers itself when it has loaded the worker: wait for the second one
      for (let i = 0; i < 100 && niceOf().filter(n => n === 7).length - before < 2; i++) await new Promise(resolve => setTimeout(resolve, 20))
      expect(niceOf().filter(n => n === 7).length - before).toBe(2)
      expect(niceOf()[0]).toBe(0) // the main thread is untouched
    } finally {
      await p.destroy()
    }
  })
})
