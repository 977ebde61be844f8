/**
 * A node's repo: its datastore (memory, or LevelDB in a directory) and its
 * identity. A directory repo keeps the node's private key, so the peer id
 * survives restarts like a kubo repo's.
 */
import { chmod, mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { ed25519KeyFromSeed } from '../actors/swarm/libp2p/libp2p-options.js'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

const IDENTITY_KEY = new Key('/swarmbus/identity')

export interface Repo {
  /** 'memory' or the absolute directory */
  location: string
  datastore: Datastore
  close(): Promise<void>
}

export async function openRepo (repo: string): Promise<Repo> {
  if (repo === 'memory') {
    return { location: 'memory', datastore: new MemoryDatastore(), close: async () => {} }
  }
  const dir = resolve(repo)
  // the node's identity key lives here unsealed (like kubo's): only the owner may read it
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  const store = new LevelDatastore(join(dir, 'datastore'))
  try {
    await store.open()
  } catch (err) {
    throw new Error(`cannot open the repo at ${dir} (is another swarmbus process using it?): ${(err as Error).message}`, { cause: err })
  }
  return { location: dir, datastore: store, close: async () => { await store.close() } }
}

/** 32 seed bytes for a numeric seed: the same number gives the same peer id. */
export function seedBytes (seed: number): Uint8Array {
  return createHash('sha256').update(`swarmbus identity seed ${seed}`).digest()
}

/**
 * The node's key: the one stored in the repo, else one derived from `seed`,
 * else a fresh random one; a new key is stored in the repo.
 */
export async function loadIdentity (repo: Repo, seed: number | undefined): Promise<PrivateKey> {
  if (await repo.datastore.has(IDENTITY_KEY)) {
    return privateKeyFromProtobuf(await repo.datastore.get(IDENTITY_KEY))
  }
  const key = await ed25519KeyFromSeed(seed === undefined ? randomBytes(32) : seedBytes(seed))
  await repo.datastore.put(IDENTITY_KEY, privateKeyToProtobuf(key))
  return key
}
