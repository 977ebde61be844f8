/**
 * The fixed material of the IPNS simulation, made once per test file (signing
 * is the expensive part, so seeds share it): peer ids, the node identities a
 * seed picks from, the external names (published by keys outside the node)
 * with a pool of genuine records each, and per name the records lying peers
 * serve: a forged one (higher sequence, broken signature), one signed by
 * another key, and a genuine one of a high sequence that has expired; and a
 * chain name, whose one record points at the node's own name.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeEntry, encodeEntry } from '../../src/records/codec.js'
import { createRecord } from '../../src/records/create.js'
import { nameFromPublicKey } from '../../src/records/name.js'
import type { PrivateKey } from '@libp2p/interface'
import { HONEST_MAX_MS, SimPeer } from '../helpers/sim-dht.js'
import type { Lies, PeerKind } from '../helpers/sim-dht.js'
import type { Rng } from '../../src/actors/runtime/rng.js'

/** 2026-01-01T00:00:00Z: the simulated clock starts here, so records carry real-looking EOLs */
export const T0 = Date.UTC(2026, 0, 1)
export const CID = 'bafkqaddwgevxmmraojswg33smq'
/** TTL of the external names' records (what a resolver may cache them for) */
export const EXT_TTL_MS = 2_000
/** sequences 0..EXT_SEQS-1 of each external name exist */
export const EXT_SEQS = 8

export interface Genuine { sequence: bigint, value: string, validity: string, validityMs: number, bytes: Uint8Array }

export interface ExtName { name: string, records: Genuine[] }

export interface Identity {
  key: PrivateKey
  peerId: string
  name: string
  lies: NameLies
  /** the chain name's record that points at this identity's name (/ipns/<name>) */
  link: Genuine
}

interface NameLies { forged: Uint8Array, wrongKey: Uint8Array, expired: Genuine }

export interface SimMaterial {
  peerIds: string[]
  identities: Identity[]
  ext: ExtName[]
  /** an external name whose record points at the node's own name: a resolve of it takes two hops */
  chain: string
}

const seedBytes = (n: number): Uint8Array => {
  const b = new Uint8Array(32)
  b[0] = n & 0xff
  b[1] = (n >> 8) & 0xff
  b[31] = 0x5a
  return b
}

async function keyOf (n: number): Promise<PrivateKey> {
  return await generateKeyPairFromSeed('Ed25519', seedBytes(n))
}

async function genuine (key: PrivateKey, value: string, sequence: number, now: number, lifetimeMs: number, ttlMs: number): Promise<Genuine> {
  const r = await createRecord(key, value, { now, sequence, lifetimeMs, ttlNs: BigInt(ttlMs) * 1_000_000n })
  return { sequence: r.fields.sequence, value: r.fields.value, validity: r.fields.validity, validityMs: r.fields.validityMs, bytes: r.bytes }
}

async function liesFor (key: PrivateKey, other: PrivateKey): Promise<NameLies> {
  const real = await createRecord(key, `/ipfs/${CID}/forged`, { now: T0, sequence: 900 })
  const entry = decodeEntry(real.bytes)
  const sig = Uint8Array.from(entry.signatureV2 ?? new Uint8Array(64))
  sig[10] = (sig[10] ?? 0) ^ 0xff
  const forged = encodeEntry({ ...entry, signatureV2: sig })
  const wrongKey = (await createRecord(other, `/ipfs/${CID}/wrong-key`, { now: T0, sequence: 901 })).bytes
  // genuine, the highest sequence of all, and expired an hour before the simulation starts
  const expired = await genuine(key, `/ipfs/${CID}/expired`, 902, T0 - 2 * 3_600_000, 3_600_000, 60_000)
  return { forged, wrongKey, expired }
}

export async function makeMaterial (identities = 8, peers = 16, extNames = 2): Promise<SimMaterial> {
  const other = await keyOf(9999)
  const peerIds: string[] = []
  for (let i = 0; i < peers; i++) peerIds.push(peerIdFromPrivateKey(await keyOf(1000 + i)).toString())
  const chainKey = await keyOf(4000)
  const ids: Identity[] = []
  for (let i = 0; i < identities; i++) {
    const key = await keyOf(2000 + i)
    const name = nameFromPublicKey(key.publicKey).format('base36')
    const link = await genuine(chainKey, `/ipns/${name}`, 0, T0, 2 * 24 * 3_600_000, EXT_TTL_MS)
    ids.push({ key, peerId: peerIdFromPrivateKey(key).toString(), name, lies: await liesFor(key, other), link })
  }
  const ext: Array<ExtName & { lies: NameLies }> = []
  for (let i = 0; i < extNames; i++) {
    const key = await keyOf(3000 + i)
    const records: Genuine[] = []
    for (let s = 0; s < EXT_SEQS; s++) records.push(await genuine(key, `/ipfs/${CID}/ext${i}/s${s}`, s, T0, 2 * 24 * 3_600_000, EXT_TTL_MS))
    ext.push({ name: nameFromPublicKey(key.publicKey).format('base36'), records, lies: await liesFor(key, other) })
  }
  return { peerIds, identities: ids, ext, chain: nameFromPublicKey(chainKey.publicKey).format('base36') }
}

/** What the lying peers of one seed serve (garbage drawn from the seed's rng). */
export function liesOf (m: SimMaterial, self: Identity, garbage: () => Uint8Array): Lies & { expiredOf: (name: string) => Genuine | undefined } {
  const byName = new Map<string, NameLies>([[self.name, self.lies]])
  for (const e of m.ext as Array<ExtName & { lies: NameLies }>) byName.set(e.name, e.lies)
  return {
    forged: name => byName.get(name)?.forged ?? garbage(),
    wrongKey: name => byName.get(name)?.wrongKey ?? garbage(),
    expired: name => byName.get(name)?.expired.bytes,
    expiredOf: name => byName.get(name)?.expired,
    garbage
  }
}

const KINDS: PeerKind[] = ['honest', 'honest', 'honest', 'honest', 'slow', 'silent', 'bad-sig', 'wrong-key', 'garbage', 'lower', 'expired']

/** A seed's peers: two honest ones, then kinds drawn; some partitioned for a window within `horizonMs`, some stopping in it. */
export function peersOf (rng: Rng, ids: string[], horizonMs: number): SimPeer[] {
  const n = 5 + rng.int(5)
  const peers: SimPeer[] = []
  for (let i = 0; i < n; i++) {
    const kind = i < 2 ? 'honest' : KINDS[rng.int(KINDS.length)] as PeerKind
    // on a 5 ms grid: answers that coincide cost the driver one round, not several
    const latency = kind === 'slow' ? () => 300 + 50 * rng.int(13) : () => 5 * (1 + rng.int(HONEST_MAX_MS / 5))
    const p = new SimPeer(ids[i] as string, kind, latency)
    if (rng.int(5) === 0) {
      const from = T0 + rng.int(horizonMs)
      p.partition = { from, to: from + 200 + rng.int(8_000) }
    }
    if (rng.int(8) === 0) p.stopAt = T0 + rng.int(horizonMs)
    peers.push(p)
  }
  return peers
}
