/**
 * The keys actor owns the node's keystore: it serves key.* and signs records
 * (record.create), so private keys never travel in a message or a trace —
 * only names, peer ids, sealed exports and signed records do. Every keystore
 * operation is async work whose result re-enters as a message. A name that a
 * running command is changing is busy: a second change to it fails at once
 * instead of racing.
 */
import { defineActor } from '../runtime/actor.js'
import { failure } from '../../messages/failure.js'
import { validateKeyCommand } from './validate.js'
import type { ActorDefinition, Delivery, ReplyPort, Settled } from '../runtime/actor.js'
import type { ReplyOf } from '../../messages/commands.js'
import type { Failure } from '../../messages/failure.js'
import type { KeyOps } from './key-ops.js'
import type { KeyExport, KeyGenerate, KeyImport, KeyInfo, KeyList, KeyRemove, KeyRename } from '../../messages/keys.js'
import type { QueryId } from '../../messages/ids.js'
import type { CreatedRecordReply, RecordCreate } from '../../messages/records.js'
import '../../messages/keys.js'
import '../../messages/records.js'

export const KEYS_ACTOR = 'keys'
/** what a trace records instead of a passphrase (it passes validation, so a replay runs) */
export const REDACTED = '<redacted>'

export type KeyCommand = KeyGenerate | KeyList | KeyRename | KeyRemove | KeyExport | KeyImport | RecordCreate

/** the commands answered with a KeyInfo */
type InfoCommand = KeyGenerate | KeyRename | KeyRemove | KeyImport

/**
 * The keystore's completions, one kind per reply type, each carrying the
 * reply itself: the port waiting for it takes exactly that type.
 */
export type KeysMsg =
  | { type: 'ready', result: Settled<boolean> }
  | { type: 'listed', id: QueryId, names: string[], result: Settled<ReplyOf<'key.list'>> }
  | { type: 'info', id: QueryId, names: string[], result: Settled<KeyInfo> }
  | { type: 'exported', id: QueryId, names: string[], result: Settled<ReplyOf<'key.export'>> }
  | { type: 'signed', id: QueryId, names: string[], result: Settled<CreatedRecordReply> }

export interface KeysActorOptions {
  /** the keystore, already open, for the first incarnation (createNode opens it to fail fast on a wrong passphrase) */
  ops?: KeyOps
  /** opens the keystore again after a restart */
  open: () => Promise<KeyOps>
  /** replay: the keystore of a restarted incarnation, at once (the recorded 'ready' still decides when it is used) */
  reopen?: () => KeyOps
  /** commands held while the keystore opens (default 256) */
  maxHeld?: number
  /** keystore operations at once (default 64) */
  maxPending?: number
}

