/**
 * Ed25519: key generation and signing with @noble/ed25519, verification with
 * one of two backends that give identical verdicts (see ed25519-policy.ts):
 * `noble` (pure JS) and `native` (node:crypto). The default is the fastest
 * one available: native whenever node:crypto supports Ed25519.
 */
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { nativeEd25519Available, verifyEd25519Native } from './ed25519-native.js'
import { ed, verifyEd25519Noble } from './ed25519-noble.js'
import type { RecordSigner } from './signer.js'
import type { Ed25519PublicKey } from '@libp2p/interface'

export type Ed25519Backend = 'noble' | 'native'
export const ED25519_BACKENDS: readonly Ed25519Backend[] = ['noble', 'native']

export type Ed25519Verify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean

export function ed25519Verifier (backend: Ed25519Backend): Ed25519Verify {
  return backend === 'native' ? verifyEd25519Native : verifyEd25519Noble
}

export function verifyEd25519 (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, backend: Ed25519Backend = defaultEd25519Backend()): boolean {
  return ed25519Verifier(backend)(publicKey, message, signature)
}

/** The fastest backend this runtime has. */
export function defaultEd25519Backend (): Ed25519Backend {
  return nativeEd25519Available() ? 'native' : 'noble'
}

export function isEd25519Backend (value: unknown): value is Ed25519Backend {
  return value === 'noble' || value === 'native'
}

/** A new 32-byte secret key (from the seed if given, else from the CSPRNG). */
export function generateEd25519SecretKey (seed?: Uint8Array): Uint8Array {
  return ed.utils.randomSecretKey(seed)
}

export function ed25519PublicKeyOf (secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey)
}

export function ed25519Sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey)
}

/** A record signer over a noble Ed25519 secret key. */
export function ed25519Signer (secretKey: Uint8Array): RecordSigner & { publicKey: Ed25519PublicKey } {
  const publicKey = publicKeyFromRaw(ed25519PublicKeyOf(secretKey))
  if (publicKey.type !== 'Ed25519') throw new TypeError('not an Ed25519 key')
  return {
    publicKey,
    sign: (data: Uint8Array) => ed25519Sign(data, secretKey)
  }
}

export function generateEd25519Signer (seed?: Uint8Array): RecordSigner & { publicKey: Ed25519PublicKey } {
  return ed25519Signer(generateEd25519SecretKey(seed))
}
