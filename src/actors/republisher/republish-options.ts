/**
 * The republisher's settings: what a host may set (docs/republish.md) and
 * their defaults and bounds, checked once when the actor is defined (a bad
 * setting fails createNode with a RangeError).
 */

const HOUR = 3_600_000

export interface RepublisherOptions {
  /** time between checks (default 1 h), before jitter */
  intervalMs?: number
  /** republish a record once its EOL is this close (default 24 h) */
  thresholdMs?: number
  /** the interval varies by ± this fraction, drawn from the seeded rng (default 0.1) */
  jitter?: number
  /** republishes in flight at once (default 4) */
  concurrency?: number
  /** delay of the first run after a start when something is due (default 60 s: lets the node join the DHT first) */
  startDelayMs?: number
  /** deadline of one ipns.publish (default 2 min) */
  publishTimeoutMs?: number
  /** DHT peers a put must reach to count as done (default 1) */
  minPeers?: number
  /** a run that makes no progress for this long is abandoned, its names left pending (default publishTimeoutMs + 1 min) */
  stallMs?: number
  /** ipns.republish asks waiting at once (default 64) */
  maxWaiters?: number
}

export type RepublishSettings = Required<RepublisherOptions>

function positive (name: string, v: number | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new RangeError(`republish.${name} must be a number ≥ ${min}`)
  return v
}

export function republishSettings (options: RepublisherOptions): RepublishSettings {
  const intervalMs = positive('intervalMs', options.intervalMs, HOUR, 1000)
  if (intervalMs > 2 ** 31 - 1) throw new RangeError('republish.intervalMs must be at most 2^31 - 1 ms (about 24 days)')
  const thresholdMs = positive('thresholdMs', options.thresholdMs, 24 * HOUR, 0)
  const jitter = options.jitter ?? 0.1
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) throw new RangeError('republish.jitter must be in [0, 1)')
  const concurrency = positive('concurrency', options.concurrency, 4)
  if (!Number.isInteger(concurrency) || concurrency > 256) throw new RangeError('republish.concurrency must be an integer from 1 to 256')
  const startDelayMs = positive('startDelayMs', options.startDelayMs, 60_000, 0)
  const publishTimeoutMs = positive('publishTimeoutMs', options.publishTimeoutMs, 120_000)
  const minPeers = positive('minPeers', options.minPeers, 1, 0)
  const stallMs = positive('stallMs', options.stallMs, publishTimeoutMs + 60_000)
  const maxWaiters = positive('maxWaiters', options.maxWaiters, 64)
  return { intervalMs, thresholdMs, jitter, concurrency, startDelayMs, publishTimeoutMs, minPeers, stallMs, maxWaiters }
}