export function keysActor (options: KeysActorOptions): ActorDefinition<KeyCommand, KeysMsg> {
  const maxHeld = options.maxHeld ?? 256
  const maxPending = options.maxPending ?? 64
  // Shared across incarnations, like the swarm actor's port: the first one
  // gets the open keystore synchronously (so a replay, which feeds recorded
  // results, needs no async open); a restart opens it again.
  let initial: KeyOps | undefined = options.ops
  let opened: KeyOps | undefined

  return defineActor<KeyCommand, KeysMsg>({
    name: KEYS_ACTOR,
    commands: ['key.generate', 'key.list', 'key.rename', 'key.remove', 'key.export', 'key.import', 'record.create'],
    validate: validateKeyCommand,
    // export and import passphrases never reach a trace file
    redact: cmd => cmd.type === 'key.export' || cmd.type === 'key.import' ? { ...cmd, passphrase: REDACTED } : cmd,
    mailbox: { capacity: 1024 },
    start: ctx => {
      let ops: KeyOps | undefined = initial
      initial = undefined
      const held: Array<Delivery<KeyCommand>> = []
      const busy = new Set<string>()
      let pending = 0
      let openFailure: Failure | undefined
      // the ports waiting for keystore work, by the type of their reply
      const lists = new Map<QueryId, ReplyPort<KeyList>>()
      const infos = new Map<QueryId, ReplyPort<InfoCommand>>()
      const exports = new Map<QueryId, ReplyPort<KeyExport>>()
      const signs = new Map<QueryId, ReplyPort<RecordCreate>>()
      if (ops === undefined && options.reopen !== undefined) opened = options.reopen()
      else if (ops === undefined) ctx.pipe(options.open().then(o => { opened = o; return true }), result => ({ type: 'ready', result }))

      /** take the names (a name being changed is busy) and a slot, or fail the port; true: go ahead */
      const admit = (port: ReplyPort, names: string[]): boolean => {
        const clash = names.find(n => busy.has(n))
        if (clash !== undefined) {
          port.fail(failure('failed', `key '${clash}' is busy: another command is changing it`))
          return false
        }
        if (pending >= maxPending) {
          port.fail(failure('overloaded', `the keystore runs ${maxPending} operations already`))
          return false
        }
        for (const n of names) busy.add(n)
        pending++
        return true
      }

      /** the work starts only once admitted (a refused command never touches the keystore); async, so a keystore that throws at once fails the ask, not the actor */
      const info = (d: Delivery<InfoCommand>, names: string[], work: () => Promise<KeyInfo>): void => {
        if (!admit(d.port, names)) return
        const id = d.port.id
        infos.set(id, d.port)
        ctx.pipe(work(), result => ({ type: 'info', id, names, result }), id)
      }

      const serve = (d: Delivery<KeyCommand>, k: KeyOps): void => {
        const id = d.port.id
        switch (d.type) {
          case 'key.list':
            if (!admit(d.port, [])) return
            lists.set(id, d.port)
            ctx.pipe((async () => ({ keys: await k.list() }))(), result => ({ type: 'listed', id, names: [], result }), id)
            return
          case 'key.generate': { const c = d.command; info(d, [c.name], async () => await k.generate(c.name, c.keyType, c.bits)); return }
          case 'key.rename': { const c = d.command; info(d, [c.from, c.to], async () => await k.rename(c.from, c.to)); return }
          case 'key.remove': { const c = d.command; info(d, [c.name], async () => await k.remove(c.name)); return }
          case 'key.import': { const c = d.command; info(d, [c.name], async () => await k.import(c.name, c.data, c.passphrase)); return }
          case 'key.export': {
            if (!admit(d.port, [])) return
            const c = d.command
            exports.set(id, d.port)
            ctx.pipe((async () => ({ name: c.name, data: await k.export(c.name, c.passphrase) }))(), result => ({ type: 'exported', id, names: [], result }), id)
            return
          }
          case 'record.create':
            if (!admit(d.port, [])) return
            signs.set(id, d.port)
            ctx.pipe((async () => await k.createRecord(d.command, ctx.clock.wall()))(), result => ({ type: 'signed', id, names: [], result }), id)
        }
      }

      /** answer the port waiting in `ports` (a cancelled one too: its late answer is a dead letter, as for any actor) */
      const answer = <C extends KeyCommand>(ports: Map<QueryId, ReplyPort<C>>, id: QueryId, result: Settled<Parameters<ReplyPort<C>['reply']>[0]>): void => {
        const port = ports.get(id)
        ports.delete(id)
        if (result.ok) port?.reply(result.value)
        else port?.fail(result.failure)
      }

      return {
        receive: msg => {
          if (msg.kind === 'command') {
            if (ops !== undefined) serve(msg, ops)
            else if (openFailure !== undefined) msg.port.fail(openFailure)
            else if (held.length >= maxHeld) msg.port.fail(failure('overloaded', 'the keystore is opening and holds too many commands'))
            else held.push(msg)
            return
          }
          if (msg.kind === 'cancel') return // the result, when it comes, finds the port closed
          const m = msg.msg
          if (m.type === 'ready') {
            if (!m.result.ok || opened === undefined) {
              // not a crash: the keystore cannot open (wrong passphrase, bad
              // repo) and every command says why
              const why = m.result.ok ? failure('failed', 'the keystore did not open') : m.result.failure
              openFailure = why
              for (const h of held.splice(0)) h.port.fail(why)
              return
            }
            const o = opened
            ops = o
            for (const h of held.splice(0)) if (h.port.isOpen()) serve(h, o)
            return
          }
          pending--
          for (const n of m.names) busy.delete(n)
          switch (m.type) {
            case 'listed': answer(lists, m.id, m.result); return
            case 'info': answer(infos, m.id, m.result); return
            case 'exported': answer(exports, m.id, m.result); return
            case 'signed': answer(signs, m.id, m.result)
          }
        },
        status: () => ({ pending, held: held.length, busy: busy.size })
      }
    }
  })
}
