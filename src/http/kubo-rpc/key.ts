/**
 * key/gen, key/list, key/rename, key/rm, key/import: the keys actor's
 * key.* commands. Ids are IPNS names in `ipns-base` (base36 `k51…` by
 * default), as kubo returns them; the field is `Id`, not `ID`.
 *
 * key/import takes kubo's default format, libp2p-protobuf-cleartext (sealed
 * before it reaches the bus: key-import.ts), or swarmbus's own export
 * document (`swarmbus key export`: the key sealed with an export
 * passphrase) with that passphrase as `password` — as a multipart file, or
 * as the `pem` parameter kubo-rpc-client 7.1 sends. pem-pkcs8-cleartext is
 * refused with 400.
 */
import { clientError } from './errors.js'
import { ipnsBase } from './call.js'
import { sealCleartextKey } from './key-import.js'
import type { SealedImport } from './key-import.js'
import { MAX_EXPORT_CHARS } from '../../actors/keys/key-rules.js'
import { parseName } from '../../records/name.js'
import type { Call, Commands } from './call.js'
import type { Outcome } from './stream.js'
import type { KeyInfo, KeyType } from '../../messages/keys.js'
import type { NameFormat } from '../../records/name.js'
import type { Params } from './params.js'

const KEY_TYPES: Record<string, KeyType> = { ed25519: 'Ed25519', rsa: 'RSA', secp256k1: 'secp256k1', ecdsa: 'ECDSA' }
const MAX_KEYS_PER_CALL = 64

function keyOut (k: KeyInfo, base: NameFormat): { Name: string, Id: string } {
  return { Name: k.name, Id: base === 'base36' ? k.ipnsName : parseName(k.ipnsName).name.format(base) }
}

const FORMATS = ['swarmbus-key', 'libp2p-protobuf-cleartext'] as const

/** what key.import gets: a swarmbus export document as given, or a cleartext protobuf sealed on the spot */
async function importable (params: Params, file: Uint8Array | undefined): Promise<SealedImport> {
  const format = params.string('format', 'f')
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    throw clientError(`key/import: format '${format}' is not supported (${FORMATS.join(', ')})`)
  }
  const pem = params.string('pem')
  const bytes = file ?? (pem !== undefined ? new TextEncoder().encode(pem) : undefined)
  if (bytes === undefined || bytes.byteLength === 0) throw clientError('key/import: the key is required (a multipart file, or the pem parameter)')
  const text = new TextDecoder().decode(bytes)
  const isDocument = format === 'swarmbus-key' || (format === undefined && text.trimStart().startsWith('{'))
  if (!isDocument) return await sealCleartextKey(bytes)
  const passphrase = params.string('password')
  if (passphrase === undefined || passphrase.length === 0) throw clientError('key/import: the export passphrase is required as \'password\'')
  return { data: text, passphrase }
}

async function listKeys ({ node, params, ask }: Call): Promise<Outcome> {
  const base = ipnsBase(params)
  const { keys } = await node.ask({ type: 'key.list' }, ask())
  return { json: { Keys: keys.map(k => keyOut(k, base)) } }
}

export const keyCommands: Commands = {
  'key/gen': async ({ node, params, ask }) => {
    const name = params.arg('name')
    const t = (params.string('type', 't') ?? 'ed25519').toLowerCase()
    const keyType = KEY_TYPES[t]
    if (keyType === undefined) throw clientError(`unrecognized key type: ${t}`)
    const bits = params.int('size', 's')
    const base = ipnsBase(params)
    const info = await node.ask({ type: 'key.generate', name, keyType, ...(bits !== undefined && bits > 0 ? { bits } : {}) }, ask())
    return { json: keyOut(info, base) }
  },

  'key/list': listKeys,
  /** kubo's older name of key/list */
  'key/ls': listKeys,

  'key/rename': async ({ node, params, ask }) => {
    const [from, to] = params.args()
    if (from === undefined || to === undefined) throw clientError('argument "name" and "newName" are required')
    const force = params.bool('force', false, 'f')
    const base = ipnsBase(params)
    let overwrite = false
    if (force && from !== to) {
      const { keys } = await node.ask({ type: 'key.list' }, ask())
      if (keys.some(k => k.name === to)) {
        await node.ask({ type: 'key.remove', name: to }, ask())
        overwrite = true
      }
    }
    const info = await node.ask({ type: 'key.rename', from, to }, ask())
    return { json: { Was: from, Now: info.name, Id: keyOut(info, base).Id, Overwrite: overwrite } }
  },

  'key/rm': async ({ node, params, ask }) => {
    const names = params.args()
    if (names.length === 0) throw clientError('argument "name" is required')
    if (names.length > MAX_KEYS_PER_CALL) throw clientError(`at most ${MAX_KEYS_PER_CALL} keys per call`)
    const base = ipnsBase(params)
    const removed: Array<{ Name: string, Id: string }> = []
    for (const name of names) removed.push(keyOut(await node.ask({ type: 'key.remove', name }, ask()), base))
    return { json: { Keys: removed } }
  },

  'key/import': async ({ node, params, ask, file }) => {
    const name = params.arg('name')
    const part = params.string('pem') === undefined ? await file('key', MAX_EXPORT_CHARS) : undefined
    const { data, passphrase } = await importable(params, part)
    const base = ipnsBase(params)
    const info = await node.ask({ type: 'key.import', name, data, passphrase }, ask())
    return { json: keyOut(info, base) }
  }
}
