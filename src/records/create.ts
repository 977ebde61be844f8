/**
 * Creating IPNS records. Defaults follow kubo and Helia: V1+V2 records (the
 * legacy V1 fields and signature alongside data/signatureV2), a 48 h lifetime
 * and a 5 min TTL. The EOL is `now + lifetime`, written like Go's RFC3339Nano.
 * The public key is embedded (pubKey) when it cannot be inlined in the name,
 * i.e. when its protobuf is longer than 42 bytes (RSA, ECDSA).
 */
import { publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { concat } from 'uint8arrays/concat'
import { encodeRecordData } from './cbor.js'
import { encodeEntry, MAX_RECORD_SIZE } from './codec.js'
import { recordError } from './errors.js'
import { nameFromPublicKey } from './name.js'
import { IpnsEntry } from './pb/ipns.js'
import { formatRfc3339Nano, nsToMs } from './rfc3339.js'
import { SIGNATURE_V2_PREFIX } from './validate.js'
import { normaliseValue } from './value.js'
import type { IpnsEntryInput } from './codec.js'
import type { IpnsName } from './name.js'
import type { RecordSigner } from './signer.js'
import type { RecordFields } from './validate.js'
import type { CID } from 'multiformats/cid'

export const DEFAULT_LIFETIME_MS = 48 * 60 * 60 * 1000
export const DEFAULT_TTL_NS = 5n * 60n * 1_000_000_000n

const UINT64_LIMIT = 1n << 64n
const EOL = 'EOL'

export interface CreateRecordOptions {
  /** the current time in ms since the epoch (injected: record code never reads the clock) */
  now: number
  /** uint64, default 0 */
  sequence?: bigint | number
  /** ms from `now` until the EOL, default 48 h */
  lifetimeMs?: number
  /** ns a resolver may cache the record, default 5 min */
  ttlNs?: bigint
  /** also write the legacy V1 fields and signature (default true, like kubo and Helia) */
  v1Compatible?: boolean
}

export interface CreatedRecord {
  /** the marshalled IpnsEntry */
  bytes: Uint8Array
  name: IpnsName
  fields: RecordFields
}

/** Creates and signs a record; throws InvalidRecordError for bad inputs. */
export async function createRecord (signer: RecordSigner, value: string | CID, options: CreateRecordOptions): Promise<CreatedRecord> {
  const path = normaliseValue(value)
  const sequence = toUint64(options.sequence ?? 0n, 'bad-sequence', 'sequence')
  const ttl = toUint64(options.ttlNs ?? DEFAULT_TTL_NS, 'bad-ttl', 'ttlNs')
  const validityNs = eolNs(options.now, options.lifetimeMs ?? DEFAULT_LIFETIME_MS)
  const validity = formatRfc3339Nano(validityNs)
  const valueBytes = new TextEncoder().encode(path)
  const validityBytes = new TextEncoder().encode(validity)

  const data = encodeRecordData({ value: valueBytes, validity: validityBytes, validityType: 0n, sequence, ttl })
  const signatureV2 = await sign(signer, concat([SIGNATURE_V2_PREFIX, data]))

  const name = nameFromPublicKey(signer.publicKey)
  const pubKey = name.inlinesKey ? undefined : publicKeyToProtobuf(signer.publicKey)
  const v1Compatible = options.v1Compatible ?? true
  const entry: IpnsEntryInput = { signatureV2, data }
  if (pubKey !== undefined) entry.pubKey = pubKey
  if (v1Compatible) {
    entry.value = valueBytes
    entry.validityType = IpnsEntry.ValidityType.EOL
    entry.validity = validityBytes
    entry.sequence = sequence
    entry.ttl = ttl
    entry.signatureV1 = await sign(signer, concat([valueBytes, validityBytes, new TextEncoder().encode(EOL)]))
  }
  const bytes = encodeEntry(entry)
  if (bytes.byteLength > MAX_RECORD_SIZE) throw recordError('too-large', `record would be ${bytes.byteLength} bytes, more than ${MAX_RECORD_SIZE}`)
  return {
    bytes,
    name,
    fields: {
      value: path,
      sequence,
      validity,
      validityMs: nsToMs(validityNs),
      validityNs,
      validityType: 0,
      ttl,
      keyType: signer.publicKey.type,
      hasPubKey: pubKey !== undefined,
      hasV1Signature: v1Compatible
    }
  }
}

function eolNs (now: number, lifetimeMs: number): bigint {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('now must be a finite number of milliseconds')
  if (typeof lifetimeMs !== 'number' || !Number.isFinite(lifetimeMs) || lifetimeMs < 0) {
    throw recordError('bad-lifetime', 'lifetimeMs must be a finite number ≥ 0')
  }
  return msToNsExact(now) + msToNsExact(lifetimeMs)
}

/** ms (possibly fractional, as from performance.timeOrigin + now()) to ns, as exactly as the double allows */
function msToNsExact (ms: number): bigint {
  const whole = Math.floor(ms)
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1_000_000))
}

function toUint64 (n: bigint | number, code: 'bad-sequence' | 'bad-ttl', what: string): bigint {
  let v: bigint
  if (typeof n === 'bigint') v = n
  else if (typeof n === 'number' && Number.isSafeInteger(n)) v = BigInt(n)
  else throw recordError(code, `${what} must be an integer`)
  if (v < 0n || v >= UINT64_LIMIT) throw recordError(code, `${what} must be in [0, 2^64)`)
  return v
}

async function sign (signer: RecordSigner, data: Uint8Array): Promise<Uint8Array> {
  let signature: Uint8Array
  try {
    signature = await signer.sign(data)
  } catch (err) {
    throw recordError('signing-failed', `signing failed: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!(signature instanceof Uint8Array) || signature.byteLength === 0) throw recordError('signing-failed', 'signer returned no signature')
  return signature
}
