/**
 * One endpoint's health as the routers actor sees it: its counters and its
 * circuit breaker, judged on the actor's clock (times are passed in, never
 * read here). The breaker opens after `threshold` failures in a row, stays
 * open for `cooldownMs`, then lets one trial request through (half-open): a
 * success closes it, a failure opens it again for another cool-down.
 */
import type { BreakerState, RouterEndpointStatus } from '../../messages/routers.js'

export interface BreakerSettings {
  /** failures in a row that open the breaker (default 5) */
  threshold: number
  /** how long it stays open before a trial request (default 30 s) */
  cooldownMs: number
}

export type Admission = 'ok' | 'open' | 'overloaded'

export class EndpointHealth {
  readonly endpoint: string
  private readonly settings: BreakerSettings
  private readonly maxInFlight: number
  private state: BreakerState = 'closed'
  private openUntil = 0
  /** the half-open trial is running */
  private trial = false
  private readonly c: Omit<RouterEndpointStatus, 'endpoint' | 'breaker'> = {
    consecutiveFailures: 0, opens: 0, inFlight: 0, requests: 0, ok: 0, notFound: 0, errors: 0, timeouts: 0, retries: 0, invalidRecords: 0, overloaded: 0, skipped: 0
  }

  constructor (endpoint: string, settings: BreakerSettings, maxInFlight: number) {
    this.endpoint = endpoint
    this.settings = settings
    this.maxInFlight = maxInFlight
  }

  /** the breaker's state at `now` (open reads as half-open once its cool-down is over); changes nothing */
  breaker (now: number): BreakerState {
    return this.state === 'open' && now >= this.openUntil ? 'half-open' : this.state
  }

  /** May a request start at `now`? 'ok' counts it as started (call done() when it ends). */
  admit (now: number, retry: boolean): Admission {
    const b = this.breaker(now)
    this.state = b
    if (b === 'open' || (b === 'half-open' && this.trial)) {
      this.c.skipped++
      return 'open'
    }
    if (this.c.inFlight >= this.maxInFlight) {
      this.c.overloaded++
      return 'overloaded'
    }
    if (b === 'half-open') this.trial = true
    this.c.inFlight++
    this.c.requests++
    if (retry) this.c.retries++
    return 'ok'
  }

  /** a request ended: 'ok' and 'not-found' are answers (the endpoint works); 'error' and 'timeout' count against it; 'aborted' (by the asker) neither */
  done (now: number, outcome: 'ok' | 'not-found' | 'error' | 'timeout' | 'aborted'): void {
    this.c.inFlight = Math.max(0, this.c.inFlight - 1)
    const wasTrial = this.state === 'half-open' && this.trial
    if (wasTrial) this.trial = false
    switch (outcome) {
      case 'ok':
      case 'not-found':
        if (outcome === 'ok') this.c.ok++
        else this.c.notFound++
        this.c.consecutiveFailures = 0
        this.state = 'closed'
        return
      case 'aborted':
        return
      case 'timeout':
      case 'error':
        this.c.errors++
        if (outcome === 'timeout') this.c.timeouts++
        this.c.consecutiveFailures++
        if (wasTrial || (this.state === 'closed' && this.c.consecutiveFailures >= this.settings.threshold)) {
          this.state = 'open'
          this.openUntil = now + this.settings.cooldownMs
          this.c.opens++
        }
    }
  }

  invalidRecord (): void {
    this.c.invalidRecords++
  }

  status (now: number): RouterEndpointStatus {
    return { endpoint: this.endpoint, breaker: this.breaker(now), ...this.c }
  }
}
