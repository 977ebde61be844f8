/**
 * RouterPort: the narrow seam between the routers actor and one Delegated
 * Routing V1 HTTP endpoint (https://specs.ipfs.tech/routing/http-routing-v1/).
 *
 * One port per endpoint. The actor holds the policy (per-endpoint timeout,
 * retries with backoff, circuit breaking, in-flight bounds, counters) on its
 * injected clock, so a replay decides the same; the port only does the HTTP
 * request, outside the replay boundary. Every operation takes an AbortSignal
 * the actor derives from its own deadline (the attempt's timeout, the ask's
 * deadline, the caller's abort); implementations pass it into the request so
 * an abort really cancels it.
 *
 * Values crossing the seam are plain data (strings, Uint8Array), so they can
 * be recorded in a trace. Errors are RouterPortError, told apart by `reason`:
 *
 *   reason       Failure kind   retried   when
 *   aborted      aborted        no        the signal fired
 *   not-found    not-found      no        no record (404, 200 with another content type)
 *   rejected     failed         no        the endpoint refused the request (4xx, 422, a PUT answered other than 200)
 *   transient    failed         yes       5xx, 429, a network error, a malformed response
 *
 * The reason travels in the Failure's `code` (`router:<reason>`), so the
 * actor classifies a recorded completion the same way on replay.
 */
import { SwarmbusError } from '../../messages/errors.js'
import type { Failure, FailureKind } from '../../messages/failure.js'
import type { RouterPeer } from '../../messages/routers.js'

export type RouterErrorReason = 'aborted' | 'not-found' | 'rejected' | 'transient'

const KIND: Record<RouterErrorReason, FailureKind> = { aborted: 'aborted', 'not-found': 'not-found', rejected: 'failed', transient: 'failed' }
export const ROUTER_CODE_PREFIX = 'router:'

export class RouterPortError extends SwarmbusError {
  override readonly name = 'RouterPortError'
  readonly reason: RouterErrorReason
  readonly kind: FailureKind
  /** the HTTP status, when there was a response */
  readonly status: number | undefined
  constructor (reason: RouterErrorReason, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options)
    this.reason = reason
    this.kind = KIND[reason]
    this.status = options?.status
  }

  override toFailure (): Failure {
    const f = super.toFailure()
    f.code = `${ROUTER_CODE_PREFIX}${this.reason}`
    return f
  }
}

/** The reason a failed port operation had, from its Failure (a recorded one too). */
export function reasonOf (f: Failure): RouterErrorReason {
  if (f.code?.startsWith(ROUTER_CODE_PREFIX) === true) {
    const r = f.code.slice(ROUTER_CODE_PREFIX.length)
    if (r === 'aborted' || r === 'not-found' || r === 'rejected' || r === 'transient') return r
  }
  if (f.kind === 'aborted') return 'aborted'
  if (f.kind === 'not-found') return 'not-found'
  // anything else a port threw (a bug, a client's own error): worth another try
  return 'transient'
}

/** A peer record as the endpoint gave it, before the actor names the endpoint. */
export type RouterPortPeer = Omit<RouterPeer, 'endpoint'>

export interface RouterOpOptions {
  /** aborts the HTTP request; always provided by the actor */
  signal: AbortSignal
}

export interface RouterPort {
  /** the endpoint's base URL, as configured (http://127.0.0.1:8080) */
  readonly endpoint: string
  /** GET /routing/v1/ipns/{name}: the raw record; RouterPortError 'not-found' when there is none */
  getIpns(name: string, options: RouterOpOptions): Promise<Uint8Array>
  /** PUT /routing/v1/ipns/{name}; resolves when the endpoint answered 200 */
  putIpns(name: string, record: Uint8Array, options: RouterOpOptions): Promise<void>
  /** GET /routing/v1/providers/{cid}: peer records as they stream in */
  findProviders(cid: string, options: RouterOpOptions): AsyncIterable<RouterPortPeer>
  /** GET /routing/v1/peers/{peer}: the peer's records (base58 peer id in) */
  findPeers(peerId: string, options: RouterOpOptions): AsyncIterable<RouterPortPeer>
  stop(): Promise<void>
}
