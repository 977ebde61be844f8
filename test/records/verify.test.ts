/**
 * verifySignature for every key type agrees with @libp2p/crypto's own verify
 * (ECDSA there is async WebCrypto; ours is synchronous node:crypto with the
 * same parameters), and never throws.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifySignature } from '../../src/records/verify.js'
import type { SigCheck } from '../../src/records/verify.js'
import type { PrivateKey } from '@libp2p/interface'

const keys: PrivateKey[] = []
const data = new TextEncoder().encode('ipns-signature:some cbor')

beforeAll(async () => {
  keys.push(await generateKeyPair('RSA', 2048), await generateKeyPair('secp256k1'), await generateKeyPair('ECDSA'),
    await generateKeyPair('ECDSA', 'P-384'), await generateKeyPair('Ed25519'))
}, 60_000)

function mutations (sig: Uint8Array): Uint8Array[] {
  const flipped = (i: number): Uint8Array => { const c = Uint8Array.from(sig); c[i]! ^= 0x80; return c }
  return [sig, flipped(0), flipped(sig.length - 1), flipped(sig.length >> 1), sig.subarray(1), new Uint8Array(sig.length), new Uint8Array(0), Uint8Array.from([...sig, 0])]
}

describe('verifySignature', () => {
  it('agrees with @libp2p/crypto for every key type, valid and mutated', async () => {
    for (const key of keys) {
      const sig = await key.sign(data)
      for (const s of mutations(sig)) {
        for (const d of [data, data.subarray(1)]) {
          let expected: boolean
          try {
            expected = await key.publicKey.verify(d, s)
          } catch {
            expected = false
          }
          const check: SigCheck = { keyType: key.type, publicKey: key.publicKey.raw, data: d, signature: s }
          expect(verifySignature(check, 'noble'), key.type).toBe(expected)
          expect(verifySignature(check, 'native'), key.type).toBe(expected)
        }
      }
      expect(verifySignature({ keyType: key.type, publicKey: key.publicKey.raw, data, signature: sig })).toBe(true)
    }
  })

  it('rejects a key given under the wrong type', async () => {
    for (const key of keys) {
      const sig = await key.sign(data)
      for (const keyType of ['RSA', 'Ed25519', 'secp256k1', 'ECDSA'] as const) {
        if (keyType === key.type) continue
        expect(verifySignature({ keyType, publicKey: key.publicKey.raw, data, signature: sig })).toBe(false)
      }
    }
  })

  it('returns false for garbage instead of throwing', () => {
    const garbage = [null, undefined, 1, 'x', {}, { keyType: 'DSA', publicKey: new Uint8Array(32), data, signature: new Uint8Array(64) },
      { keyType: 'RSA', publicKey: Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x00]), data, signature: new Uint8Array(256) },
      { keyType: 'ECDSA', publicKey: new Uint8Array(91), data, signature: new Uint8Array(64) },
      { keyType: 'secp256k1', publicKey: new Uint8Array(33), data, signature: new Uint8Array(70) },
      { keyType: 'Ed25519', publicKey: 'abc', data, signature: new Uint8Array(64) }] as unknown as SigCheck[]
    for (const g of garbage) expect(verifySignature(g)).toBe(false)
    expect(verifySignature({ keyType: 'Ed25519', publicKey: new Uint8Array(32), data, signature: new Uint8Array(64) }, 'bogus' as 'native')).toBe(false)
  })
})
