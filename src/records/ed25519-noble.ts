/**
 * @noble/ed25519 (v3), configured with @noble/hashes' sha512 as its docs ask,
 * and the pure-JS verification backend.
 *
 * noble's own `verify` checks the cofactored equation in both of its modes, so
 * it accepts signatures whose R (or A) carries a small torsion component that
 * OpenSSL rejects. To give the same verdicts as node:crypto this backend
 * applies the shared policy (ed25519-policy.ts) and then evaluates the RFC 8032
 * cofactorless check R == [S]B - [k]A with noble's point arithmetic.
 */
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import { passesEd25519Policy } from './ed25519-policy.js'

ed.hashes.sha512 = sha512

export { ed }

/** the order of the prime subgroup */
const L = (1n << 252n) + 27742317777372353535851937790883648493n

export function verifyEd25519Noble (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!passesEd25519Policy(publicKey, signature) || !(message instanceof Uint8Array)) return false
  try {
    const A = ed.Point.fromBytes(publicKey, false)
    const r = signature.subarray(0, 32)
    const s = littleEndianToBigint(signature.subarray(32, 64))
    const k = littleEndianToBigint(sha512(concat([r, publicKey, message]))) % L
    const expectedR = ed.Point.BASE.multiply(s, false).subtract(A.multiply(k, false))
    return equals(expectedR.toBytes(), r)
  } catch {
    // a point that does not decode is not a valid key or signature: it does not verify
    return false
  }
}

function littleEndianToBigint (bytes: Uint8Array): bigint {
  let hex = ''
  for (let i = bytes.byteLength - 1; i >= 0; i--) hex += bytes[i]!.toString(16).padStart(2, '0')
  return BigInt(`0x${hex}`)
}
