/**
 * swarmbus/testing — scaffolding for testing actors (yours or ours) on a
 * simulated clock; not needed at run time.
 */
export { runUntilQuiet } from './testing/run-until-quiet.js'
export type { RunUntilQuietOptions } from './testing/run-until-quiet.js'
export { SimulatedClock } from './actors/runtime/clock.js'
