import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import { base36 } from 'multiformats/bases/base36'
import { describe, expect, it } from 'vitest'
import { InvalidRecordError } from '../../src/messages/errors.js'
import {
  DAG_PB_CODEC, IpnsName, nameFromPublicKey, nameFromRoutingKey, nameToRoutingKey, parseName, toIpnsName
} from '../../src/records/name.js'
import { nameVectors } from './helpers.js'

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    if (err instanceof InvalidRecordError) return err.code
    throw err
  }
  return undefined
}

describe('names.json vectors', () => {
  for (const v of nameVectors()) {
    describe(`${v.key_type} ${v.peer_id_b58mh}`, () => {
      it('b58 peer id → base36 CIDv1 libp2p-key', () => {
        expect(parseName(v.peer_id_b58mh).name.toString()).toBe(v.ipns_name_base36)
      })
      it('base36 → b58 peer id', () => {
        expect(parseName(v.ipns_name_base36).name.format('base58btc')).toBe(v.peer_id_b58mh)
      })
      it('both forms name the same multihash, also with /ipns/ and a trailing path', () => {
        const a = parseName(`/ipns/${v.peer_id_b58mh}/a/b`)
        const b = parseName(`/ipns/${v.ipns_name_base36}/a/b`)
        expect(a.name.equals(b.name)).toBe(true)
        expect(a.path).toBe('/a/b')
        expect(b.path).toBe('/a/b')
      })
      it('base32 form round-trips', () => {
        const name = parseName(v.ipns_name_base36).name
        const b32 = name.format('base32')
        expect(b32.startsWith('b')).toBe(true)
        expect(parseName(b32).name.equals(name)).toBe(true)
      })
      it('routing key is /ipns/ + multihash and reads back', () => {
        const name = parseName(v.peer_id_b58mh).name
        const key = nameToRoutingKey(name)
        expect(new TextDecoder().decode(key.subarray(0, 6))).toBe('/ipns/')
        expect(key.subarray(6)).toEqual(peerIdFromString(v.peer_id_b58mh).toMultihash().bytes)
        expect(nameFromRoutingKey(key).toString()).toBe(v.ipns_name_base36)
      })
      if (v.cidv1_dag_pb_base36 !== undefined) {
        const dagPb = v.cidv1_dag_pb_base36
        it('dag-pb CIDv1 form (legacy) is produced, but not accepted as a name', () => {
          const name = parseName(v.ipns_name_base36).name
          expect(name.toCID(DAG_PB_CODEC).toString(base36)).toBe(dagPb)
          expect(codeOf(() => parseName(dagPb))).toBe('bad-name')
        })
      }
    })
  }
})

describe('parseName', () => {
  it('accepts 12D3Koo…, k51…, bafz… with or without /ipns/', async () => {
    const key = await generateKeyPair('Ed25519')
    const name = nameFromPublicKey(key.publicKey)
    for (const text of [name.format('base58btc'), name.toString(), name.format('base32')]) {
      for (const input of [text, `/ipns/${text}`, `/ipns/${text}/`, `${text}/x/y.txt`]) {
        const parsed = parseName(input)
        expect(parsed.name.equals(name)).toBe(true)
        expect(parsed.path).toBe(input.slice(input.indexOf(text) + text.length))
      }
    }
    expect(name.toString().startsWith('k51')).toBe(true)
    expect(name.format('base32').startsWith('bafz')).toBe(true)
    expect(name.format('base58btc').startsWith('12D3Koo')).toBe(true)
  })

  it('rejects what is not an IPNS name with code bad-name', () => {
    const bad = [
      '', '/ipns/', 'example.com', 'QmNotBase58!!', 'k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36d', // truncated
      // a CIDv1 raw (0x55) of a sha2-256 hash
      'bafkreidfdrlkeq4m4xnxuyx6iae76fdm4wgl5d4xzsb77ixhyqwumhz244',
      // a truncated sha2-256 multihash (a whole Qm… is a valid name: CIDv0 and RSA peer ids share the form)
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbd',
      // identity multihash that is not a key
      'bafzaaaaaaaa'
    ]
    for (const input of bad) expect(codeOf(() => parseName(input)), input).toBe('bad-name')
  })

  it('rejects malformed routing keys', () => {
    const ok = nameToRoutingKey(parseName('12D3KooWSzRuSFHgLsKr6jJboAPdP7xMga2YBgBspYuErxswcgvt').name)
    expect(codeOf(() => nameFromRoutingKey(ok.subarray(1)))).toBe('bad-name')
    expect(codeOf(() => nameFromRoutingKey(ok.subarray(0, ok.length - 1)))).toBe('bad-name')
    expect(codeOf(() => nameFromRoutingKey(new TextEncoder().encode('/pk/abc')))).toBe('bad-name')
  })
})

describe('public key ⇄ name', () => {
  it('inlines Ed25519 and secp256k1 keys with the identity hash', async () => {
    for (const type of ['Ed25519', 'secp256k1'] as const) {
      const key = await generateKeyPair(type)
      const name = nameFromPublicKey(key.publicKey)
      expect(name.inlinesKey).toBe(true)
      expect(name.publicKey()?.equals(key.publicKey)).toBe(true)
      expect(name.multihash.bytes).toEqual(key.publicKey.toMultihash().bytes)
    }
  })

  it('hashes RSA and ECDSA keys (protobuf > 42 bytes) with sha2-256, like go-libp2p', async () => {
    const ecdsa = await generateKeyPair('ECDSA')
    const name = nameFromPublicKey(ecdsa.publicKey)
    expect(name.inlinesKey).toBe(false)
    expect(name.multihash.code).toBe(0x12)
    expect(name.publicKey()).toBeUndefined()
    expect(name.format('base58btc').startsWith('Qm')).toBe(true)
  })

  it('toIpnsName takes text, IpnsName or routing key', () => {
    const name = parseName('k51qzi5uqu5dk3v4rmjber23h16xnr23bsggmqqil9z2gduiis5se8dht36dam').name
    expect(toIpnsName(name)).toBe(name)
    expect(toIpnsName(name.toRoutingKey()).equals(name)).toBe(true)
    expect(toIpnsName('/ipns/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d').equals(name)).toBe(true)
    expect(IpnsName.fromMultihashBytes(name.multihash.bytes).equals(name)).toBe(true)
  })
})
