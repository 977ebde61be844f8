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

export interface Failure {
  kind: FailureKind
  message: string
  /** for 'invalid': the command field that was rejected */
  field?: string
  /** for 'invalid-record': the IPNS rule that failed (e.g. 'bad-signature', 'expired') */
  code?: string
}

export function failure (kind: FailureKind, message: string, extra: { field?: string, code?: string } = {}): Failure {
  const f: Failure = { kind, message }
  if (extra.field !== undefined) f.field = extra.field
  if (extra.code !== undefined) f.code = extra.code
  return f
}
