/**
 * The keystore: named private keys in the node's datastore, each sealed with
 * AES-256-GCM under a key derived (scrypt) from the keystore passphrase.
 * Names, types and peer ids are stored in clear so a locked keystore can
 * still list them; the key material never leaves this module except sealed
 * for export, or as a signer handed to record code.
 *
 * Layout: /swarmbus/keystore/meta (KDF parameters + a sealed check value),
 * /swarmbus/keys/<name> (one JSON entry per key). Every mutation is one
 * datastore put or one batch, so nothing is ever half-written.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { nameFromPublicKey, parseName } from '../../records/name.js'
import { InvalidCommandError, NotFoundError } from '../../messages/errors.js'
import { deriveKey, newKdfParams, seal, unseal } from './seal.js'
import type { KdfParams, Sealed } from './seal.js'
import type { KeyInfo, KeyType } from '../../messages/keys.js'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import { KEY_NAME_RE } from './key-rules.js'

export const SELF = 'self'
const META_KEY = new Key('/swarmbus/keystore/meta')
const KEYS_PREFIX = '/swarmbus/keys'
// (query with a trailing slash: '/swarmbus/keys' is also a prefix of '/swarmbus/keystore')
const CHECK_PLAINTEXT = new TextEncoder().encode('swarmbus keystore v1')
export const EXPORT_AAD = 'swarmbus-key-export'
/** most keys one keystore holds */
export const MAX_KEYS = 10_000

interface Meta { v: 1, kdf: KdfParams, check: Sealed }
interface Entry { v: 1, name: string, type: KeyType, peerId: string, sealed: Sealed }

export interface ExportDocument {
  format: 'swarmbus-key'
  version: 1
  keyType: KeyType
  peerId: string
  kdf: KdfParams
  sealed: Sealed
}

const keyOf = (name: string): Key => new Key(`${KEYS_PREFIX}/${name}`)
const aadOf = (name: string): string => `swarmbus-key:${name}`
const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
const parse = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T

export function checkKeyName (name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || !KEY_NAME_RE.test(name)) {
    throw new InvalidCommandError(field, 'a key name is 1–64 characters of A–Z a–z 0–9 . _ - and starts with a letter or digit')
  }
  return name
}

/** The IPNS name (CIDv1 libp2p-key, base36) of a peer id string. */
export function ipnsNameOf (peerId: string): string {
  return parseName(peerId).name.format('base36')
}

/**
 * Name and peer id come from the public key itself (identity-inlined when
 * short, sha2-256 otherwise), which covers ECDSA keys too — @libp2p/peer-id
 * has no peer id type for those.
 */
export function infoOf (name: string, key: PrivateKey): KeyInfo {
  const ipns = nameFromPublicKey(key.publicKey)
  return { name, type: key.type as KeyType, peerId: ipns.format('base58btc'), ipnsName: ipns.format('base36') }
}

const infoOfEntry = (e: Entry): KeyInfo => ({ name: e.name, type: e.type, peerId: e.peerId, ipnsName: ipnsNameOf(e.peerId) })

export class Keystore {
  private constructor (
    private readonly ds: Datastore,
    private readonly dek: Buffer | undefined,
    private readonly self: PrivateKey
  ) {}

  /**
   * Opens (or creates) the keystore. Without a passphrase it is locked: it
   * lists names but cannot create, read or import keys.
   */
  static async open (ds: Datastore, self: PrivateKey, passphrase: string | undefined): Promise<Keystore> {
    if (passphrase === undefined) return new Keystore(ds, undefined, self)
    if (passphrase.length === 0) throw new InvalidCommandError('passphrase', 'the keystore passphrase must not be empty')
    if (await ds.has(META_KEY)) {
      const meta = parse<Meta>(await ds.get(META_KEY))
      const dek = await deriveKey(passphrase, meta.kdf)
      unseal(dek, meta.check, 'swarmbus-keystore') // throws 'wrong passphrase'
      return new Keystore(ds, dek, self)
    }
    const kdf = newKdfParams()
    const dek = await deriveKey(passphrase, kdf)
    const meta: Meta = { v: 1, kdf, check: seal(dek, CHECK_PLAINTEXT, 'swarmbus-keystore') }
    await ds.put(META_KEY, json(meta))
    return new Keystore(ds, dek, self)
  }

  get locked (): boolean {
    return this.dek === undefined
  }

  private unlocked (): Buffer {
    if (this.dek === undefined) {
      throw new InvalidCommandError('passphrase', 'the keystore is locked: start the node with its passphrase (createNode({ passphrase }); the CLI reads SWARMBUS_PASSPHRASE or --passphrase-file)')
    }
    return this.dek
  }

