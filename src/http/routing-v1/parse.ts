/**
 * Reading the path parameters and the Accept header of Routing V1 requests,
 * as boxo's server reads them: CIDs in any multibase (and CIDv0), peer ids as
 * a CIDv1 libp2p-key in any multibase or a base58btc multihash (12D3…, Qm…),
 * IPNS names as a CIDv1 libp2p-key only. Anything else is a BadRequest (400).
 */
import { CID } from 'multiformats/cid'
import { bases } from 'multiformats/basics'
import { base58btc } from 'multiformats/bases/base58'
import * as Digest from 'multiformats/hashes/digest'

export const LIBP2P_KEY = 0x72
const IDENTITY = 0x00
const SHA2_256 = 0x12

export const MEDIA_JSON = 'application/json'
export const MEDIA_NDJSON = 'application/x-ndjson'
export const MEDIA_IPNS_RECORD = 'application/vnd.ipfs.ipns-record'

/** A request the server refuses before asking anything: status and a plain-text reason. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest'
  readonly status: number
  constructor (message: string, status = 400) {
    super(message)
    this.status = status
  }
}

/** every multibase multiformats knows (base32, base36, base58btc, base64, …) */
const byPrefix = new Map<string, { decode: (text: string) => Uint8Array }>(Object.values(bases).map(b => [b.prefix, b]))
const anyBase = {
  decode: (text: string): Uint8Array => {
    const base = byPrefix.get(text.slice(0, 1))
    if (base === undefined) throw new Error(`unknown multibase prefix '${text.slice(0, 1)}'`)
    return base.decode(text)
  }
}

export function parseCid (text: string): CID {
  try {
    // CIDv0 (Qm…) has no multibase prefix; CID.parse reads it as base58btc
    return text.startsWith('Qm') ? CID.parse(text) : CID.decode(anyBase.decode(text))
  } catch (err) {
    throw new BadRequest(`unable to parse CID: ${(err as Error).message}`)
  }
}

function checkKeyMultihash (digest: Digest.Digest<number, number>): void {
  if (digest.code === IDENTITY) return
  if (digest.code === SHA2_256 && digest.digest.byteLength === 32) return
  throw new Error(`multihash 0x${digest.code.toString(16)} of ${digest.digest.byteLength} bytes cannot name a key`)
}

/** A peer id in any accepted form → its base58btc text (what the bus takes) and its multihash bytes. */
export function parsePeerId (text: string): { peerId: string, multihash: Uint8Array } {
  try {
    let digest: Digest.Digest<number, number>
    if (text.startsWith('1') || text.startsWith('Q')) {
      digest = Digest.decode(base58btc.baseDecode(text))
    } else {
      const cid = CID.decode(anyBase.decode(text))
      if (cid.code !== LIBP2P_KEY) throw new Error(`CID codec 0x${cid.code.toString(16)} is not libp2p-key (0x72)`)
      digest = cid.multihash
    }
    checkKeyMultihash(digest)
    return { peerId: base58btc.baseEncode(digest.bytes), multihash: digest.bytes }
  } catch (err) {
    throw new BadRequest(`unable to parse peer ID: ${(err as Error).message}`)
  }
}

/** An IPNS name: a CIDv1 libp2p-key in any multibase (boxo refuses a base58 peer id here) → base36 text. */
export function parseIpnsName (text: string): CID {
  let cid: CID
  try {
    cid = CID.decode(anyBase.decode(text))
  } catch (err) {
    throw new BadRequest(`unable to parse CID: ${(err as Error).message}`)
  }
  if (cid.version !== 1 || cid.code !== LIBP2P_KEY) throw new BadRequest('peer ID CID is not valid: the IPNS name must be a CIDv1 with the libp2p-key codec (0x72)')
  try {
    checkKeyMultihash(cid.multihash)
  } catch (err) {
    throw new BadRequest(`peer ID CID is not valid: ${(err as Error).message}`)
  }
  return cid
}

/**
 * The key of a closest-peers lookup: a CID (any codec; a libp2p-key CID is a
 * peer id) or a base58 peer id. The DHT key is the multihash bytes, as kubo
 * and js kad-dht look it up.
 */
export function parseClosestKey (text: string): Uint8Array {
  if (text.startsWith('1')) return parsePeerId(text).multihash
  return parseCid(text).multihash.bytes
}

/**
 * boxo's detectResponseType: no Accept → JSON; NDJSON if any listed media
 * type is application/x-ndjson; else JSON if application/json or * / * is
 * listed (also application/*, which a browser may send); else 400.
 */
export function negotiate (accept: string | string[] | undefined): 'json' | 'ndjson' {
  if (accept === undefined) return 'json'
  const values = Array.isArray(accept) ? accept : [accept]
  if (values.length === 0 || values.every(v => v.trim() === '')) return 'json'
  let json = false
  let ndjson = false
  for (const header of values) {
    for (const part of header.split(',')) {
      const media = (part.split(';')[0] ?? '').trim().toLowerCase()
      if (media === MEDIA_NDJSON) ndjson = true
      else if (media === MEDIA_JSON || media === '*/*' || media === 'application/*') json = true
    }
  }
  if (ndjson) return 'ndjson'
  if (json) return 'json'
  throw new BadRequest(`no supported content types: send Accept: ${MEDIA_JSON} or ${MEDIA_NDJSON}`)
}
