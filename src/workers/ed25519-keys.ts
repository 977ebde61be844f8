/**
 * Ed25519 verification for a batch, with the key objects made the cheap way.
 *
 * node:crypto's `createPublicKey` costs about 30–80 µs for an Ed25519 key
 * (its argument checks throw and catch internally), a fifth to a half of a
 * verification; WebCrypto's raw import builds the same OpenSSL key in about
 * 10 µs, and `KeyObject.from` turns it into a key object for the synchronous
 * `verify`. The import is async, so a batch imports all its keys first, then
 * verifies synchronously. The same acceptance policy as both backends
 * (ed25519-policy.ts) is applied first, so verdicts equal verifyEd25519Native's.
 */
import { KeyObject, verify, webcrypto } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { passesEd25519Policy } from '../records/ed25519-policy.js'

/** keys kept per thread (a record's key is often seen again: republished sequences, several records of a name) */
export const KEY_CACHE_SIZE = 1024
const keys = new LRUCache<string, KeyObject>({ max: KEY_CACHE_SIZE })

const idOf = (raw: Uint8Array): string => Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')

/** One key object per raw key (undefined when the policy or OpenSSL refuses it). */
export async function importEd25519Keys (raws: readonly Uint8Array[]): Promise<Array<KeyObject | undefined>> {
  return await Promise.all(raws.map(async raw => {
    const id = idOf(raw)
    const known = keys.get(id)
    if (known !== undefined) return known
    try {
      const key = KeyObject.from(await webcrypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, true, ['verify']))
      keys.set(id, key)
      return key
    } catch {
      return undefined
    }
  }))
}

/** verifyEd25519Native with a key object already made for `publicKey` */
export function verifyEd25519WithKey (key: KeyObject | undefined, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (key === undefined || !passesEd25519Policy(publicKey, signature)) return false
  try {
    return verify(null, message, key, signature)
  } catch {
    return false
  }
}
