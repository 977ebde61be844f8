/**
 * key/import of kubo's default format, `libp2p-protobuf-cleartext` (the
 * libp2p private-key protobuf, what `ipfs key export` writes): the bus's
 * key.import takes only sealed export documents, so the key is sealed here,
 * at once, under a one-time random passphrase, in the same format
 * `key.export` writes (docs/keys.md, "The export document"). The cleartext
 * never reaches the bus or a trace (the keys actor redacts the passphrase
 * of key.import in traces); the keys actor opens the seal and checks the
 * key against the document as it does for any import.
 */
import { randomBytes } from 'node:crypto'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { clientError } from './errors.js'
import { deriveKey, newKdfParams, seal } from '../../actors/keys/seal.js'
import { EXPORT_AAD } from '../../actors/keys/keystore.js'
import { nameFromPublicKey } from '../../records/name.js'
import type { ExportDocument } from '../../actors/keys/keystore.js'
import type { KeyType } from '../../messages/keys.js'
import type { PrivateKey } from '@libp2p/interface'

export interface SealedImport { data: string, passphrase: string }

/** the cleartext protobuf as an export document and the passphrase that opens it */
export async function sealCleartextKey (protobuf: Uint8Array): Promise<SealedImport> {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(protobuf)
  } catch (err) {
    throw clientError(`key/import: not a libp2p private key protobuf: ${(err as Error).message}`)
  }
  const passphrase = randomBytes(32).toString('base64')
  const kdf = newKdfParams()
  const doc: ExportDocument = {
    format: 'swarmbus-key',
    version: 1,
    keyType: key.type as KeyType,
    peerId: nameFromPublicKey(key.publicKey).format('base58btc'),
    kdf,
    sealed: seal(await deriveKey(passphrase, kdf), protobuf, EXPORT_AAD)
  }
  return { data: JSON.stringify(doc), passphrase }
}
