/**
 * The republisher: keeps every name this node published alive in the DHT by
 * signing it again (same value, lifetime and TTL; ipns.publish takes the next
 * sequence) before its record runs out.
 *
 * The schedule is the store. On start the actor lists the published records
 * and the pending names (republish-state.ts), and sets one timer: soon
 * (`startDelayMs`) when something is due or pending, else at the earlier of
 * the jittered interval and the moment the first record comes within
 * `thresholdMs` of its EOL. Each run lists the published records again, takes
 * those due (or all, with force) plus the pending ones, writes them as pending,
 * republishes them at most `concurrency` at a time — each re-read from the
 * store just before, so a publish made since the listing is not undone — and
 * writes back what is still pending (the failures), which the next run tries
 * again. `ipns.republish` runs now; the `republish` section of swarm.status is
 * this actor's status().
 *
 *   boot ──list + pending──▶ idle ──timer / ipns.republish──▶ listing ──▶ marking
 *                              ▲                                             │
 *                              └── saving ◀── publishing (≤ concurrency) ◀───┘
 */
import { defineActor } from '../runtime/actor.js'
import { createRng } from '../runtime/rng.js'
import { failure } from '../../messages/failure.js'
import { MAX_PENDING } from './republish-state.js'
import { republishSettings } from './republish-options.js'
import { RepublishSchedule } from './republish-schedule.js'
import type { RepublisherOptions } from './republish-options.js'
import { keysByName, newRun, planRun, ReasonCounts, renewal, signingKey } from './republish-run.js'
import type { Queued, RepublishMsg, Run } from './republish-run.js'
export type { RepublishMsg } from './republish-run.js'
import { recordEolMs, storedValue } from './stored.js'
import type { ActorContext, ActorDefinition, ReplyPort, Settled } from '../runtime/actor.js'
import type { Rng } from '../runtime/rng.js'
import type { RepublishStateOps, PendingName } from './republish-state.js'
import type { Failure } from '../../messages/failure.js'
import type { PublishReply } from '../../messages/ipns.js'
import type { IpnsRepublish, RepublishReply, RepublishRunSummary, RepublishStatus } from '../../messages/republish.js'
import type { StoredRecord } from '../../messages/store.js'
import '../../messages/ipns.js'
import '../../messages/keys.js'
import '../../messages/republish.js'
import '../../messages/store.js'

export const REPUBLISHER_ACTOR = 'republisher'
export type { RepublisherOptions } from './republish-options.js'

export interface RepublisherDeps {
  /** where pending names are kept across restarts */
  state: RepublishStateOps
}

export type RepublishCommand = IpnsRepublish

const MAX_REASONS = 32

