/**
 * Hand-made Ed25519 edge cases for the differential test: signatures built
 * from chosen scalars with noble's point arithmetic, so torsion components,
 * small-order keys and non-canonical encodings can be placed on purpose.
 */
import { createPublicKey, verify } from 'node:crypto'
import { sha512 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'
import { ed } from '../../src/records/ed25519-noble.js'

export const L = (1n << 252n) + 27742317777372353535851937790883648493n
export const P = (1n << 255n) - 19n
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

/** a point of order 8 */
export const T8 = ed.Point.fromBytes(Uint8Array.from(Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')), true)

export function le (n: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

export function fromLe (bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!)
  return n
}

export function challenge (r: Uint8Array, a: Uint8Array, msg: Uint8Array): bigint {
  return fromLe(sha512(concat([r, a, msg]))) % L
}

/** S = r + k·a for the given R encoding and key encoding */
export function signRaw (a: bigint, publicKey: Uint8Array, R: Uint8Array, r: bigint, msg: Uint8Array): Uint8Array {
  const k = challenge(R, publicKey, msg)
  return concat([R, le(((r + k * a) % L + L) % L)])
}

/** what node:crypto (OpenSSL) says with no policy in front */
export function rawNative (publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(concat([SPKI_PREFIX, publicKey])), format: 'der', type: 'spki' })
    return verify(null, msg, key, sig)
  } catch {
    return false
  }
}

/** what noble's own verify says (ZIP-215, cofactored) */
export function rawNoble (publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    return ed.verify(sig, msg, publicKey)
  } catch {
    return false
  }
}

export interface Case { label: string, publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array, expected: boolean }

/** the edge cases, with the verdict our policy gives */
export function craftedCases (): Case[] {
  const cases: Case[] = []
  const msg = new TextEncoder().encode('ipns-signature:edge cases')
  const a = 0x1234567890abcdefn * 0x1000003n
  const A = ed.Point.BASE.multiply(a)
  const pub = A.toBytes()
  const r = 0xdeadbeefn * 0x10001n
  const R = ed.Point.BASE.multiply(r)

  const honest = signRaw(a, pub, R.toBytes(), r, msg)
  cases.push({ label: 'honest', publicKey: pub, msg, sig: honest, expected: true })

  // R with a torsion component: cofactored equation holds, cofactorless does not
  const RT = R.add(T8).toBytes()
  cases.push({ label: 'R + T8 (malleated nonce point)', publicKey: pub, msg, sig: signRaw(a, pub, RT, r, msg), expected: false })

  // mixed-order key A + T8: cofactorless holds only when k ≡ 0 (mod 8)
  const AT = A.add(T8).toBytes()
  let found = { zero: false, nonzero: false }
  for (let i = 0; !(found.zero && found.nonzero); i++) {
    const m = new TextEncoder().encode(`mixed ${i}`)
    const k = challenge(R.toBytes(), AT, m)
    const zero = k % 8n === 0n
    if (zero ? found.zero : found.nonzero) continue
    found = zero ? { ...found, zero: true } : { ...found, nonzero: true }
    cases.push({ label: `A + T8, k mod 8 = ${k % 8n}`, publicKey: AT, msg: m, sig: signRaw(a, AT, R.toBytes(), r, m), expected: zero })
  }

  // R = identity with an honest key: S = k·a satisfies the cofactorless equation
  const id = le(1n)
  cases.push({ label: 'R = identity', publicKey: pub, msg, sig: signRaw(a, pub, id, 0n, msg), expected: false })

  // small-order public keys: R = [s]B, S = s (cofactored equation always holds)
  for (const hex of ['0100000000000000000000000000000000000000000000000000000000000000', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    '0000000000000000000000000000000000000000000000000000000000000000', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
    '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', '0100000000000000000000000000000000000000000000000000000000000080']) {
    const small = Uint8Array.from(Buffer.from(hex, 'hex'))
    const s = 424242n
    cases.push({ label: `small-order A ${hex.slice(0, 8)}…${hex.slice(-2)}`, publicKey: small, msg, sig: concat([ed.Point.BASE.multiply(s).toBytes(), le(s)]), expected: false })
  }

  // non-canonical S: S + L and S = L
  const S = fromLe(honest.subarray(32))
  cases.push({ label: 'S + L', publicKey: pub, msg, sig: concat([honest.subarray(0, 32), le(S + L)]), expected: false })
  cases.push({ label: 'S = L', publicKey: pub, msg, sig: concat([honest.subarray(0, 32), le(L)]), expected: false })
  cases.push({ label: 'S = 2^256 - 1', publicKey: pub, msg, sig: concat([honest.subarray(0, 32), new Uint8Array(32).fill(0xff)]), expected: false })

  // non-canonical encodings (y ≥ p) of valid points as key and as R
  for (const d of [3n, 4n, 18n]) {
    const enc = le(P + d)
    cases.push({ label: `non-canonical A y = p + ${d}`, publicKey: enc, msg, sig: honest, expected: false })
    cases.push({ label: `non-canonical R y = p + ${d}`, publicKey: pub, msg, sig: concat([enc, honest.subarray(32)]), expected: false })
  }

  // wrong lengths, zeros
  cases.push({ label: 'key 31 bytes', publicKey: pub.subarray(0, 31), msg, sig: honest, expected: false })
  cases.push({ label: 'key 33 bytes', publicKey: concat([pub, Uint8Array.of(0)]), msg, sig: honest, expected: false })
  cases.push({ label: 'sig 63 bytes', publicKey: pub, msg, sig: honest.subarray(0, 63), expected: false })
  cases.push({ label: 'sig 65 bytes', publicKey: pub, msg, sig: concat([honest, Uint8Array.of(0)]), expected: false })
  cases.push({ label: 'empty sig', publicKey: pub, msg, sig: new Uint8Array(0), expected: false })
  cases.push({ label: 'all-zero sig', publicKey: pub, msg, sig: new Uint8Array(64), expected: false })
  cases.push({ label: 'all-zero key and sig', publicKey: new Uint8Array(32), msg, sig: new Uint8Array(64), expected: false })
  cases.push({ label: 'key not on the curve', publicKey: le(2n), msg, sig: honest, expected: false })
  cases.push({ label: 'empty message, honest', publicKey: pub, msg: new Uint8Array(0), sig: signRaw(a, pub, R.toBytes(), r, new Uint8Array(0)), expected: true })
  return cases
}