  async list (): Promise<KeyInfo[]> {
    const out: KeyInfo[] = [infoOf(SELF, this.self)]
    let n = 0
    for await (const { value } of this.ds.query({ prefix: KEYS_PREFIX + '/' })) {
      if (++n > MAX_KEYS) break
      const e = parse<Entry>(value)
      out.push(infoOfEntry(e))
    }
    return out.sort((a, b) => a.name === SELF ? -1 : b.name === SELF ? 1 : a.name.localeCompare(b.name))
  }

  private async entry (name: string): Promise<Entry | undefined> {
    if (!await this.ds.has(keyOf(name))) return undefined
    return parse<Entry>(await this.ds.get(keyOf(name)))
  }

  /** The private key for signing. */
  async privateKey (name: string): Promise<PrivateKey> {
    if (name === SELF) return this.self
    checkKeyName(name)
    const e = await this.entry(name)
    if (e === undefined) throw new NotFoundError(`no key named '${name}'`)
    return privateKeyFromProtobuf(unseal(this.unlocked(), e.sealed, aadOf(name)))
  }

  private async assertFree (name: string): Promise<void> {
    if (name === SELF || await this.ds.has(keyOf(name))) throw new InvalidCommandError('name', `a key named '${name}' already exists`)
  }

  private async store (name: string, key: PrivateKey): Promise<KeyInfo> {
    const info = infoOf(name, key)
    const entry: Entry = { v: 1, name, type: info.type, peerId: info.peerId, sealed: seal(this.unlocked(), privateKeyToProtobuf(key), aadOf(name)) }
    await this.ds.put(keyOf(name), json(entry))
    return info
  }

  async generate (name: string, type: KeyType = 'Ed25519', bits?: number): Promise<KeyInfo> {
    checkKeyName(name)
    this.unlocked()
    await this.assertFree(name)
    const key = type === 'RSA' ? await generateKeyPair('RSA', bits ?? 2048) : await generateKeyPair(type)
    return await this.store(name, key)
  }

  async rename (from: string, to: string): Promise<KeyInfo> {
    checkKeyName(from, 'from')
    checkKeyName(to, 'to')
    if (from === SELF) throw new InvalidCommandError('from', "the node's own key 'self' cannot be renamed")
    const key = await this.privateKey(from)
    await this.assertFree(to)
    const info = infoOf(to, key)
    const entry: Entry = { v: 1, name: to, type: info.type, peerId: info.peerId, sealed: seal(this.unlocked(), privateKeyToProtobuf(key), aadOf(to)) }
    const b = this.ds.batch()
    b.put(keyOf(to), json(entry))
    b.delete(keyOf(from))
    await b.commit()
    return info
  }

  async remove (name: string): Promise<KeyInfo> {
    checkKeyName(name)
    if (name === SELF) throw new InvalidCommandError('name', "the node's own key 'self' cannot be removed")
    // destroying a key needs the same authority as using it
    this.unlocked()
    const e = await this.entry(name)
    if (e === undefined) throw new NotFoundError(`no key named '${name}'`)
    await this.ds.delete(keyOf(name))
    return infoOfEntry(e)
  }

  /** An encrypted, importable JSON document (sealed with the export passphrase, not the keystore's). */
  async export (name: string, passphrase: string): Promise<string> {
    if (typeof passphrase !== 'string' || passphrase.length === 0) throw new InvalidCommandError('passphrase', 'an export needs a passphrase')
    const key = await this.privateKey(name)
    const kdf = newKdfParams()
    const doc: ExportDocument = {
      format: 'swarmbus-key',
      version: 1,
      keyType: key.type as KeyType,
      peerId: infoOf(name, key).peerId,
      kdf,
      sealed: seal(await deriveKey(passphrase, kdf), privateKeyToProtobuf(key), EXPORT_AAD)
    }
    return JSON.stringify(doc)
  }

  async import (name: string, data: string, passphrase: string): Promise<KeyInfo> {
    checkKeyName(name)
    this.unlocked()
    await this.assertFree(name)
    let doc: ExportDocument
    try {
      doc = JSON.parse(data) as ExportDocument
    } catch {
      throw new InvalidCommandError('data', 'not a swarmbus key export (not JSON)')
    }
    if (doc?.format !== 'swarmbus-key' || doc.version !== 1 || typeof doc.sealed !== 'object' || typeof doc.kdf !== 'object') {
      throw new InvalidCommandError('data', 'not a swarmbus key export (format swarmbus-key, version 1)')
    }
    const bytes = unseal(await deriveKey(passphrase, doc.kdf), doc.sealed, EXPORT_AAD)
    let key: PrivateKey
    try {
      key = privateKeyFromProtobuf(bytes)
    } catch {
      throw new InvalidCommandError('data', 'the export does not hold a valid private key')
    }
    if (infoOf(name, key).peerId !== doc.peerId) throw new InvalidCommandError('data', 'the export is inconsistent: its key does not match its peer id')
    return await this.store(name, key)
  }
}
