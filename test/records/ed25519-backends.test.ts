/**
 * Differential test: the noble and native backends must give the same verdict
 * on every input, including the ones where noble's own verify (ZIP-215,
 * cofactored) and OpenSSL (cofactorless, stricter decoding) disagree.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultEd25519Backend, ed25519PublicKeyOf, ed25519Sign, generateEd25519SecretKey, verifyEd25519 } from '../../src/records/ed25519.js'
import { nativeEd25519Available, verifyEd25519Native } from '../../src/records/ed25519-native.js'
import { ed, verifyEd25519Noble } from '../../src/records/ed25519-noble.js'
import { isSmallOrderEncoding, SMALL_ORDER_ENCODINGS } from '../../src/records/ed25519-policy.js'
import { craftedCases, rawNative, rawNoble, T8 } from './ed25519-craft.js'

const both = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): [boolean, boolean] =>
  [verifyEd25519Noble(pub, msg, sig), verifyEd25519Native(pub, msg, sig)]

describe('Ed25519 backends', () => {
  it('native is available on Node and is the default', () => {
    expect(nativeEd25519Available()).toBe(true)
    expect(defaultEd25519Backend()).toBe('native')
  })

  it('agree on signatures made by the noble signer (and both accept them)', () => {
    for (let i = 0; i < 20; i++) {
      const sk = generateEd25519SecretKey()
      const msg = Uint8Array.from({ length: i * 7 }, (_, j) => (j * 31 + i) & 0xff)
      const sig = ed25519Sign(msg, sk)
      expect(both(ed25519PublicKeyOf(sk), msg, sig)).toEqual([true, true])
      expect(verifyEd25519(ed25519PublicKeyOf(sk), msg, sig)).toBe(true)
    }
  })

  describe('crafted edge cases', () => {
    for (const c of craftedCases()) {
      it(`${c.label}: both ${c.expected ? 'accept' : 'reject'}`, () => {
        expect(both(c.publicKey, c.msg, c.sig)).toEqual([c.expected, c.expected])
      })
    }
  })

  it('the crafted cases include real disagreements of the unnormalised libraries', () => {
    // without the shared policy and the cofactorless check, these would differ
    const disagreements = craftedCases().filter(c => rawNoble(c.publicKey, c.msg, c.sig) !== rawNative(c.publicKey, c.msg, c.sig))
    const labels = disagreements.map(c => c.label)
    expect(labels).toContain('R + T8 (malleated nonce point)')
    expect(labels).toContain('R = identity')
    expect(labels.some(l => l.startsWith('small-order A'))).toBe(true)
    expect(labels.some(l => l.startsWith('A + T8, k mod 8 = ') && !l.endsWith('= 0'))).toBe(true)
    expect(labels).toContain('all-zero key and sig') // noble (ZIP-215) accepts it
    expect(labels).toContain('key 33 bytes') // OpenSSL reads past the SPKI
  })

  it('lists every small-order point among the rejected encodings', () => {
    for (let i = 0; i < 8; i++) {
      const p = i === 0 ? ed.Point.ZERO : T8.multiply(BigInt(i))
      expect(isSmallOrderEncoding(p.toBytes())).toBe(true)
    }
    for (const e of SMALL_ORDER_ENCODINGS) expect(ed.Point.fromBytes(e, true).isSmallOrder()).toBe(true)
  })

  it('agree on every single-bit corruption of a signature, key and message', () => {
    const sk = generateEd25519SecretKey()
    const pub = ed25519PublicKeyOf(sk)
    const msg = new TextEncoder().encode('ipns-signature:corrupt me')
    const sig = ed25519Sign(msg, sk)
    const flip = (b: Uint8Array, bit: number): Uint8Array => {
      const c = Uint8Array.from(b)
      c[bit >> 3]! ^= 1 << (bit & 7)
      return c
    }
    for (let bit = 0; bit < 512; bit++) expect(both(pub, msg, flip(sig, bit)), `sig bit ${bit}`).toEqual([false, false])
    for (let bit = 0; bit < 256; bit++) {
      const [a, b] = both(flip(pub, bit), msg, sig)
      expect(a, `key bit ${bit}`).toBe(b)
      expect(a).toBe(false)
    }
    for (let bit = 0; bit < msg.length * 8; bit += 5) expect(both(pub, flip(msg, bit), sig)).toEqual([false, false])
  })

  it('agree on random and randomly mutated inputs (fast-check)', () => {
    const sk = generateEd25519SecretKey()
    const pub = ed25519PublicKeyOf(sk)
    const msg = new TextEncoder().encode('ipns-signature:random')
    const sig = ed25519Sign(msg, sk)
    fc.assert(fc.property(
      fc.oneof(
        fc.record({ pub: fc.uint8Array({ minLength: 30, maxLength: 34 }), sig: fc.uint8Array({ minLength: 62, maxLength: 66 }), msg: fc.uint8Array({ maxLength: 64 }) }),
        fc.record({
          pub: fc.constant(pub),
          sig: fc.uint8Array({ minLength: 64, maxLength: 64 }).map(mask => sig.map((b, i) => (i % 7 === 0 ? b ^ mask[i]! : b))),
          msg: fc.constant(msg)
        }),
        fc.record({ pub: fc.constantFrom(...SMALL_ORDER_ENCODINGS), sig: fc.uint8Array({ minLength: 64, maxLength: 64 }), msg: fc.constant(msg) })
      ),
      ({ pub: p, sig: s, msg: m }) => {
        const [a, b] = both(p, m, s)
        expect(a).toBe(b)
      }
    ), { numRuns: 300 })
  })

  it('never throw on non-bytes', () => {
    const junk = [undefined, null, 'abc', 42, {}, [1, 2, 3]] as unknown as Uint8Array[]
    for (const j of junk) {
      expect(verifyEd25519Noble(j, j, j)).toBe(false)
      expect(verifyEd25519Native(j, j, j)).toBe(false)
    }
  })
})
