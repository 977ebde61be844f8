/**
 * kubo's error body and status codes, as go-ipfs-cmds writes them:
 * `{"Message","Code","Type":"error"}`; Code 1 (a client error) is 400, a
 * rate limit (6) 429, anything else (0, a plain error) 500.
 *
 * A bus failure keeps its words; its kind picks the code. A timeout also
 * says `context deadline exceeded`, the phrase kubo-rpc-client turns into
 * its TimeoutError.
 */
import { SwarmbusError } from '../../messages/errors.js'

export const ERR_NORMAL = 0
export const ERR_CLIENT = 1
export const ERR_RATE_LIMITED = 6

/** An error the HTTP face raises itself (a bad parameter, a missing file) or maps a bus failure to. */
export class KuboRpcError extends Error {
  override readonly name = 'KuboRpcError'
  readonly code: number
  constructor (message: string, code: number = ERR_NORMAL, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  get status (): number {
    return statusOf(this.code)
  }
}

/** A parameter or body the caller got wrong: 400. */
export const clientError = (message: string): KuboRpcError => new KuboRpcError(message, ERR_CLIENT)

export function statusOf (code: number): number {
  if (code === ERR_CLIENT) return 400
  if (code === ERR_RATE_LIMITED) return 429
  return 500
}

export interface ErrorBody { Message: string, Code: number, Type: 'error' }

/** Any thrown value as kubo's error (message and code). `prefix` names the command's context, as kubo's messages do. */
export function toKuboError (err: unknown, prefix?: (message: string, kind: string) => string): KuboRpcError {
  if (err instanceof KuboRpcError) return err
  if (err instanceof SwarmbusError) {
    let message = prefix !== undefined ? prefix(err.message, err.kind) : err.message
    if (err.kind === 'timeout' && !message.includes('context deadline exceeded')) message = `${message}: context deadline exceeded`
    const code = err.kind === 'invalid' || err.kind === 'invalid-record'
      ? ERR_CLIENT
      : err.kind === 'overloaded' ? ERR_RATE_LIMITED : ERR_NORMAL
    return new KuboRpcError(message, code, { cause: err })
  }
  const message = err instanceof Error ? (err.message !== '' ? err.message : err.name) : String(err)
  return new KuboRpcError(message, ERR_NORMAL, { cause: err })
}

export function errorBody (err: KuboRpcError): ErrorBody {
  return { Message: err.message, Code: err.code, Type: 'error' }
}

/** kubo says `routing: not found` for a lookup that found nothing; the bus's own words follow. */
export const routingPrefix = (message: string, kind: string): string =>
  kind === 'not-found' ? `routing: not found: ${message}` : message
