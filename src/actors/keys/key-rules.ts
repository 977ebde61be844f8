/** What a key name, type and size may be: one definition for the keystore, validation and the CLI. */
import type { KeyType } from '../../messages/keys.js'

/** 1–64 characters of A–Z a–z 0–9 . _ -, starting with a letter or digit */
export const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const KEY_TYPES: readonly KeyType[] = ['Ed25519', 'RSA', 'secp256k1', 'ECDSA']
export const RSA_BITS: readonly number[] = [2048, 3072, 4096]
/** longest key export document key.import takes */
export const MAX_EXPORT_CHARS = 64 * 1024
