/**
 * The errors leaving the DhtPort: a closed set of classes, told apart by
 * class (`instanceof`) or by their `reason` discriminant, never by `name`
 * (dht-port.ts has the table). Each is a SwarmbusError whose `kind` is the
 * Failure kind it becomes (errorToFailure uses the class's own toFailure), and
 * keeps what libp2p threw as its `cause`.
 *
 * `toPortError` is the one place where libp2p's errors are classified; libp2p
 * 3 marks its errors by `name` only (its error classes are not shared across
 * its packages' copies, and DOMException's AbortError / TimeoutError have no
 * class of their own), so the names are read there, and only there.
 */
import { InvalidRecordError, SwarmbusError } from '../../messages/errors.js'
import type { Failure } from '../../messages/failure.js'
import { GateFullError } from './dht-client/kad-rpc.js'

export type PortErrorReason =
  | 'aborted' | 'timeout' | 'not-found' | 'not-started' | 'invalid-parameters' | 'invalid-record' | 'overloaded' | 'failed'

export abstract class DhtPortError extends SwarmbusError {
  abstract readonly reason: PortErrorReason
}

/** The caller's signal fired (always this class then, whatever libp2p reported). */
export class PortAbortError extends DhtPortError {
  override readonly name = 'AbortError'
  readonly reason = 'aborted' as const
  readonly kind = 'aborted' as const
}

/** libp2p gave up on a timer of its own (a dial timeout), before the caller's deadline. */
export class PortTimeoutError extends DhtPortError {
  override readonly name = 'TimeoutError'
  readonly reason = 'timeout' as const
  readonly kind = 'timeout' as const
}

/** No peer, provider or value: `findPeer` of a peer nobody knows, a peer-store miss. */
export class PortNotFoundError extends DhtPortError {
  override readonly name = 'NotFoundError'
  readonly reason = 'not-found' as const
  readonly kind = 'not-found' as const
}

/** The port was used after stop(). */
export class PortNotStartedError extends DhtPortError {
  override readonly name = 'NotStartedError'
  readonly reason = 'not-started' as const
  readonly kind = 'failed' as const
  constructor (message = 'the DHT port has been stopped', options?: ErrorOptions) {
    super(message, options)
  }
}

/** A key, CID, peer id or multiaddr libp2p cannot take; a namespace without a validator. */
export class PortInvalidParametersError extends DhtPortError {
  override readonly name = 'InvalidParametersError'
  readonly reason = 'invalid-parameters' as const
  readonly kind = 'failed' as const
}

/** A record a validator refused (`code`: its rule, when the validator named one). */
export class PortInvalidRecordError extends DhtPortError {
  override readonly name = 'InvalidRecordError'
  readonly reason = 'invalid-record' as const
  readonly kind = 'invalid-record' as const
  readonly code: string | undefined
  constructor (code: string | undefined, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }

  override toFailure (): Failure {
    const f = super.toFailure()
    return this.code === undefined ? f : { ...f, code: this.code }
  }
}

/** More requests waiting for a peer's slot than the port allows (kad-rpc.ts `PeerGate`). */
export class PortOverloadedError extends DhtPortError {
  override readonly name = 'OverloadedError'
  readonly reason = 'overloaded' as const
  readonly kind = 'overloaded' as const
}

/**
 * Anything else libp2p threw: the message is libp2p's, the `name` libp2p's
 * error's own (e.g. 'DialError', 'UnsupportedProtocolError') so a log line
 * still says what failed, and `cause` the error itself, with its chain.
 */
export class PortFailedError extends DhtPortError {
  override readonly name: string
  readonly reason = 'failed' as const
  readonly kind = 'failed' as const
  constructor (message: string, options: ErrorOptions & { name?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = options.name ?? 'FailedError'
  }
}

/** The members of the union, for exhaustive switches on `reason`. */
export type AnyDhtPortError =
  | PortAbortError | PortTimeoutError | PortNotFoundError | PortNotStartedError
  | PortInvalidParametersError | PortInvalidRecordError | PortOverloadedError | PortFailedError

export function abortError (signal: AbortSignal): PortAbortError {
  const reason: unknown = signal.reason
  const message = reason instanceof Error && reason.message !== '' ? reason.message : 'The operation was aborted'
  return new PortAbortError(message, reason instanceof Error ? { cause: reason } : undefined)
}

export function notFoundError (message: string): PortNotFoundError {
  return new PortNotFoundError(message)
}

export function notStartedError (): PortNotStartedError {
  return new PortNotStartedError()
}

/**
 * Converts whatever libp2p (or a validator) threw into one of the port's
 * errors, keeping it as the cause. If the caller's signal has fired, the
 * result is always a PortAbortError, whatever libp2p reported (a reset
 * stream, a closed queue, …). A port error passes through unchanged.
 */
export function toPortError (err: unknown, signal?: AbortSignal): DhtPortError {
  if (signal?.aborted === true) return abortError(signal)
  if (err instanceof DhtPortError) return err
  if (err instanceof GateFullError) return new PortOverloadedError(err.message, { cause: err })
  if (!(err instanceof Error)) return new PortFailedError(String(err))
  const message = err.message === '' ? err.name : err.message
  const cause = { cause: err }
  if (err instanceof InvalidRecordError) return new PortInvalidRecordError(err.code, message, cause)
  const code: unknown = (err as { code?: unknown }).code
  switch (err.name) {
    case 'AbortError': return new PortAbortError(message, cause)
    case 'TimeoutError': return new PortTimeoutError(message, cause)
    case 'NotFoundError': return new PortNotFoundError(message, cause)
    case 'NotStartedError': return new PortNotStartedError(message, cause)
    case 'InvalidParametersError': return new PortInvalidParametersError(message, cause)
    case 'InvalidRecordError': return new PortInvalidRecordError(typeof code === 'string' ? code : undefined, message, cause)
    default: return new PortFailedError(message, { ...cause, name: err.name })
  }
}
