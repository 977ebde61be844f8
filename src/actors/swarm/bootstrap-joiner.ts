/**
 * How the swarm actor keeps track of joining the network. Every
 * `swarm.bootstrap` run is reported here: a run that reached a peer means
 * joined; one that reached none is remembered with its reason. With retries
 * on (createNode({ bootstrapRetry })), a node that reached none keeps trying
 * in the background — on ctx.after timers, doubling from `firstMs` to
 * `maxMs`, each try bounded by `attemptTimeoutMs` — until a try reaches a
 * peer; every step is a progress event (`swarm:bootstrap:*`) and the state is
 * the `bootstrap` section of swarm.status. Without retries the state is
 * 'alone' and nothing runs in the background.
 */
import type { ActorContext, Settled } from '../runtime/actor.js'
import type { DhtPort } from './dht-port.js'
import type { BootstrapStatus } from '../../messages/swarm.js'

export interface BootstrapRetryOptions {
  /** first wait before a background try (default 1 s) */
  firstMs?: number
  /** longest wait between tries (default 60 s) */
  maxMs?: number
  /** longest one try may run (default 10 s) */
  attemptTimeoutMs?: number
}

/** the joiner's own messages (plain data: they are recorded in traces) */
export type BootstrapMsg =
  | { type: 'boot.retry', n: number }
  | { type: 'boot.timeout', n: number }
  | { type: 'boot.done', n: number, result: Settled<{ connected: number, failed?: Array<{ addr: string, error: string }> }> }

export interface BootstrapJoiner {
  /** a swarm.bootstrap run ended: with the port's reply, or with why it did not */
  ran(outcome: { connected: number, failed?: Array<{ addr: string, error: string }> } | { error: string }): void
  receive(msg: BootstrapMsg): void
  status(): BootstrapStatus
  /** abort a try in flight (the actor stops) */
  stop(): void
}

const MAX_WAIT_MS = 2 ** 31 - 1

function check (name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0 && v <= MAX_WAIT_MS)) throw new RangeError(`bootstrapRetry.${name} must be a positive number of ms`)
  return v
}

/** why a run reached no peer, in one line */
export function noPeerReason (failed: ReadonlyArray<{ addr: string, error: string }> | undefined): string {
  if (failed === undefined || failed.length === 0) return 'no bootstrap peer was reached'
  return `reached none of ${failed.length} bootstrap peer${failed.length === 1 ? '' : 's'}: ${failed.slice(0, 4).map(f => `${f.addr}: ${f.error}`).join('; ')}`
}

/** Throws a RangeError for settings that make no sense (createNode checks before it starts anything). */
export function checkBootstrapRetry (options: BootstrapRetryOptions): void {
  check('firstMs', options.firstMs ?? 1_000)
  check('maxMs', options.maxMs ?? 60_000)
  check('attemptTimeoutMs', options.attemptTimeoutMs ?? 10_000)
}

export function bootstrapJoiner<M> (
  ctx: ActorContext<M>,
  options: BootstrapRetryOptions | undefined,
  port: () => DhtPort | undefined,
  wrap: (msg: BootstrapMsg) => M
): BootstrapJoiner {
  const retry = options === undefined
    ? undefined
    : { firstMs: check('firstMs', options.firstMs ?? 1_000), maxMs: check('maxMs', options.maxMs ?? 60_000), attemptTimeoutMs: check('attemptTimeoutMs', options.attemptTimeoutMs ?? 10_000) }
  const state: BootstrapStatus = { state: 'idle', retries: 0, connected: 0 }
  let wait = retry?.firstMs ?? 0
  /** the current try (or wait) — later messages of an older one are ignored */
  let n = 0
  let cancelTimer: (() => void) | undefined
  let trying: AbortController | undefined

  /** end the current wait or try: its later messages no longer count */
  const clear = (): void => {
    n++
    cancelTimer?.()
    cancelTimer = undefined
    trying?.abort()
    trying = undefined
    delete state.nextRetryAt
  }

  const joined = (connected: number): void => {
    clear()
    const was = state.state
    state.state = 'joined'
    state.connected = connected
    delete state.lastError
    wait = retry?.firstMs ?? 0
    if (was === 'retrying' || was === 'trying') ctx.progress({ type: 'swarm:bootstrap:joined', detail: { connected, retries: state.retries } })
  }

  const schedule = (): void => {
    if (retry === undefined) {
      state.state = 'alone'
      return
    }
    clear()
    const inMs = wait
    wait = Math.min(wait * 2, retry.maxMs)
    state.state = 'retrying'
    state.nextRetryAt = ctx.clock.wall() + inMs
    cancelTimer = ctx.after(inMs, wrap({ type: 'boot.retry', n }))
    ctx.progress({ type: 'swarm:bootstrap:retry-scheduled', detail: { inMs, retries: state.retries, ...(state.lastError !== undefined ? { lastError: state.lastError } : {}) } })
  }

  const failedRun = (reason: string): void => {
    state.connected = 0
    state.lastError = reason
    schedule()
  }

  return {
    ran: outcome => {
      if ('error' in outcome) failedRun(outcome.error)
      else if (outcome.connected > 0) joined(outcome.connected)
      else failedRun(noPeerReason(outcome.failed))
    },
    receive: msg => {
      if (msg.n !== n || retry === undefined) return
      switch (msg.type) {
        case 'boot.retry': {
          cancelTimer = undefined
          delete state.nextRetryAt
          const p = port()
          if (p === undefined) {
            // the node is restarting: try again later
            schedule()
            return
          }
          state.state = 'trying'
          state.retries++
          ctx.progress({ type: 'swarm:bootstrap:retry', detail: { retry: state.retries } })
          const controller = new AbortController()
          trying = controller
          cancelTimer = ctx.after(retry.attemptTimeoutMs, wrap({ type: 'boot.timeout', n }))
          const id = n
          ctx.pipe(p.bootstrap({ signal: controller.signal }), result => wrap({ type: 'boot.done', n: id, result }))
          return
        }
        case 'boot.timeout':
          cancelTimer = undefined
          trying?.abort()
          return
        case 'boot.done': {
          cancelTimer?.()
          cancelTimer = undefined
          trying = undefined
          const r = msg.result
          if (!r.ok) failedRun(`the try failed: ${r.failure.message}`)
          else if (r.value.connected > 0) joined(r.value.connected)
          else failedRun(noPeerReason(r.value.failed))
        }
      }
    },
    status: () => ({ ...state }),
    stop: () => { clear() }
  }
}
