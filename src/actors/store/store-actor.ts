/**
 * The store actor: published and resolved IPNS records in the repo. Every
 * operation is async datastore work whose result re-enters as a message; a
 * put answers only once the write is done (durable before acknowledged).
 */
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import type { ActorDefinition, ReplyPort, Settled } from '../runtime/actor.js'
import type { RecordStoreOps } from './record-store.js'
import type { QueryId } from '../../messages/ids.js'
import type { StoredRecord, StoreGet, StoreList, StorePut } from '../../messages/store.js'
import '../../messages/store.js'

export const STORE_ACTOR = 'store'

export type StoreCommand = StorePut | StoreGet | StoreList
/** completions of the datastore work, one kind per command, so each answers its own command's reply type */
export type StoreMsg =
  | { type: 'put.done', id: QueryId, result: Settled<true> }
  | { type: 'get.done', id: QueryId, result: Settled<StoredRecord> }
  | { type: 'list.done', id: QueryId, result: Settled<StoredRecord[]> }

const KINDS = new Set(['published', 'resolved'])
const NAME_RE = /^[a-z0-9]{10,128}$/
const MAX_RECORD = 10 * 1024

export function storeActor (options: { ops: RecordStoreOps, maxPending?: number }): ActorDefinition<StoreCommand, StoreMsg> {
  const maxPending = options.maxPending ?? 256
  return defineActor<StoreCommand, StoreMsg>({
    name: STORE_ACTOR,
    commands: ['store.put', 'store.get', 'store.list'],
    mailbox: { capacity: 4096 },
    validate: cmd => {
      if (cmd.type === 'store.put') {
        const e = cmd.entry
        if (typeof e !== 'object' || e === null) return failure('invalid', 'entry must be an object', { field: 'entry' })
        if (!KINDS.has(e.kind)) return failure('invalid', "kind must be 'published' or 'resolved'", { field: 'entry.kind' })
        if (typeof e.name !== 'string' || !NAME_RE.test(e.name)) return failure('invalid', 'name must be a base36 IPNS name', { field: 'entry.name' })
        if (!(e.record instanceof Uint8Array) || e.record.byteLength > MAX_RECORD) return failure('invalid', 'record must be a Uint8Array of at most 10 KiB', { field: 'entry.record' })
        if (typeof e.sequence !== 'bigint') return failure('invalid', 'sequence must be a bigint', { field: 'entry.sequence' })
        return undefined
      }
      if (!KINDS.has(cmd.kind)) return failure('invalid', "kind must be 'published' or 'resolved'", { field: 'kind' })
      if (cmd.type === 'store.get' && (typeof cmd.name !== 'string' || !NAME_RE.test(cmd.name))) return failure('invalid', 'name must be a base36 IPNS name', { field: 'name' })
      return undefined
    },
    start: ctx => {
      let pending = 0
      // the ports waiting for their datastore work, by command: each keeps its reply type
      const puts = new Map<QueryId, ReplyPort<StorePut>>()
      const gets = new Map<QueryId, ReplyPort<StoreGet>>()
      const lists = new Map<QueryId, ReplyPort<StoreList>>()
      /** the port of a completion (still kept after a cancel: a late answer is a dead letter, as for any actor) */
      const take = <P>(ports: Map<QueryId, P>, id: QueryId): P | undefined => {
        const port = ports.get(id)
        ports.delete(id)
        return port
      }
      return {
        receive: msg => {
          if (msg.kind === 'cancel') return
          if (msg.kind === 'internal') {
            pending--
            const m = msg.msg
            switch (m.type) {
              case 'put.done': {
                const port = take(puts, m.id)
                if (m.result.ok) port?.reply({ stored: true })
                else port?.fail(m.result.failure)
                return
              }
              case 'get.done': {
                const port = take(gets, m.id)
                if (m.result.ok) port?.reply(m.result.value)
                else port?.fail(m.result.failure)
                return
              }
              case 'list.done': {
                const port = take(lists, m.id)
                if (m.result.ok) port?.reply({ entries: m.result.value })
                else port?.fail(m.result.failure)
                return
              }
            }
            return
          }
          const id = msg.port.id
          if (pending >= maxPending) {
            msg.port.fail(failure('overloaded', `the store runs ${maxPending} operations already`))
            return
          }
          pending++
          switch (msg.type) {
            case 'store.put':
              puts.set(id, msg.port)
              ctx.pipe((async () => { await options.ops.put(msg.command.entry); return true as const })(), result => ({ type: 'put.done', id, result }), id)
              return
            case 'store.get':
              gets.set(id, msg.port)
              ctx.pipe((async () => await options.ops.get(msg.command.kind, msg.command.name))(), result => ({ type: 'get.done', id, result }), id)
              return
            case 'store.list':
              lists.set(id, msg.port)
              ctx.pipe((async () => await options.ops.list(msg.command.kind))(), result => ({ type: 'list.done', id, result }), id)
          }
        },
        status: () => ({ pending })
      }
    }
  })
}
