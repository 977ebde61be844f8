/**
 * The crypto noise runs on: @chainsafe/libp2p-noise's own default, except
 * that ChaCha20-Poly1305 on Node's cipher is given a `KeyObject` made once per
 * session key instead of the raw 32 bytes for every message.
 *
 * Why: Node's `createCipheriv` with a raw key first asks whether the key is a
 * KeyObject and then whether it is a CryptoKey, and each "no" is an exception
 * thrown and caught inside Node. That was ≈ 20 µs of a 30 µs encryption and
 * 8 % of the CPU of 100 concurrent resolves (docs/libp2p-notes.md). With a
 * KeyObject the cipher costs 9–11 µs for 0.5–1.5 KB, less than the WebAssembly
 * cipher noise uses below 1,200 bytes, so messages from 512 bytes up go to
 * Node's cipher here, and smaller ones stay on noise's WebAssembly cipher.
 *
 * The cipher itself, the handshake (X25519, SHA-256, HKDF) and the framing are
 * noise's; only where the key object comes from changes.
 *
 * The cache: a WeakMap from the key array noise holds for a session (it
 * passes the same `Uint8Array` for every message of a cipher state) to its
 * KeyObject. An entry lives as long as noise holds that array; the bytes are
 * compared on every use, so a key array rewritten in place is never
 * encrypted with under its old key.
 *
 * Node only, like the rest of the runtime: Electron's Node has no
 * chacha20-poly1305, and noise's own fallback for it is not kept here.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import type { KeyObject } from 'node:crypto'

const CIPHER = 'chacha20-poly1305'
const TAG_BYTES = 16
/** from this size up, Node's cipher with a KeyObject is faster than noise's WebAssembly one (measured 0.5–16 KB) */
export const NODE_CIPHER_FROM_BYTES = 512

interface CachedKey { readonly bytes: Uint8Array, readonly key: KeyObject }

export interface NoiseCryptoStats { keysMade: number, keysReused: number }

export interface KeyCachingNoiseCrypto extends ICryptoInterface {
  stats: () => NoiseCryptoStats
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

export function keyCachingNoiseCrypto (): KeyCachingNoiseCrypto {
  const keys = new WeakMap<Uint8Array, CachedKey>()
  const stats: NoiseCryptoStats = { keysMade: 0, keysReused: 0 }

  const keyObject = (k: Uint8Array): KeyObject => {
    const cached = keys.get(k)
    if (cached !== undefined && sameBytes(cached.bytes, k)) {
      stats.keysReused++
      return cached.key
    }
    const key = createSecretKey(k)
    keys.set(k, { bytes: Uint8Array.from(k), key })
    stats.keysMade++
    return key
  }

  return {
    ...defaultCrypto,
    stats: () => ({ ...stats }),

    chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
      if (plaintext.byteLength < NODE_CIPHER_FROM_BYTES) return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
      const input = plaintext instanceof Uint8Array ? plaintext : plaintext.subarray()
      const cipher = createCipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES })
      cipher.setAAD(ad, { plaintextLength: input.byteLength })
      // chacha20-poly1305 is a stream cipher: update() returns every byte, final() none
      const parts = [cipher.update(input), cipher.final(), cipher.getAuthTag()]
      return Buffer.concat(parts)
    },

    chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
      if (ciphertext.byteLength < NODE_CIPHER_FROM_BYTES + TAG_BYTES) return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
      const input = ciphertext instanceof Uint8Array ? ciphertext : ciphertext.subarray()
      const bodyBytes = input.byteLength - TAG_BYTES
      const decipher = createDecipheriv(CIPHER, keyObject(k), nonce, { authTagLength: TAG_BYTES })
      decipher.setAAD(ad, { plaintextLength: bodyBytes })
      decipher.setAuthTag(input.subarray(bodyBytes))
      const plain = decipher.update(input.subarray(0, bodyBytes))
      // final() throws when the tag does not verify; it returns no bytes (a stream cipher)
      const rest = decipher.final()
      return rest.byteLength === 0 ? plain : Buffer.concat([plain, rest])
    }
  }
}
