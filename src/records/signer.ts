/**
 * What signs a record: a public key and a sign function. A libp2p PrivateKey
 * (any key type, from @libp2p/crypto) fits as is; ed25519.ts makes one from a
 * noble secret key.
 */
import type { PublicKey } from '@libp2p/interface'

export interface RecordSigner {
  readonly publicKey: PublicKey
  sign (data: Uint8Array): Uint8Array | Promise<Uint8Array>
}
