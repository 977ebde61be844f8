/**
 * The Ed25519 acceptance policy both verification backends apply before they
 * look at the curve equation, so that @noble/ed25519 and OpenSSL (node:crypto)
 * give the same verdict for every input.
 *
 * Left alone they disagree: noble verifies the cofactored equation
 * [8][S]B = [8]R + [8][k]A and (by default, ZIP-215) accepts non-canonical
 * point encodings and small-order keys, while OpenSSL verifies the cofactorless
 * equation [S]B - [k]A == R (comparing encodings) and rejects some small-order
 * inputs. Our policy, applied by both:
 *
 * - public key exactly 32 bytes, signature exactly 64 bytes;
 * - S canonical: S < L (the group order);
 * - A and R canonical encodings: y < p (2^255 - 19);
 * - A and R not of small order (one of the 10 canonical-y encodings of the
 *   8 torsion points, including the "negative zero" x forms);
 * - then the cofactorless RFC 8032 equation (noble's arithmetic evaluates it
 *   in ed25519-noble.ts; OpenSSL does it natively).
 */
import { equals as sameBytes } from 'uint8arrays/equals'
import { fromString } from 'uint8arrays/from-string'

export const ED25519_PUBLIC_KEY_LENGTH = 32
export const ED25519_SIGNATURE_LENGTH = 64

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian */
const L_LE = hexBytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010')

/** every canonical-y encoding of a point of order 1, 2, 4 or 8 */
export const SMALL_ORDER_ENCODINGS: readonly Uint8Array[] = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  '0100000000000000000000000000000000000000000000000000000000000080', // identity, x = -0
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // order 2, x = -0
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85' // order 8
].map(hexBytes)

/** y (the low 255 bits) < p = 2^255 - 19 */
export function isCanonicalPointEncoding (p: Uint8Array): boolean {
  if (p.byteLength !== 32) return false
  if ((p[31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i >= 1; i--) {
    if (p[i] !== 0xff) return true
  }
  return p[0]! < 0xed
}

export function isSmallOrderEncoding (p: Uint8Array): boolean {
  return SMALL_ORDER_ENCODINGS.some(e => sameBytes(e, p))
}

/** S < L, reading 32 bytes little-endian */
export function isCanonicalScalar (s: Uint8Array): boolean {
  if (s.byteLength !== 32) return false
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < L_LE[i]!) return true
    if (s[i]! > L_LE[i]!) return false
  }
  return false // equal to L
}

export function isAcceptablePublicKey (publicKey: Uint8Array): boolean {
  return publicKey.byteLength === ED25519_PUBLIC_KEY_LENGTH &&
    isCanonicalPointEncoding(publicKey) &&
    !isSmallOrderEncoding(publicKey)
}

export function isAcceptableSignature (signature: Uint8Array): boolean {
  if (signature.byteLength !== ED25519_SIGNATURE_LENGTH) return false
  const r = signature.subarray(0, 32)
  return isCanonicalScalar(signature.subarray(32, 64)) &&
    isCanonicalPointEncoding(r) &&
    !isSmallOrderEncoding(r)
}

/** The whole pre-check: what both backends require before the equation. */
export function passesEd25519Policy (publicKey: Uint8Array, signature: Uint8Array): boolean {
  return publicKey instanceof Uint8Array && signature instanceof Uint8Array &&
    isAcceptablePublicKey(publicKey) && isAcceptableSignature(signature)
}

function hexBytes (hex: string): Uint8Array {
  return fromString(hex, 'base16')
}
