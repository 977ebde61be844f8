/**
 * The republisher's own messages (plain data: they are recorded in traces)
 * and the state of one run. Each completion carries its reply's type, so the
 * actor reads no value through a cast.
 */
import type { ReplyPort, Settled } from '../runtime/actor.js'
import type { PendingName } from './republish-state.js'
import type { ReplyOf } from '../../messages/commands.js'
import type { QueryId } from '../../messages/ids.js'
import type { PublishReply } from '../../messages/ipns.js'
import type { IpnsRepublish, RepublishedName, RepublishFailure } from '../../messages/republish.js'
import type { StoredRecord } from '../../messages/store.js'
import '../../messages/ipns.js'
import '../../messages/keys.js'
import '../../messages/republish.js'
import '../../messages/store.js'

export type RepublishMsg =
  | { type: 'boot' }
  | { type: 'boot.list', result: Settled<ReplyOf<'store.list'>> }
  | { type: 'boot.state', result: Settled<PendingName[]> }
  | { type: 'tick', gen: number }
  | { type: 'run.list', run: number, result: Settled<ReplyOf<'store.list'>> }
  | { type: 'run.keys', run: number, result: Settled<ReplyOf<'key.list'>> }
  | { type: 'run.marked', run: number, result: Settled<unknown> }
  | { type: 'run.saved', run: number, result: Settled<unknown> }
  | { type: 'run.stall', run: number, at: number }
  | { type: 'item.entry', run: number, name: string, result: Settled<StoredRecord> }
  | { type: 'item.published', run: number, name: string, result: Settled<PublishReply> }
  | { type: 'side.saved', result: Settled<unknown> }

export interface Candidate {
  name: string
  /** pending from an earlier run (republished whatever its EOL) */
  retry: boolean
}

export interface Run {
  n: number
  trigger: string
  force: boolean
  startedAt: number
  /** the ipns.republish asks this run answers, by query id */
  waiters: Map<QueryId, ReplyPort<IpnsRepublish>>
  phase: 'listing' | 'marking' | 'publishing' | 'saving'
  listed: StoredRecord[] | undefined
  /** ipnsName → key names; undefined when key.list failed */
  keys: Map<string, string[]> | undefined
  keysDone: boolean
  queue: Candidate[]
  /** name → the ask serving it now */
  inFlight: Map<string, QueryId>
  republished: RepublishedName[]
  failed: RepublishFailure[]
  skipped: number
  lastProgressAt: number
  cancelStall: (() => void) | undefined
}

export interface Queued { port: ReplyPort<IpnsRepublish>, force: boolean }

/** A run that has just started: listing the published records and the keys. */
export function newRun (n: number, trigger: string, force: boolean, startedAt: number, now: number, waiters: Array<ReplyPort<IpnsRepublish>>): Run {
  return {
    n, trigger, force, startedAt, waiters: new Map(waiters.map(w => [w.id, w])), phase: 'listing',
    listed: undefined, keys: undefined, keysDone: false, queue: [], inFlight: new Map(),
    republished: [], failed: [], skipped: 0, lastProgressAt: now, cancelStall: undefined
  }
}

/** key.list's answer as ipnsName → the names of the keys that sign for it. */
export function keysByName (keys: ReplyOf<'key.list'>['keys']): Map<string, string[]> {
  const byName = new Map<string, string[]>()
  for (const k of keys) {
    const list = byName.get(k.ipnsName)
    if (list === undefined) byName.set(k.ipnsName, [k.name])
    else list.push(k.name)
  }
  return byName
}

/**
 * The key to sign a stored record again with: the one that published it when
 * it still signs for the name, else the first that does; without a key list
 * (key.list failed) the stored one. undefined: no key signs for the name.
 */
export function signingKey (keys: Map<string, string[]> | undefined, e: StoredRecord): string | undefined {
  if (keys === undefined) return e.key
  const names = keys.get(e.name)
  if (names === undefined || names.length === 0) return undefined
  return e.key !== undefined && names.includes(e.key) ? e.key : names[0]
}

/** The publish that renews a stored record: same value, lifetime and TTL (ipns.publish takes the next sequence). */
export function renewal (e: StoredRecord, key: string, value: string): { type: 'ipns.publish', key: string, value: string, lifetimeMs?: number, ttlMs?: number } {
  const cmd: { type: 'ipns.publish', key: string, value: string, lifetimeMs?: number, ttlMs?: number } = { type: 'ipns.publish', key, value }
  if (e.lifetimeMs !== undefined) cmd.lifetimeMs = e.lifetimeMs
  if (e.ttlMs !== undefined) cmd.ttlMs = e.ttlMs
  return cmd
}

/** Failure reasons counted by name, at most `max` distinct ones (the rest as 'other'). */
export class ReasonCounts {
  private readonly counts: Record<string, number> = {}
  constructor (private readonly max: number) {}
  add (reason: string): void {
    const key = reason in this.counts || Object.keys(this.counts).length < this.max ? reason : 'other'
    this.counts[key] = (this.counts[key] ?? 0) + 1
  }

  snapshot (): Record<string, number> { return { ...this.counts } }
}

/**
 * What a run does with the listed records: names pending from an earlier run
 * whose record is gone from the store leave `pending`; the rest are queued
 * (force, pending, or due by `isDue`) or skipped. Returns how many were skipped.
 */
export function planRun (r: Run, listed: StoredRecord[], pending: Map<string, string>, isDue: (name: string) => boolean): number {
  const listedNames = new Set(listed.map(e => e.name))
  for (const name of [...pending.keys()]) if (!listedNames.has(name)) pending.delete(name)
  let skipped = 0
  for (const e of listed) {
    const retry = pending.has(e.name)
    if (r.force || retry || isDue(e.name)) r.queue.push({ name: e.name, retry })
    else skipped++
  }
  return skipped
}
