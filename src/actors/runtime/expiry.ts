/**
 * When something cached stops being fresh. A cached IPNS record is bounded
 * by a date (its EOL, on the wall clock) and by a duration (its TTL, which is
 * elapsed time). Measured on one clock alone, either is wrong after the host's
 * clock steps: on the monotonic clock a laptop that slept for hours keeps
 * answering from entries whose records died meanwhile; on the wall clock a
 * step backwards keeps an entry past its TTL. So an expiry carries both, and
 * has passed as soon as either clock says so.
 */
import type { Clock } from './clock.js'

export interface Expiry {
  /** wall time (ms since the epoch) from which it is stale */
  wall: number
  /** monotonic time (ms, on clock.now()) from which it is stale */
  mono: number
}

export const NEVER: Expiry = { wall: Infinity, mono: Infinity }

/** Fresh for ttlMs from now, and never past the date notAfter (wall ms). */
export function expiryIn (clock: Pick<Clock, 'now' | 'wall'>, ttlMs: number, notAfter = Infinity): Expiry {
  const wall = clock.wall()
  const until = Math.min(wall + Math.max(0, ttlMs), notAfter)
  return { wall: until, mono: clock.now() + (until - wall) }
}

/** Has it passed, by either clock? */
export function expired (clock: Pick<Clock, 'now' | 'wall'>, e: Expiry): boolean {
  return clock.wall() >= e.wall || clock.now() >= e.mono
}

/** The sooner of two, clock by clock. */
export function sooner (a: Expiry, b: Expiry): Expiry {
  return { wall: Math.min(a.wall, b.wall), mono: Math.min(a.mono, b.mono) }
}
