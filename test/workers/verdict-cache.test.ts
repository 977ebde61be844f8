import { describe, expect, it } from 'vitest'
import { withVerdictCache } from '../../src/workers/verdict-cache.js'
import type { SigCheck } from '../../src/records/verify.js'
import type { BatchVerifier } from '../../src/workers/verify-pool.js'

const check = (n: number, valid = true): SigCheck => ({
  keyType: 'Ed25519',
  publicKey: new Uint8Array(32).fill(n),
  data: new TextEncoder().encode(`data-${n}`),
  signature: new Uint8Array(64).fill(valid ? 1 : 0)
})

/** an inner verifier that counts checks and holds each batch until released */
function countingInner (): BatchVerifier & { checks: number, batches: number, release: () => void } {
  const held: Array<() => void> = []
  const inner = {
    checks: 0,
    batches: 0,
    release: () => { for (const go of held.splice(0)) go() },
    async verifyBatch (checks: readonly SigCheck[]): Promise<boolean[]> {
      inner.checks += checks.length
      inner.batches++
      await new Promise<void>(resolve => held.push(resolve))
      return checks.map(c => c.signature[0] === 1)
    },
    async destroy (): Promise<void> {}
  }
  return inner
}

describe('withVerdictCache', () => {
  it('joins a check being decided, then answers it from the cache; verdicts keep their order', async () => {
    const inner = countingInner()
    const cached = withVerdictCache(inner)
    const first = cached.verifyBatch([check(1), check(2, false)])
    const joining = cached.verifyBatch([check(2, false), check(1), check(3)])
    inner.release()
    await new Promise(resolve => setImmediate(resolve))
    inner.release()
    expect(await first).toEqual([true, false])
    expect(await joining).toEqual([false, true, true])
    expect(inner.checks).toBe(3)
    const again = await cached.verifyBatch([check(3), check(1), check(2, false)])
    expect(again).toEqual([true, true, false])
    expect(inner.checks).toBe(3)
    expect(cached.stats()).toEqual({ hits: 3, joined: 2, verified: 3 })
  })

  it('keeps at most `max` verdicts: an evicted check is verified again', async () => {
    const inner = countingInner()
    const cached = withVerdictCache(inner, { max: 2 })
    for (const n of [1, 2, 3]) {
      const p = cached.verifyBatch([check(n)])
      inner.release()
      await p
    }
    const p = cached.verifyBatch([check(1)])
    inner.release()
    expect(await p).toEqual([true])
    expect(inner.checks).toBe(4)
  })

  it('a failing inner batch fails its callers and is not cached', async () => {
    let calls = 0
    const cached = withVerdictCache({
      verifyBatch: async checks => { calls++; if (calls === 1) throw new Error('pool down'); return checks.map(() => true) },
      destroy: async () => {}
    })
    await expect(cached.verifyBatch([check(1)])).rejects.toThrow('pool down')
    await expect(cached.verifyBatch([check(1)])).resolves.toEqual([true])
    expect(calls).toBe(2)
  })
})
