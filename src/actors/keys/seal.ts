/**
 * Passphrase-based sealing with node:crypto: scrypt derives a 256-bit key from
 * the passphrase and a random salt, AES-256-GCM encrypts and authenticates.
 * The parameters and salt travel with the sealed data, so they can change
 * without breaking what was sealed before.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto'
import { InvalidCommandError } from '../../messages/errors.js'

export interface KdfParams {
  name: 'scrypt'
  /** CPU/memory cost (a power of two) */
  N: number
  r: number
  p: number
  /** base64 */
  salt: string
}

export interface Sealed {
  cipher: 'aes-256-gcm'
  /** base64 12-byte nonce */
  iv: string
  /** base64 16-byte authentication tag */
  tag: string
  /** base64 ciphertext */
  data: string
}

/** 2^15 × 8 × 1 ≈ 32 MiB and ~50–100 ms here: OWASP's scrypt floor is 2^17/8/1; we take 2^15 for a keystore opened often and allow more. */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 } as const
/** bounds on parameters read from disk or an import, so a crafted file cannot ask for gigabytes */
const MAX_N = 2 ** 20
const MAX_RP = 16

export function newKdfParams (): KdfParams {
  return { name: 'scrypt', ...DEFAULT_KDF, salt: randomBytes(16).toString('base64') }
}

export async function deriveKey (passphrase: string, params: KdfParams): Promise<Buffer> {
  if (params.name !== 'scrypt' || !Number.isInteger(params.N) || params.N < 2 || params.N > MAX_N || (params.N & (params.N - 1)) !== 0 ||
    !Number.isInteger(params.r) || params.r < 1 || params.r > MAX_RP || !Number.isInteger(params.p) || params.p < 1 || params.p > MAX_RP) {
    throw new InvalidCommandError('data', 'unsupported or out-of-range key derivation parameters')
  }
  const salt = Buffer.from(params.salt, 'base64')
  if (salt.byteLength < 8) throw new InvalidCommandError('data', 'key derivation salt is too short')
  return await new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFKC'), salt, 32, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 }, (err, key) => {
      if (err !== null) reject(err)
      else resolve(key)
    })
  })
}

export function seal (key: Buffer, plaintext: Uint8Array, aad: string): Sealed {
  const iv = randomBytes(12)
  const c = createCipheriv('aes-256-gcm', key, iv)
  c.setAAD(Buffer.from(aad))
  const data = Buffer.concat([c.update(plaintext), c.final()])
  return { cipher: 'aes-256-gcm', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') }
}

/** Opens sealed data; a wrong key (wrong passphrase) or tampering fails authentication. */
export function unseal (key: Buffer, sealed: Sealed, aad: string): Uint8Array {
  if (sealed.cipher !== 'aes-256-gcm') throw new InvalidCommandError('data', `unsupported cipher '${String(sealed.cipher)}'`)
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
    d.setAAD(Buffer.from(aad))
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'))
    return new Uint8Array(Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]))
  } catch {
    throw new InvalidCommandError('passphrase', 'wrong passphrase (or the data was altered)')
  }
}
