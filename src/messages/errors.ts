/**
 * The typed errors `ask` rejects with. Each has a stable `name`; record
 * failures carry a `code` naming the IPNS rule, command failures a `field`.
 * Each keeps its `cause`: a Failure carries it as plain data
 * (`Failure.cause`), and the Error built from a Failure gets it back as a
 * chain of plain Errors.
 */
import { causeOf, failure } from './failure.js'
import type { Failure, FailureCause, FailureKind } from './failure.js'

export abstract class SwarmbusError extends Error {
  abstract readonly kind: FailureKind
  toFailure (): Failure {
    return failure(this.kind, this.message, this.causeExtra())
  }

  /** `{ cause }` for failure(): this error's cause as plain data, when it has one */
  protected causeExtra (): { cause?: FailureCause } {
    const cause = causeOf(this.cause)
    return cause === undefined ? {} : { cause }
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
  constructor (field: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.field = field
  }

  override toFailure (): Failure {
    return failure('invalid', this.message, { field: this.field, ...this.causeExtra() })
  }
}

export class InvalidRecordError extends SwarmbusError {
  override readonly name = 'InvalidRecordError'
  readonly kind = 'invalid-record' as const
  /** the rule that failed: too-large, missing-signature-v2, bad-signature, expired, … */
  readonly code: string
  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }

  override toFailure (): Failure {
    return failure('invalid-record', this.message, { code: this.code, ...this.causeExtra() })
  }
}

/**
 * Turns a protocol Failure into the Error `ask` rejects with; its `cause`, when
 * the failure has one, is a chain of plain Errors with the recorded names,
 * messages and codes (an AggregateError where errors were recorded).
 */
export function failureToError (f: Failure): SwarmbusError {
  const o: ErrorOptions | undefined = f.cause === undefined ? undefined : { cause: causeToError(f.cause) }
  switch (f.kind) {
    case 'timeout': return new TimeoutError(f.message, o)
    case 'aborted': return new AbortError(f.message, o)
    case 'overloaded': return new OverloadedError(f.message, o)
    case 'stopped': return new StoppedError(f.message, o)
    case 'not-found': return new NotFoundError(f.message, o)
    case 'invalid': return new InvalidCommandError(f.field ?? 'command', f.message, o)
    case 'invalid-record': return new InvalidRecordError(f.code ?? 'invalid', f.message, o)
    case 'failed': return new FailedError(f.message, o)
  }
}

/** A recorded cause as the plain Error (or AggregateError) it describes. Bounded as the cause is. */
export function causeToError (c: FailureCause): Error {
  const o: ErrorOptions | undefined = c.cause === undefined ? undefined : { cause: causeToError(c.cause) }
  const err = c.errors === undefined ? new Error(c.message, o) : new AggregateError(c.errors.map(causeToError), c.message, o)
  err.name = c.name
  if (c.code !== undefined) Object.assign(err, { code: c.code })
  return err
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
 * Turns anything thrown into a Failure, keeping what caused it
 * (`Failure.cause`). Our own errors, the DhtPort's among them
 * (src/actors/swarm/port-errors.ts), keep their kind, field and code, and
 * their `cause` chain. A foreign error whose name is one of ours (a DNS
 * lookup's AbortError, say) gets that kind and keeps its cause chain; any
 * other is 'failed', and the error itself becomes the cause, so its own name
 * and code are not lost.
 */
export function errorToFailure (err: unknown): Failure {
  if (err instanceof SwarmbusError) return err.toFailure()
  if (err instanceof Error) {
    const message = err.message === '' ? err.name : err.message
    const kind = KIND_BY_NAME[err.name]
    if (kind === undefined) {
      const self = causeOf(err)
      const plain = self !== undefined && self.name === 'Error' && self.code === undefined && self.cause === undefined && self.errors === undefined
      return failure('failed', message, self === undefined || plain ? {} : { cause: self })
    }
    const extra: { field?: string, code?: string, cause?: FailureCause } = {}
    const { field, code } = err as { field?: unknown, code?: unknown }
    if (kind === 'invalid' && typeof field === 'string') extra.field = field
    if (kind === 'invalid-record' && typeof code === 'string') extra.code = code
    const cause = causeOf(err.cause)
    if (cause !== undefined) extra.cause = cause
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
