/**
 * What the keys actor needs from the outside world: the keystore's async
 * operations and record signing. Live nodes use the Keystore; a replay uses
 * inertKeyOps, since every result comes from the trace instead.
 */
import { createRecord } from '../../records/create.js'
import { SELF } from './keystore.js'
import type { Keystore } from './keystore.js'
import type { KeyInfo, KeyType } from '../../messages/keys.js'
import type { CreatedRecordReply, RecordCreate } from '../../messages/records.js'

export interface KeyOps {
  list(): Promise<KeyInfo[]>
  generate(name: string, type?: KeyType, bits?: number): Promise<KeyInfo>
  rename(from: string, to: string): Promise<KeyInfo>
  remove(name: string): Promise<KeyInfo>
  export(name: string, passphrase: string): Promise<string>
  import(name: string, data: string, passphrase: string): Promise<KeyInfo>
  createRecord(cmd: RecordCreate, now: number): Promise<CreatedRecordReply>
}

export function keystoreOps (keystore: Keystore): KeyOps {
  return {
    list: async () => await keystore.list(),
    generate: async (name, type, bits) => await keystore.generate(name, type, bits),
    rename: async (from, to) => await keystore.rename(from, to),
    remove: async name => await keystore.remove(name),
    export: async (name, passphrase) => await keystore.export(name, passphrase),
    import: async (name, data, passphrase) => await keystore.import(name, data, passphrase),
    createRecord: async (cmd, now) => {
      const key = await keystore.privateKey(cmd.key ?? SELF)
      const opts: Parameters<typeof createRecord>[2] = { now, v1Compatible: cmd.v2Only !== true }
      if (cmd.sequence !== undefined) opts.sequence = cmd.sequence
      if (cmd.lifetimeMs !== undefined) opts.lifetimeMs = cmd.lifetimeMs
      if (cmd.ttlMs !== undefined) opts.ttlNs = BigInt(Math.round(cmd.ttlMs)) * 1_000_000n
      const created = await createRecord(key, cmd.value, opts)
      return {
        name: created.name.format('base36'),
        record: created.bytes,
        value: created.fields.value,
        sequence: created.fields.sequence,
        validity: created.fields.validity
      }
    }
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {})

export const inertKeyOps: KeyOps = {
  list: never,
  generate: never,
  rename: never,
  remove: never,
  export: never,
  import: never,
  createRecord: never
}
