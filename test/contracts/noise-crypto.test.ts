/**
 * Contract: noise-crypto.ts gives @chainsafe/libp2p-noise its own crypto
 * (`noise({ crypto })`): noise's `defaultCrypto` from
 * '@chainsafe/libp2p-noise/crypto' with ChaCha20-Poly1305 replaced. That
 * holds while the `crypto` option is used for the transport messages, the
 * `./crypto` export carries every function of ICryptoInterface, and noise
 * passes the same key `Uint8Array` for every message of a cipher state (the
 * key-object cache is keyed by that array). Written against
 * @chainsafe/libp2p-noise 17.0.0.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { keyCachingNoiseCrypto } from '../../src/actors/swarm/tweaks/noise-crypto.js'
import { key, startNode, stopNodes, until, writtenAgainst } from './support.js'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'

afterEach(stopNodes)

const FUNCTIONS: Array<keyof ICryptoInterface> = ['hashSHA256', 'getHKDF', 'generateX25519KeyPair', 'generateX25519KeyPairFromSeed', 'generateX25519SharedKey', 'chaCha20Poly1305Encrypt', 'chaCha20Poly1305Decrypt']

describe('contract: noise crypto hook (noise-crypto.ts)', () => {
  it('@chainsafe/libp2p-noise is 17.0.0', () => { writtenAgainst('@chainsafe/libp2p-noise', '17.0.0') })

  it('./crypto exports defaultCrypto with every ICryptoInterface function, and ours keeps them all', () => {
    for (const f of FUNCTIONS) expect(typeof defaultCrypto[f], f).toBe('function')
    const ours = keyCachingNoiseCrypto()
    for (const f of Object.keys(defaultCrypto)) expect(typeof (ours as unknown as Record<string, unknown>)[f], f).toBe('function')
  })

  it('noise encrypts a connection\'s messages through the crypto it is given, one key array per cipher state', async () => {
    const crypto = keyCachingNoiseCrypto()
    const ours = await startNode('noise', 0, {}, o => ({ ...o, connectionEncrypters: [noise({ crypto })] }))
    const peer = await startNode('noise', 1)
    await ours.dial(peer.getMultiaddrs())
    const size = (): number => (ours.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
    expect(await until(() => size() === 1)).toBe(true)
    // PUT_VALUEs of 2 KiB: each goes out, and comes back echoed, as one message above the 512 B threshold
    const value = new Uint8Array(2048).fill(7)
    for (let i = 0; i < 4; i++) {
      for await (const _ of ours.services.dht.put(key(`noise-${i}`), value, { signal: AbortSignal.timeout(15_000) })) { /* events */ }
    }
    const { keysMade, keysReused } = crypto.stats()
    // one connection: a key per direction (and per stream-muxed session nothing more)
    expect(keysMade, 'noise handed its cipher a fresh key array per message').toBeLessThanOrEqual(2)
    expect(keysMade).toBeGreaterThanOrEqual(1)
    expect(keysReused, 'the messages of the connection went through the crypto given to noise()').toBeGreaterThanOrEqual(6)
  }, 60_000)
})
