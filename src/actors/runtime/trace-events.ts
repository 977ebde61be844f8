/**
 * The events of a trace. A trace is JSONL: one header, then events stamped
 * with a sequence number (`seq`) and virtual time (`t`). Inputs also carry
 * `d`, the number of mailbox deliveries the system had made when the input
 * arrived, which is what lets a replay inject it at exactly the same point.
 * Payloads are encoded with the JSON codec (bytes as base64, bigint as string).
 */
import type { Failure } from '../../messages/failure.js'

/**
 * 2: `t`, `startedAt` and deadlines are monotonic; the header's `wallAt` and
 * `wall` inputs give the wall clock. 1: one clock (wall and monotonic alike).
 */
export const TRACE_VERSION = 2
/** versions a replay reads */
export const TRACE_VERSIONS_READ: readonly number[] = [1, 2]

export interface TraceHeader {
  type: 'header'
  version: number
  seed: number
  /** the system's monotonic clock when recording started (ms); replay starts its clock here */
  startedAt: number
  /** the wall clock at startedAt (ms since the epoch); absent in version 1, where it is startedAt */
  wallAt?: number
  config: Record<string, unknown>
}

export type TruncateReason = 'max-events' | 'buffer-full' | 'write-failed'

/** Things that come from outside the replay boundary. */
export type TraceInput =
  | { type: 'ask', id: string, to: string, port: 'once' | 'stream', command: unknown, deadline: number, aborted?: boolean }
  | { type: 'abort', id: string }
  | { type: 'external', actor: string, incarnation: number, msg: unknown, owner?: string }
  | { type: 'timer', timer: number }
  /** the wall clock stepped against the monotonic one: wall() = now() + offset from here on */
  | { type: 'wall', offset: number }

/** Things the system does, compared on replay. */
export type TraceOutput =
  | { type: 'deliver', actor: string, kind: 'command' | 'cancel' | 'internal' | 'skip', id?: string, what?: string }
  | { type: 'settle', id: string, ok: true, value: unknown }
  | { type: 'settle', id: string, ok: false, failure: Failure }
  | { type: 'item', id: string, item: unknown }
  | { type: 'dead', reason: string, actor?: string, id?: string }
  | { type: 'progress', event: unknown }
  | { type: 'crash', actor: string, error: string }
  | { type: 'transition', actor: string, machine: string, id: string, state: string, event: string }
  /**
   * the recorder stopped here: nothing after it was recorded. `reason`:
   * 'max-events' (the recording reached maxEvents), 'buffer-full' (the
   * writer fell further behind than its buffer allows), 'write-failed' (the
   * file could not be written); absent in older traces, meaning 'max-events'
   */
  | { type: 'truncated', maxEvents: number, reason?: TruncateReason }

export type TraceEvent =
  | (TraceInput & { seq: number, t: number, d: number, dir: 'in' })
  | (TraceOutput & { seq: number, t: number, dir: 'out' })

/** Where the system writes its trace. */
export interface TraceSink {
  input(ev: TraceInput, t: number, deliveries: number): void
  output(ev: TraceOutput, t: number): void
}
