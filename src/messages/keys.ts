/**
 * Protocol of the keys actor: named keys in the node's repo, encrypted at rest.
 * `self` is the node's own key (its peer id); it can be listed and exported
 * but not renamed, removed or replaced.
 */

export type KeyType = 'Ed25519' | 'RSA' | 'secp256k1' | 'ECDSA'

export interface KeyInfo {
  name: string
  type: KeyType
  /** the key's peer id (base58btc), which is also its IPNS name in another form */
  peerId: string
  /** the IPNS name of the key: CIDv1 libp2p-key in base36 (k51…) */
  ipnsName: string
}

export interface KeyGenerate { type: 'key.generate', name: string, keyType?: KeyType, bits?: number }
export interface KeyList { type: 'key.list' }
export interface KeyRename { type: 'key.rename', from: string, to: string }
export interface KeyRemove { type: 'key.remove', name: string }
export interface KeyExport { type: 'key.export', name: string, passphrase: string }
export interface KeyImport { type: 'key.import', name: string, data: string, passphrase: string }

declare module './commands.js' {
  interface CommandMap {
    'key.generate': { command: KeyGenerate, reply: KeyInfo }
    'key.list': { command: KeyList, reply: { keys: KeyInfo[] } }
    'key.rename': { command: KeyRename, reply: KeyInfo }
    'key.remove': { command: KeyRemove, reply: KeyInfo }
    /** an encrypted, importable text (see docs/keys.md for the format) */
    'key.export': { command: KeyExport, reply: { name: string, data: string } }
    'key.import': { command: KeyImport, reply: KeyInfo }
  }
}
