/**
 * Record values: content paths an IPNS name points at.
 *
 * Creating: `/ipfs/<cid>[/sub/path]` or `/ipns/<ipns-name | dnslink-domain>[/sub/path]`
 * (a CID is turned into `/ipfs/<cidv1>`, a libp2p-key CID into `/ipns/<name>`).
 * Reading: like the npm `ipns` package, a UTF-8 value starting with `/` is taken
 * as is (after trimming whitespace); otherwise binary CID bytes or a CID string
 * become `/ipfs/<cidv1>`; anything else is 'bad-value'.
 */
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { recordError } from './errors.js'
import { LIBP2P_KEY_CODEC, parseName } from './name.js'

const cidDecoder = base32.decoder.or(base36.decoder).or(base58btc.decoder)
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
// a DNSLink domain: dot-separated LDH labels, at least two labels
const DOMAIN = /^(?=.{1,253}$)(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** Checks and normalises a value for a new record; throws InvalidRecordError('bad-value'). */
export function normaliseValue (value: string | CID): string {
  const cid = CID.asCID(value)
  if (cid !== null) {
    if (cid.code === LIBP2P_KEY_CODEC) return `/ipns/${cid.toString(base36)}`
    return `/ipfs/${cid.toV1().toString()}`
  }
  if (typeof value !== 'string') throw recordError('bad-value', 'value must be a content path or a CID')
  checkContentPath(value)
  return value
}

/** Throws InvalidRecordError('bad-value') unless `path` is `/ipfs/<cid>…` or `/ipns/<name|domain>…`. */
export function checkContentPath (path: string): void {
  const m = /^\/(ipfs|ipns)\/([^/]+)(\/.*)?$/s.exec(path)
  if (m === null) throw recordError('bad-value', `value must be /ipfs/<cid>[/path] or /ipns/<name>[/path], got ${JSON.stringify(path.slice(0, 80))}`)
  const [, namespace, root, rest] = m as unknown as [string, 'ipfs' | 'ipns', string, string | undefined]
  if (rest !== undefined && CONTROL.test(rest)) throw recordError('bad-value', 'value path contains control characters')
  if (namespace === 'ipfs') {
    try {
      CID.parse(root, root.startsWith('Qm') ? base58btc : cidDecoder)
    } catch (err) {
      throw recordError('bad-value', `/ipfs/ root is not a CID: ${err instanceof Error ? err.message : String(err)}`)
    }
    return
  }
  if (DOMAIN.test(root)) return
  parseNameAsValue(root)
}

function parseNameAsValue (root: string): void {
  try {
    parseName(root)
  } catch {
    throw recordError('bad-value', `/ipns/ root is neither an IPNS name nor a DNSLink domain: ${JSON.stringify(root.slice(0, 80))}`)
  }
}

/** Reads a record's Value bytes the way the npm `ipns` package does; throws InvalidRecordError('bad-value'). */
export function decodeValue (bytes: Uint8Array): string {
  let text: string | undefined
  try {
    text = utf8.decode(bytes).trim()
  } catch {
    // not UTF-8: maybe binary CID bytes, tried next
    text = undefined
  }
  if (text?.startsWith('/') === true) return text
  try {
    return `/ipfs/${CID.decode(bytes).toV1().toString()}`
  } catch {
    // not binary CID bytes
  }
  if (text !== undefined) {
    try {
      return `/ipfs/${CID.parse(text, text.startsWith('Qm') ? base58btc : cidDecoder).toV1().toString()}`
    } catch {
      // not a CID string either
    }
  }
  throw recordError('bad-value', 'Value is neither a path starting with / nor a CID')
}
