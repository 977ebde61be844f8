/**
 * The typed errors `ask` rejects with. Each has a stable `name`; record
 * failures carry a `code` naming the IPNS rule, command failures a `field`.
 */
import { failure } from './failure.js'
import type { Failure, FailureKind } from './failure.js'

export abstract class SwarmbusError extends Error {
  abstract readonly kind: FailureKind
  toFailure (): Failure {
    return failure(this.kind, this.message)
  }
}

export class TimeoutError extends SwarmbusError {
  override readonly name = 'TimeoutError'
  readonly kind = 'timeout' as const
}

export class AbortError extends SwarmbusError {
  override readonly name = 'AbortError'
  readonly kind = 'aborted' as const
}

export class OverloadedError extends SwarmbusError {
  override readonly name = 'OverloadedError'
  readonly kind = 'overloaded' as const
}

export class StoppedError extends SwarmbusError {
  override readonly name = 'StoppedError'
  readonly kind = 'stopped' as const
}

export class NotFoundError extends SwarmbusError {
  override readonly name = 'NotFoundError'
  readonly kind = 'not-found' as const
}

export class FailedError extends SwarmbusError {
  override readonly name = 'FailedError'
  readonly kind = 'failed' as const
}

export class InvalidCommandError extends SwarmbusError {
  override readonly name = 'InvalidCommandError'
  readonly kind = 'invalid' as const
  readonly field: string
  constructor (field: string, message: string) {
    super(message)
    this.field = field
  }

  override toFailure (): Failure {
    return failure('invalid', this.message, { field: this.field })
  }
}

export class InvalidRecordError extends SwarmbusError {
  override readonly name = 'InvalidRecordError'
  readonly kind = 'invalid-record' as const
  /** the rule that failed: too-large, missing-signature-v2, bad-signature, expired, … */
  readonly code: string
  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }

  override toFailure (): Failure {
    return failure('invalid-record', this.message, { code: this.code })
  }
}

/** Turns a protocol Failure into the Error `ask` rejects with. */
export function failureToError (f: Failure): SwarmbusError {
  switch (f.kind) {
    case 'timeout': return new TimeoutError(f.message)
    case 'aborted': return new AbortError(f.message)
    case 'overloaded': return new OverloadedError(f.message)
    case 'stopped': return new StoppedError(f.message)
    case 'not-found': return new NotFoundError(f.message)
    case 'invalid': return new InvalidCommandError(f.field ?? 'command', f.message)
    case 'invalid-record': return new InvalidRecordError(f.code ?? 'invalid', f.message)
    case 'failed': return new FailedError(f.message)
  }
}

const KIND_BY_NAME: Record<string, FailureKind> = {
  AbortError: 'aborted',
  TimeoutError: 'timeout',
  NotFoundError: 'not-found',
  OverloadedError: 'overloaded',
  StoppedError: 'stopped',
  InvalidCommandError: 'invalid',
  InvalidRecordError: 'invalid-record'
}

/**
 * Turns anything thrown into a Failure. Our own errors keep their kind, field
 * and code; a foreign error whose name is one of ours (libp2p's AbortError,
 * say) gets that kind; anything else is 'failed'.
 */
export function errorToFailure (err: unknown): Failure {
  if (err instanceof SwarmbusError) return err.toFailure()
  if (err instanceof Error) {
    const message = err.message === '' ? err.name : err.message
    const kind = KIND_BY_NAME[err.name]
    if (kind === undefined) return failure('failed', message)
    const extra: { field?: string, code?: string } = {}
    const { field, code } = err as { field?: unknown, code?: unknown }
    if (kind === 'invalid' && typeof field === 'string') extra.field = field
    if (kind === 'invalid-record' && typeof code === 'string') extra.code = code
    return failure(kind, message, extra)
  }
  return failure('failed', String(err))
}

/**
 * createNode was given bootstrap peers and reached none of them within its
 * bootstrap deadline. `failures` names each address with its error; pass
 * `bootstrapRetry` to createNode to start alone and keep trying instead.
 */
export class BootstrapError extends Error {
  override readonly name = 'BootstrapError'
  readonly failures: ReadonlyArray<{ addr: string, error: string }>
  constructor (message: string, failures: ReadonlyArray<{ addr: string, error: string }>, options?: { cause?: unknown }) {
    super(message, options)
    this.failures = failures
  }
}
