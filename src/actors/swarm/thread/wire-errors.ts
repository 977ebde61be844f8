/**
 * Port errors across a MessagePort (the network-thread boundary, issue 10).
 * Structured clone keeps an Error's message but not its class, its `reason`
 * or `code`, so an error leaving the worker is encoded as plain data and
 * rebuilt on the host as the same port-errors.ts class, its cause chain kept
 * (bounded: MAX_CAUSE_DEPTH links, the rest dropped with a marker link).
 */
import {
  type DhtPortError, PortAbortError, PortFailedError, PortInvalidParametersError, PortInvalidRecordError,
  PortNotFoundError, PortNotStartedError, PortOverloadedError, PortTimeoutError, toPortError,
  type PortErrorReason
} from '../port-errors.js'

export const MAX_CAUSE_DEPTH = 8

/** A cause link: what crosses for any error (name, message, code, its own cause). */
export interface WireCause {
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly cause?: WireCause
}

/** A port error as plain data. */
export interface WirePortError {
  readonly reason: PortErrorReason
  readonly name: string
  readonly message: string
  readonly code?: string
  readonly cause?: WireCause
}

function encodeCause (err: unknown, depth: number): WireCause | undefined {
  if (err === undefined) return undefined
  if (depth >= MAX_CAUSE_DEPTH) return { name: 'TruncatedCause', message: `cause chain longer than ${MAX_CAUSE_DEPTH}` }
  if (!(err instanceof Error)) return { name: 'NonError', message: String(err) }
  const code: unknown = (err as { code?: unknown }).code
  const next = encodeCause(err.cause, depth + 1)
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(next === undefined ? {} : { cause: next })
  }
}

/** Encodes whatever an op threw in the worker (classified by toPortError first). */
export function encodePortError (err: unknown, signal?: AbortSignal): WirePortError {
  const e = toPortError(err, signal)
  const cause = encodeCause(e.cause, 0)
  const code = e instanceof PortInvalidRecordError ? e.code : undefined
  return {
    reason: e.reason,
    name: e.name,
    message: e.message,
    ...(code === undefined ? {} : { code }),
    ...(cause === undefined ? {} : { cause })
  }
}

/** A cause rebuilt on the host: an Error with the worker-side name and code. */
export class RemoteCauseError extends Error {
  override readonly name: string
  readonly code: string | undefined
  constructor (w: WireCause) {
    super(w.message, w.cause === undefined ? undefined : { cause: new RemoteCauseError(w.cause) })
    this.name = w.name
    this.code = w.code
  }
}

/** Rebuilds the same port error class the worker's port threw. */
export function decodePortError (w: WirePortError): DhtPortError {
  const o = w.cause === undefined ? undefined : { cause: new RemoteCauseError(w.cause) }
  switch (w.reason) {
    case 'aborted': return new PortAbortError(w.message, o)
    case 'timeout': return new PortTimeoutError(w.message, o)
    case 'not-found': return new PortNotFoundError(w.message, o)
    case 'not-started': return new PortNotStartedError(w.message, o)
    case 'invalid-parameters': return new PortInvalidParametersError(w.message, o)
    case 'invalid-record': return new PortInvalidRecordError(w.code, w.message, o)
    case 'overloaded': return new PortOverloadedError(w.message, o)
    case 'failed': return new PortFailedError(w.message, { ...o, name: w.name })
  }
}
