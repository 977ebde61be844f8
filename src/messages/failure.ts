/**
 * Failures are values in the protocol. Every ask settles with either a reply or
 * one Failure; `ask` turns a Failure into a typed Error (see errors.ts).
 */

export const FAILURE_KINDS = [
  'timeout',
  'aborted',
  'overloaded',
  'stopped',
  'invalid',
  'invalid-record',
  'not-found',
  'failed'
] as const

export type FailureKind = (typeof FAILURE_KINDS)[number]

/**
 * What an error's `cause` said, as plain data (recordable in a trace): its
 * name, message and string `code`, the first errors of an AggregateError,
 * and its own cause. Bounded: see MAX_CAUSE_DEPTH and the limits below.
 */
export interface FailureCause {
  name: string
  message: string
  code?: string
  /** an AggregateError's first MAX_CAUSE_ERRORS errors (a dial names each address tried) */
  errors?: FailureCause[]
  cause?: FailureCause
}

export interface Failure {
  kind: FailureKind
  message: string
  /** for 'invalid': the command field that was rejected */
  field?: string
  /** for 'invalid-record': the IPNS rule that failed (e.g. 'bad-signature', 'expired') */
  code?: string
  /** the underlying error, when there was one (a libp2p error under a FailedError, say) */
  cause?: FailureCause
}

/** Levels of causes kept: an error's cause is level 1, an AggregateError's errors one level below it. */
export const MAX_CAUSE_DEPTH = 4
/** Characters of a cause's message kept. */
export const MAX_CAUSE_MESSAGE = 500
/** Errors of an AggregateError kept. */
export const MAX_CAUSE_ERRORS = 4
const MAX_CAUSE_NAME = 100

export function failure (kind: FailureKind, message: string, extra: { field?: string, code?: string, cause?: FailureCause } = {}): Failure {
  const f: Failure = { kind, message }
  if (extra.field !== undefined) f.field = extra.field
  if (extra.code !== undefined) f.code = extra.code
  if (extra.cause !== undefined) f.cause = extra.cause
  return f
}

/**
 * Plain data for a thrown value used as a cause: an Error's name, message,
 * string code, AggregateError errors and cause chain, within the bounds
 * above; anything else by its string form. undefined for undefined / null.
 */
export function causeOf (err: unknown, depth = 1): FailureCause | undefined {
  if (err === undefined || err === null || depth > MAX_CAUSE_DEPTH) return undefined
  if (!(err instanceof Error)) return { name: 'Error', message: clip(String(err), MAX_CAUSE_MESSAGE) }
  const c: FailureCause = { name: clip(err.name, MAX_CAUSE_NAME), message: clip(err.message, MAX_CAUSE_MESSAGE) }
  const code: unknown = (err as { code?: unknown }).code
  if (typeof code === 'string') c.code = clip(code, MAX_CAUSE_NAME)
  if (err instanceof AggregateError && Array.isArray(err.errors) && depth < MAX_CAUSE_DEPTH) {
    const errors = (err.errors as unknown[]).slice(0, MAX_CAUSE_ERRORS).map(e => causeOf(e, depth + 1)).filter(e => e !== undefined)
    if (errors.length > 0) c.errors = errors
  }
  const inner = causeOf(err.cause, depth + 1)
  if (inner !== undefined) c.cause = inner
  return c
}

function clip (text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
