/**
 * A test driver for an actor system on a simulated clock: deliver everything
 * waiting, let async completions land, and (with `advance`) move virtual time
 * to the next timer, until nothing is left or a bound is reached. It is test
 * scaffolding, not part of the runtime: import it from 'swarmbus/testing'.
 */
import type { ActorSystem } from '../actors/runtime/system.js'

export interface RunUntilQuietOptions {
  /** move the simulated clock to this time (e.g. `to => clock.advanceTo(to)`); without it, time never moves */
  advance?: (to: number) => void
  /** the next timer's time (e.g. `() => clock.nextTimerAt()`) */
  nextTimerAt?: () => number | undefined
  /** most deliveries (default 1,000,000) */
  maxSteps?: number
  /** most rounds of delivering and moving time (default 10,000) */
  maxRounds?: number
}

/** Returns how many deliveries it made. */
export async function runUntilQuiet (system: ActorSystem, options: RunUntilQuietOptions = {}): Promise<number> {
  const maxSteps = options.maxSteps ?? 1_000_000
  const maxRounds = options.maxRounds ?? 10_000
  let steps = 0
  for (let round = 0; round < maxRounds && steps < maxSteps; round++) {
    while (steps < maxSteps && system.step()) steps++
    for (let i = 0; i < 8; i++) await Promise.resolve()
    if (system.runnable) continue
    // A completion several promise hops away (async layers in a port fake)
    // must land before virtual time moves on, or it turns into a spurious
    // timeout: one host macrotask turn runs every pending microtask first.
    await new Promise<void>(resolve => { setImmediate(resolve) })
    if (system.runnable) continue
    const next = options.nextTimerAt?.()
    if (options.advance === undefined || next === undefined) break
    options.advance(next)
  }
  return steps
}
