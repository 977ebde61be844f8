/**
 * Packs N signature checks into one ArrayBuffer (so a batch crosses to a
 * worker as a single transfer, with no structured cloning of N objects) and
 * the verdicts back into a bitmap.
 *
 * Request, little-endian:
 *   0        u32  magic 0x31425653 (bytes "SVB1")
 *   4        u32  N, the number of entries
 *   8        N entry headers of 16 bytes:
 *              u8 key type (libp2p KeyType: 0 RSA, 1 Ed25519, 2 secp256k1, 3 ECDSA; 255 = unusable entry)
 *              3 bytes zero
 *              u32 key length, u32 signature length, u32 data length
 *   8 + 16N  payload: for each entry in order, key ‖ signature ‖ data
 * Result: ceil(N / 8) bytes; bit (i mod 8) of byte ⌊i / 8⌋ (LSB first) is 1 when entry i verified.
 *
 * Decoding never throws: entries whose bytes fall outside the buffer, and all
 * entries after them, are unusable (their bit stays 0).
 */
import { isSigCheck } from '../records/verify.js'
import type { SigCheck } from '../records/verify.js'
import type { KeyType } from '@libp2p/interface'

export const BATCH_MAGIC = 0x31425653
export const HEADER_BYTES = 8
export const ENTRY_HEADER_BYTES = 16
/** the most entries one batch may hold */
export const MAX_BATCH_ENTRIES = 65_536
/** field limits: an 8192-bit RSA key is ≈ 1.1 KB, its signature 1 KB; signed data is ≤ 10 KiB + prefix for records */
export const MAX_KEY_BYTES = 4096
export const MAX_SIGNATURE_BYTES = 4096
export const MAX_DATA_BYTES = 64 * 1024

const UNUSABLE = 255
const KEY_CODES: Record<KeyType, number> = { RSA: 0, Ed25519: 1, secp256k1: 2, ECDSA: 3 }
const CODE_KEYS: ReadonlyArray<KeyType | undefined> = ['RSA', 'Ed25519', 'secp256k1', 'ECDSA']

/** A decoded entry: views into the batch buffer, or undefined when unusable. */
export type BatchEntry = SigCheck | undefined

function usable (check: unknown): check is SigCheck {
  return isSigCheck(check) &&
    check.publicKey.byteLength <= MAX_KEY_BYTES &&
    check.signature.byteLength <= MAX_SIGNATURE_BYTES &&
    check.data.byteLength <= MAX_DATA_BYTES
}

/** Encodes checks into one buffer; a malformed or oversized check becomes an unusable entry. */
export function encodeBatch (checks: readonly unknown[]): ArrayBuffer {
  if (checks.length > MAX_BATCH_ENTRIES) throw new RangeError(`a batch holds at most ${MAX_BATCH_ENTRIES} checks`)
  let payload = 0
  for (const check of checks) {
    if (usable(check)) payload += check.publicKey.byteLength + check.signature.byteLength + check.data.byteLength
  }
  const tableEnd = HEADER_BYTES + ENTRY_HEADER_BYTES * checks.length
  const buffer = new ArrayBuffer(tableEnd + payload)
  const view = new DataView(buffer)
  const bytes = new Uint8Array(buffer)
  view.setUint32(0, BATCH_MAGIC, true)
  view.setUint32(4, checks.length, true)
  let offset = tableEnd
  checks.forEach((check, i) => {
    const at = HEADER_BYTES + ENTRY_HEADER_BYTES * i
    if (!usable(check)) {
      view.setUint8(at, UNUSABLE)
      return
    }
    view.setUint8(at, KEY_CODES[check.keyType])
    view.setUint32(at + 4, check.publicKey.byteLength, true)
    view.setUint32(at + 8, check.signature.byteLength, true)
    view.setUint32(at + 12, check.data.byteLength, true)
    for (const part of [check.publicKey, check.signature, check.data]) {
      bytes.set(part, offset)
      offset += part.byteLength
    }
  })
  return buffer
}

/** The number of entries a batch declares (0 when its header is unreadable). */
export function batchLength (buffer: ArrayBuffer): number {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_BYTES) return 0
  const view = new DataView(buffer)
  if (view.getUint32(0, true) !== BATCH_MAGIC) return 0
  const n = view.getUint32(4, true)
  return n <= MAX_BATCH_ENTRIES ? n : 0
}

/** Decodes a batch into entries (views into `buffer`); never throws. */
export function decodeBatch (buffer: ArrayBuffer): BatchEntry[] {
  const n = batchLength(buffer)
  const entries: BatchEntry[] = new Array<BatchEntry>(n).fill(undefined)
  const tableEnd = HEADER_BYTES + ENTRY_HEADER_BYTES * n
  if (n === 0 || tableEnd > buffer.byteLength) return entries
  const view = new DataView(buffer)
  let offset = tableEnd
  for (let i = 0; i < n; i++) {
    const at = HEADER_BYTES + ENTRY_HEADER_BYTES * i
    const code = view.getUint8(at)
    if (code === UNUSABLE) continue
    const keyLen = view.getUint32(at + 4, true)
    const sigLen = view.getUint32(at + 8, true)
    const dataLen = view.getUint32(at + 12, true)
    const end = offset + keyLen + sigLen + dataLen
    if (keyLen > MAX_KEY_BYTES || sigLen > MAX_SIGNATURE_BYTES || dataLen > MAX_DATA_BYTES || end > buffer.byteLength) break
    const keyType = CODE_KEYS[code]
    if (keyType !== undefined) {
      entries[i] = {
        keyType,
        publicKey: new Uint8Array(buffer, offset, keyLen),
        signature: new Uint8Array(buffer, offset + keyLen, sigLen),
        data: new Uint8Array(buffer, offset + keyLen + sigLen, dataLen)
      }
    }
    offset = end
  }
  return entries
}

export function encodeResults (verdicts: readonly boolean[]): ArrayBuffer {
  const bits = new Uint8Array(Math.ceil(verdicts.length / 8))
  verdicts.forEach((ok, i) => {
    if (ok) bits[i >> 3]! |= 1 << (i & 7)
  })
  return bits.buffer
}

/** Reads `count` verdicts; bits missing from a short buffer read as false. */
export function decodeResults (buffer: ArrayBuffer, count: number): boolean[] {
  const bits = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(0)
  const out = new Array<boolean>(count)
  for (let i = 0; i < count; i++) out[i] = (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) === 1
  return out
}
