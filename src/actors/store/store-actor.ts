/**
 * The store actor: published and resolved IPNS records in the repo. Every
 * operation is async datastore work whose result re-enters as a message; a
 * put answers only once the write is done (durable before acknowledged).
 */
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import type { ActorDefinition, Settled } from '../runtime/actor.js'
import type { RecordStoreOps } from './record-store.js'
import type { QueryId } from '../../messages/ids.js'
import type { StoreGet, StoreList, StorePut } from '../../messages/store.js'
import '../../messages/store.js'

export const STORE_ACTOR = 'store'

export type StoreCommand = StorePut | StoreGet | StoreList
export type StoreMsg = { type: 'done', id: QueryId, result: Settled<unknown> }

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
      return {
        receive: msg => {
          if (msg.kind === 'cancel') return
          if (msg.kind === 'internal') {
            pending--
            const m = msg.msg
            if (m.result.ok) ctx.reply(m.id, m.result.value)
            else ctx.fail(m.id, m.result.failure)
            return
          }
          const { id, command: c } = msg.env
          if (pending >= maxPending) {
            ctx.fail(id, failure('overloaded', `the store runs ${maxPending} operations already`))
            return
          }
          pending++
          const work: Promise<unknown> = c.type === 'store.put'
            ? options.ops.put(c.entry).then(() => ({ stored: true as const }))
            : c.type === 'store.get'
              ? options.ops.get(c.kind, c.name)
              : options.ops.list(c.kind).then(entries => ({ entries }))
          ctx.pipe(work, result => ({ type: 'done', id, result }), id)
        },
        status: () => ({ pending })
      }
    }
  })
}
