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
import type { ActorDefinition, Settled } from '../runtime/actor.js'
import type { Failure } from '../../messages/failure.js'
import type { KeyOps } from './key-ops.js'
import type { KeyExport, KeyGenerate, KeyImport, KeyList, KeyRemove, KeyRename } from '../../messages/keys.js'
import type { QueryId } from '../../messages/ids.js'
import type { RecordCreate } from '../../messages/records.js'
import '../../messages/keys.js'
import '../../messages/records.js'

export const KEYS_ACTOR = 'keys'
/** what a trace records instead of a passphrase (it passes validation, so a replay runs) */
export const REDACTED = '<redacted>'

export type KeyCommand = KeyGenerate | KeyList | KeyRename | KeyRemove | KeyExport | KeyImport | RecordCreate

export type KeysMsg =
  | { type: 'ready', result: Settled<boolean> }
  | { type: 'done', id: QueryId, names: string[], result: Settled<unknown> }

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
      const held: Array<{ id: QueryId, command: KeyCommand }> = []
      const busy = new Set<string>()
      let pending = 0
      let openFailure: Failure | undefined
      if (ops === undefined && options.reopen !== undefined) opened = options.reopen()
      else if (ops === undefined) ctx.pipe(options.open().then(o => { opened = o; return true }), result => ({ type: 'ready', result }))

      const run = (id: QueryId, names: string[], work: (o: KeyOps) => Promise<unknown>, o: KeyOps): void => {
        const clash = names.find(n => busy.has(n))
        if (clash !== undefined) {
          ctx.fail(id, failure('failed', `key '${clash}' is busy: another command is changing it`))
          return
        }
        if (pending >= maxPending) {
          ctx.fail(id, failure('overloaded', `the keystore runs ${maxPending} operations already`))
          return
        }
        for (const n of names) busy.add(n)
        pending++
        ctx.pipe(work(o), result => ({ type: 'done', id, names, result }), id)
      }

      const serve = (id: QueryId, c: KeyCommand, o: KeyOps): void => {
        switch (c.type) {
          case 'key.list': run(id, [], async k => ({ keys: await k.list() }), o); return
          case 'key.generate': run(id, [c.name], async k => await k.generate(c.name, c.keyType, c.bits), o); return
          case 'key.rename': run(id, [c.from, c.to], async k => await k.rename(c.from, c.to), o); return
          case 'key.remove': run(id, [c.name], async k => await k.remove(c.name), o); return
          case 'key.export': run(id, [], async k => ({ name: c.name, data: await k.export(c.name, c.passphrase) }), o); return
          case 'key.import': run(id, [c.name], async k => await k.import(c.name, c.data, c.passphrase), o); return
          case 'record.create': run(id, [], async k => await k.createRecord(c, ctx.clock.wall()), o)
        }
      }

      return {
        receive: msg => {
          if (msg.kind === 'command') {
            const { id, command } = msg.env
            if (ops !== undefined) serve(id, command, ops)
            else if (openFailure !== undefined) ctx.fail(id, openFailure)
            else if (held.length >= maxHeld) ctx.fail(id, failure('overloaded', 'the keystore is opening and holds too many commands'))
            else held.push({ id, command })
            return
          }
          if (msg.kind === 'cancel') return // the result, when it comes, finds the port closed
          const m = msg.msg
          if (m.type === 'ready') {
            if (!m.result.ok || opened === undefined) {
              // not a crash: the keystore cannot open (wrong passphrase, bad
              // repo) and every command says why
              openFailure = m.result.ok ? failure('failed', 'the keystore did not open') : m.result.failure
              for (const h of held.splice(0)) ctx.fail(h.id, openFailure)
              return
            }
            ops = opened
            for (const h of held.splice(0)) if (ctx.isOpen(h.id)) serve(h.id, h.command, ops)
            return
          }
          pending--
          for (const n of m.names) busy.delete(n)
          if (m.result.ok) ctx.reply(m.id, m.result.value)
          else ctx.fail(m.id, m.result.failure)
        },
        status: () => ({ pending, held: held.length, busy: busy.size })
      }
    }
  })
}
