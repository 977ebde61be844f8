/**
 * The shape of the scale bench's networks (both stacks, and the soak): sizes
 * and link delay from the environment, the churn victims in a process of
 * their own (every round(1 / churn)-th node), and the swarmbus testnet
 * started from it.
 */
import { createTestnet } from '../src/node/create-testnet.js'
import type { ProcessTestnet } from '../src/node/process-testnet.js'

export const env = (name: string, fallback: number): number => {
  const v = process.env[name]
  return v === undefined || v === '' ? fallback : Number(v)
}

export interface ScaleShape {
  nodes: number
  processes: number
  latencyMs: number
  jitterMs: number
  churn: number
  /** the victims' process (processes, when churn > 0) */
  victimProcess: number | undefined
  isVictim: (i: number) => boolean
  placement: (i: number) => number
}

export function scaleShape (churn = env('SCALE_CHURN', 0.2)): ScaleShape {
  const nodes = env('SCALE_NODES', 300)
  const processes = env('SCALE_PROCESSES', 4)
  const victimEvery = churn > 0 ? Math.max(2, Math.round(1 / churn)) : 0
  const isVictim = (i: number): boolean => victimEvery > 0 && i % victimEvery === victimEvery - 1
  return {
    nodes,
    processes,
    latencyMs: env('SCALE_LATENCY_MS', 40),
    jitterMs: env('SCALE_JITTER_MS', 10),
    churn,
    victimProcess: victimEvery > 0 ? processes : undefined,
    isVictim,
    placement: (i: number) => isVictim(i) ? processes : i % processes
  }
}

export async function startSwarmbus (shape: ScaleShape): Promise<ProcessTestnet> {
  return await createTestnet({
    nodes: shape.nodes,
    processes: shape.processes + (shape.victimProcess !== undefined ? 1 : 0),
    seed: 30_000,
    faults: { latencyMs: shape.latencyMs, jitterMs: shape.jitterMs },
    settleTimeoutMs: 120_000,
    placement: shape.placement,
    // at 300 nodes over 40 ms links on a busy machine a join (dial, then a self lookup) took over the testnet's 30 s
    node: { bootstrapTimeoutMs: env('SCALE_JOIN_TIMEOUT_MS', 120_000) }
  })
}
