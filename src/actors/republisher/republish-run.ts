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
