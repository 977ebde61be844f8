/**
 * Invariants the bounds table (docs/architecture.md) states, checked at run
 * time. A broken invariant is a bug, never a condition to carry on through:
 * inside an actor's turn it throws, which crashes that actor into its
 * supervisor (restart with backoff, every ask it was serving failed with
 * StoppedError, a `crash` in the trace); checked by the system after a
 * delivery, it crashes the actor whose state broke it.
 */

export class InvariantError extends Error {
  override readonly name = 'InvariantError'
}

/** Throw an InvariantError naming what broke unless `cond` holds. */
export function invariant (cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new InvariantError(`invariant broken: ${message()}`)
}

/** timers one actor incarnation may have set and not yet fired (ctx.after) */
export const MAX_TIMERS_PER_ACTOR = 65_536
