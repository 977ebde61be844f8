/**
 * noise-crypto: ChaCha20-Poly1305 with one KeyObject per session key gives
 * the bytes noise's pure-JS cipher (@noble/ciphers) gives, on both sides of
 * the size at which it switches to Node's cipher, refuses tampered input, and
 * makes one key object per key array, a new one when the array is rewritten.
 * Noise sessions running on it are covered by every libp2p test, and against
 * Helia's stock noise by test/interop.
 */
import { randomBytes } from 'node:crypto'
import { pureJsCrypto } from '@chainsafe/libp2p-noise'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { keyCachingNoiseCrypto, NODE_CIPHER_FROM_BYTES } from '../../../../src/actors/swarm/tweaks/noise-crypto.js'

const nonce = (n: number): Uint8Array => { const b = new Uint8Array(12); new DataView(b.buffer).setUint32(4, n, true); return b }
const bytes = (x: Uint8Array | Uint8ArrayList): Uint8Array => x instanceof Uint8Array ? Uint8Array.from(x) : x.subarray()
const SIZES = [0, 1, 100, NODE_CIPHER_FROM_BYTES - 1, NODE_CIPHER_FROM_BYTES, 1_199, 1_200, 4_000, 65_519]

describe('keyCachingNoiseCrypto', () => {
  it('encrypts and decrypts exactly as the pure-JS cipher, at every size', () => {
    const c = keyCachingNoiseCrypto()
    const k = randomBytes(32)
    const ad = randomBytes(32)
    for (const [i, size] of SIZES.entries()) {
      const plain = randomBytes(size)
      const sealed = bytes(c.chaCha20Poly1305Encrypt(plain, nonce(i), ad, k))
      expect(sealed).toEqual(bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce(i), ad, k)))
      expect(bytes(c.chaCha20Poly1305Decrypt(sealed, nonce(i), ad, k))).toEqual(Uint8Array.from(plain))
    }
  })

  it('takes chunked input (Uint8ArrayList) like a flat array', () => {
    const c = keyCachingNoiseCrypto()
    const k = randomBytes(32)
    const ad = new Uint8Array(0)
    const plain = randomBytes(3_000)
    const list = new Uint8ArrayList(plain.subarray(0, 1_000), plain.subarray(1_000, 1_001), plain.subarray(1_001))
    const sealed = bytes(c.chaCha20Poly1305Encrypt(list, nonce(7), ad, k))
    expect(sealed).toEqual(bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce(7), ad, k)))
    const sealedList = new Uint8ArrayList(sealed.subarray(0, 10), sealed.subarray(10))
    expect(bytes(c.chaCha20Poly1305Decrypt(sealedList, nonce(7), ad, k))).toEqual(Uint8Array.from(plain))
  })

  it('refuses a tampered body or tag, other associated data, a wrong nonce and a wrong key, on both ciphers', () => {
    const c = keyCachingNoiseCrypto()
    const k = randomBytes(32)
    const ad = new Uint8Array(0)
    for (const size of [100, 2_000]) {
      const sealed = bytes(c.chaCha20Poly1305Encrypt(randomBytes(size), nonce(1), ad, k))
      const flipped = Uint8Array.from(sealed)
      flipped[5] = (flipped[5] ?? 0) ^ 1
      expect(() => c.chaCha20Poly1305Decrypt(flipped, nonce(1), ad, k)).toThrow()
      const badTag = Uint8Array.from(sealed)
      badTag[badTag.length - 1] = (badTag[badTag.length - 1] ?? 0) ^ 1
      expect(() => c.chaCha20Poly1305Decrypt(badTag, nonce(1), ad, k)).toThrow()
      expect(() => c.chaCha20Poly1305Decrypt(sealed, nonce(1), new Uint8Array([1]), k)).toThrow()
      expect(() => c.chaCha20Poly1305Decrypt(sealed, nonce(2), ad, k)).toThrow()
      expect(() => c.chaCha20Poly1305Decrypt(sealed, nonce(1), ad, randomBytes(32))).toThrow()
    }
  })

  it('makes one key object per key array, and a new one when the array is rewritten in place', () => {
    const c = keyCachingNoiseCrypto()
    const k = randomBytes(32)
    const plain = randomBytes(2_000)
    for (let i = 0; i < 10; i++) c.chaCha20Poly1305Decrypt(c.chaCha20Poly1305Encrypt(plain, nonce(i), new Uint8Array(0), k), nonce(i), new Uint8Array(0), k)
    expect(c.stats()).toEqual({ keysMade: 1, keysReused: 19 })

    k.set(randomBytes(32))
    const sealed = bytes(c.chaCha20Poly1305Encrypt(plain, nonce(0), new Uint8Array(0), k))
    expect(sealed).toEqual(bytes(pureJsCrypto.chaCha20Poly1305Encrypt(plain, nonce(0), new Uint8Array(0), k)))
    expect(c.stats().keysMade).toBe(2)

    // messages below the switch stay on noise's own cipher and make no key object
    c.chaCha20Poly1305Encrypt(randomBytes(10), nonce(1), new Uint8Array(0), randomBytes(32))
    expect(c.stats().keysMade).toBe(2)
  })

  it('keeps the rest of noise default crypto (handshake functions)', () => {
    const c = keyCachingNoiseCrypto()
    const a = c.generateX25519KeyPair()
    const b = c.generateX25519KeyPair()
    expect(bytes(c.generateX25519SharedKey(a.privateKey, b.publicKey))).toEqual(bytes(pureJsCrypto.generateX25519SharedKey(b.privateKey, a.publicKey)))
  })
})