export function republisherActor (options: RepublisherOptions & RepublisherDeps): ActorDefinition<RepublishCommand, RepublishMsg> {
  const { intervalMs, thresholdMs, jitter, concurrency, startDelayMs, publishTimeoutMs, minPeers, stallMs, maxWaiters } = republishSettings(options)
  const stateOps = options.state

  return defineActor<RepublishCommand, RepublishMsg>({
    name: REPUBLISHER_ACTOR,
    commands: ['ipns.republish'],
    mailbox: { capacity: 1024 },
    validate: cmd => {
      if (typeof cmd !== 'object' || cmd === null) return failure('invalid', 'command must be an object', { field: 'command' })
      if (cmd.force !== undefined && typeof cmd.force !== 'boolean') return failure('invalid', 'force must be a boolean', { field: 'force' })
      return undefined
    },
    start: (ctx: ActorContext<RepublishMsg>) => {
      // a private stream of the seeded rng: the jitter sequence does not
      // depend on what other actors draw later
      const rng: Rng = createRng(ctx.rng.int(2 ** 32))
      let ready = false
      let bootAwaiting = 2
      let bootListFailed = false
      /** names whose republish is not confirmed → why */
      const pending = new Map<string, string>()
      /** the last scan: name → EOL (ms; undefined when unreadable) */
      let eols = new Map<string, number | undefined>()
      let run: Run | undefined
      /** name → was it pending from an earlier run (for the names in flight) */
      const retries = new Map<string, boolean>()
      let runs = 0
      let queued: Queued[] = []
      let lastRun: RepublishRunSummary | null = null
      const totals = { republished: 0, skipped: 0, failed: 0 }
      const failures = new ReasonCounts(MAX_REASONS)
      const count = (reason: string): void => { failures.add(reason) }
      /** due for re-signing: its EOL (a date) is within the threshold of `wall`, the wall clock now */
      const due = (eol: number | undefined, wall: number): boolean => eol === undefined || eol - thresholdMs <= wall
      const pendingList = (): PendingName[] => [...pending].slice(0, MAX_PENDING).map(([name, reason]) => ({ name, reason }))

      // the next check: RepublishSchedule (republish-schedule.ts)
      const sched = new RepublishSchedule(ctx, { intervalMs, jitter, thresholdMs, startDelayMs }, rng)
      const schedule = (soon: boolean): void => { sched.schedule(soon, eols.values()) }

      const scan = (entries: StoredRecord[]): void => {
        eols = new Map(entries.map(e => [e.name, recordEolMs(e.record)]))
      }

      // ─────────────────────────── runs ───────────────────────────

      const progress = (r: Run): void => {
        r.lastProgressAt = ctx.clock.now()
        if (r.cancelStall === undefined) r.cancelStall = ctx.after(stallMs, { type: 'run.stall', run: r.n, at: r.lastProgressAt + stallMs })
      }

      const startRun = (trigger: string, force: boolean, waiters: Array<ReplyPort<IpnsRepublish>>): void => {
        sched.clear()
        const r = newRun(++runs, trigger, force, ctx.clock.wall(), ctx.clock.now(), waiters)
        run = r
        progress(r)
        ctx.progress({ type: 'ipns:republish:start', detail: { run: r.n, trigger } })
        ctx.ask({ type: 'store.list', kind: 'published' }, { timeoutMs: 30_000 }, result => ({ type: 'run.list', run: r.n, result }))
        ctx.ask({ type: 'key.list' }, { timeoutMs: 30_000 }, result => ({ type: 'run.keys', run: r.n, result }))
      }

      const failRun = (r: Run, f: Failure): void => {
        count('store')
        for (const w of r.waiters.values()) w.fail(f)
        r.waiters.clear()
        endRun(r)
      }

      const onListed = (r: Run): void => {
        if (r.listed === undefined || !r.keysDone) return
        const now = ctx.clock.wall()
        scan(r.listed)
        const before = pending.size
        r.skipped += planRun(r, r.listed, pending, name => due(eols.get(name), now))
        if (r.queue.length === 0) {
          // nothing to do: write only if names were dropped
          if (pending.size === before) {
            endRun(r)
          } else {
            r.phase = 'saving'
            ctx.pipe(stateOps.save(pendingList()), result => ({ type: 'run.saved', run: r.n, result }))
          }
          return
        }
        r.phase = 'marking'
        for (const c of r.queue) if (!pending.has(c.name)) pending.set(c.name, 'started')
        // written before any attempt: a crash in the middle leaves them pending
        ctx.pipe(stateOps.save(pendingList()), result => ({ type: 'run.marked', run: r.n, result }))
      }

      const pump = (r: Run): void => {
        while (r.inFlight.size < concurrency && r.queue.length > 0) {
          const c = r.queue.shift()
          if (c === undefined) break
          const id = ctx.ask({ type: 'store.get', kind: 'published', name: c.name }, { timeoutMs: 30_000 },
            result => ({ type: 'item.entry', run: r.n, name: c.name, result }))
          r.inFlight.set(c.name, id)
          retries.set(c.name, c.retry)
        }
        if (r.inFlight.size === 0 && r.queue.length === 0 && r.phase === 'publishing') {
          r.phase = 'saving'
          ctx.pipe(stateOps.save(pendingList()), result => ({ type: 'run.saved', run: r.n, result }))
        }
      }
      const itemDone = (r: Run, name: string): void => {
        r.inFlight.delete(name)
        retries.delete(name)
        pump(r)
      }

      const itemFailed = (r: Run, name: string, reason: string, message: string): void => {
        r.failed.push({ name, reason, message })
        pending.set(name, reason)
        count(reason)
        ctx.progress({ type: 'ipns:republish:failed', detail: { name, reason } })
        itemDone(r, name)
      }

      const onEntry = (r: Run, name: string, result: Settled<StoredRecord>): void => {
        if (!result.ok) {
          if (result.failure.kind === 'not-found') {
            // removed from the store since the listing: nothing to keep alive
            pending.delete(name)
            r.skipped++
            itemDone(r, name)
          } else {
            itemFailed(r, name, 'store', result.failure.message)
          }
          return
        }
        const e = result.value
        const now = ctx.clock.wall()
        const eol = recordEolMs(e.record)
        eols.set(name, eol)
        if (!r.force && retries.get(name) !== true && !due(eol, now)) {
          // published again since the listing: fresh now
          pending.delete(name)
          r.skipped++
          itemDone(r, name)
          return
        }
        const value = storedValue(e)
        if (value === undefined) {
          itemFailed(r, name, 'no-value', 'the stored record has no readable value')
          return
        }
        const key = signingKey(r.keys, e)
        if (key === undefined) {
          itemFailed(r, name, 'key-missing', `no key in the keystore signs for ${name}`)
          return
        }
        const id = ctx.ask(renewal(e, key, value), { timeoutMs: publishTimeoutMs }, res => ({ type: 'item.published', run: r.n, name, result: res }))
        r.inFlight.set(name, id)
      }

      const onPublished = (r: Run, name: string, result: Settled<PublishReply>): void => {
        if (!result.ok) {
          itemFailed(r, name, result.failure.code ?? result.failure.kind, result.failure.message)
          return
        }
        const reply = result.value
        eols.set(name, recordEolMs(reply.record))
        if (reply.peers < minPeers) {
          itemFailed(r, name, 'no-peers', `the record reached ${reply.peers} DHT peers, fewer than ${minPeers}`)
          return
        }
        r.republished.push({ name, sequence: reply.sequence, peers: reply.peers })
        pending.delete(name)
        ctx.progress({ type: 'ipns:republish:done', detail: { name, sequence: reply.sequence.toString(), peers: reply.peers } })
        itemDone(r, name)
      }

      const endRun = (r: Run): void => {
        r.cancelStall?.()
        for (const id of r.inFlight.values()) ctx.cancel(id)
        r.inFlight.clear()
        retries.clear()
        const finishedAt = ctx.clock.wall()
        lastRun = { trigger: r.trigger, startedAt: r.startedAt, finishedAt, republished: r.republished.length, skipped: r.skipped, failed: r.failed.length }
        totals.republished += r.republished.length
        totals.skipped += r.skipped
        totals.failed += r.failed.length
        run = undefined
        const next = queued
        queued = []
        if (next.length > 0) {
          startRun(next.some(q => q.force) ? 'command-force' : 'command', next.some(q => q.force), next.map(q => q.port))
        } else {
          schedule(false)
        }
        if (r.waiters.size > 0) {
          const reply: RepublishReply = {
            startedAt: r.startedAt, finishedAt, republished: r.republished, skipped: r.skipped, failed: r.failed,
            next: sched.nextRunAt ?? finishedAt
          }
          for (const w of r.waiters.values()) w.reply(reply)
        }
        ctx.progress({ type: 'ipns:republish:end', detail: { ...lastRun } })
      }

      const onRunMsg = (r: Run, m: Extract<RepublishMsg, { run: number }>): void => {
        if (m.type !== 'run.stall') progress(r)
        switch (m.type) {
          case 'run.list':
            if (!m.result.ok) {
              failRun(r, failure(m.result.failure.kind, `could not list the published records: ${m.result.failure.message}`))
              return
            }
            r.listed = m.result.value.entries
            onListed(r)
            return
          case 'run.keys':
            r.keysDone = true
            if (m.result.ok) r.keys = keysByName(m.result.value.keys)
            onListed(r)
            return
          case 'run.marked':
            if (!m.result.ok) count('state')
            r.phase = 'publishing'
            pump(r)
            return
          case 'run.saved':
            if (!m.result.ok) count('state')
            endRun(r)
            return
          case 'item.entry':
            if (r.inFlight.has(m.name)) onEntry(r, m.name, m.result)
            return
          case 'item.published':
            if (r.inFlight.has(m.name)) onPublished(r, m.name, m.result)
            return
          case 'run.stall': {
            r.cancelStall = undefined
            const stallAt = r.lastProgressAt + stallMs
            if (ctx.clock.now() < stallAt) {
              r.cancelStall = ctx.after(stallAt - ctx.clock.now(), { type: 'run.stall', run: r.n, at: stallAt })
              return
            }
            // abandoned: what was not done stays pending for the next run
            const left = [...r.inFlight.keys(), ...r.queue.map(c => c.name)]
            for (const name of left) {
              r.failed.push({ name, reason: 'stalled', message: `the run made no progress for ${stallMs} ms` })
              pending.set(name, 'stalled')
            }
            count('stalled')
            r.queue = []
            if (left.length > 0) ctx.pipe(stateOps.save(pendingList()), result => ({ type: 'side.saved', result }))
            endRun(r)
          }
        }
      }

      // ─────────────────────────── boot ───────────────────────────

      const booted = (): void => {
        if (--bootAwaiting > 0) return
        ready = true
        const now = ctx.clock.wall()
        if (queued.length > 0) {
          const next = queued
          queued = []
          startRun(next.some(q => q.force) ? 'command-force' : 'command', next.some(q => q.force), next.map(q => q.port))
          return
        }
        let soon = bootListFailed || pending.size > 0
        for (const eol of eols.values()) if (due(eol, now)) soon = true
        schedule(soon)
      }

      ctx.self({ type: 'boot' })

      const status = (): RepublishStatus => ({
        ready,
        running: run !== undefined,
        inFlight: run?.inFlight.size ?? 0,
        concurrency,
        intervalMs,
        thresholdMs,
        nextRunAt: sched.nextRunAt,
        lastRun: lastRun === null ? null : { ...lastRun },
        runs: runs - (run === undefined ? 0 : 1),
        tracked: eols.size,
        retrying: pending.size,
        ...totals,
        failures: failures.snapshot()
      })

      return {
        receive: msg => {
          if (msg.kind === 'command') {
            const { port, command } = msg
            const force = command.force === true
            const waiting = queued.length + (run?.waiters.size ?? 0)
            if (waiting >= maxWaiters) {
              port.fail(failure('overloaded', `${maxWaiters} republish requests are waiting already`))
              return
            }
            // join the run going on when it does what was asked; else run again after it
            if (run !== undefined && (run.force || !force) && run.phase === 'listing') run.waiters.set(port.id, port)
            else if (run !== undefined || !ready) queued.push({ port, force })
            else startRun(force ? 'command-force' : 'command', force, [port])
            return
          }
          if (msg.kind === 'cancel') {
            run?.waiters.delete(msg.id)
            queued = queued.filter(q => q.port.id !== msg.id)
            return
          }
          const m = msg.msg
          switch (m.type) {
            case 'boot':
              ctx.ask({ type: 'store.list', kind: 'published' }, { timeoutMs: 30_000 }, result => ({ type: 'boot.list', result }))
              ctx.pipe(stateOps.load(), result => ({ type: 'boot.state', result }))
              return
            case 'boot.list':
              if (m.result.ok) scan(m.result.value.entries)
              else {
                bootListFailed = true
                count('store')
              }
              booted()
              return
            case 'boot.state':
              if (m.result.ok) for (const p of m.result.value) pending.set(p.name, p.reason)
              else count('state')
              booted()
              return
            case 'tick':
              if (!sched.fired(m.gen)) return
              if (ready && run === undefined) startRun('timer', false, [])
              return
            case 'side.saved':
              if (!m.result.ok) count('state')
              return
            default:
              if (run !== undefined && m.run === run.n) onRunMsg(run, m)
          }
        },
        status: () => ({ ...status() }),
        stop: () => {
          sched.clear()
          run?.cancelStall?.()
        }
      }
    }
  })
}
