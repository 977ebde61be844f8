/**
 * The pure parts of the scale soak (scale-soak.ts): its options from the
 * command line and the environment, one sample from the processes' stats,
 * and the verdict on whether what it watches stayed flat.
 *
 * "Flat": the samples are split into four quarters by order; a measure is
 * flat when the median of the last quarter is at most the median of the
 * second quarter × (1 + tolerance), or at most `slack` above it (small
 * counts jitter by a few). The first quarter is warm-up (heaps grow, caches
 * fill, connections open) and is not judged. Only growth fails: a measure
 * that falls is flat. Fewer than MIN_SAMPLES samples: no verdict
 * ('too short'), never a pass.
 */
import type { ProcessStats } from '../src/node/remote/protocol.js'

export interface SoakOptions { durationMs: number, intervalMs: number }

export const DEFAULT_SOAK_INTERVAL_MS = 60_000
export const MIN_SAMPLES = 8

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }

/** '90s', '10m', '1h', '1h30m', '500ms'; a bare number is seconds */
export function parseDuration (text: string): number {
  const t = text.trim()
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1_000
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
  if (parts.length === 0 || parts.map(p => p[0]).join('') !== t) throw new RangeError(`'${text}' is not a duration: use e.g. 90s, 10m, 1h, 1h30m`)
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0)
  if (!(ms > 0)) throw new RangeError(`'${text}' is not a positive duration`)
  return ms
}

function flag (argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    if (a === name) {
      const v = argv[i + 1]
      if (v === undefined || v.startsWith('--')) throw new RangeError(`${name} needs a duration, e.g. ${name} 10m`)
      return v
    }
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1)
  }
  return undefined
}

/**
 * `--soak 1h` / `--soak=1h` or SCALE_SOAK, and `--soak-interval 10s` or
 * SCALE_SOAK_INTERVAL (default 1 min); the flag wins over the variable.
 * undefined: no soak asked for.
 */
export function soakOptions (argv: string[], env: Record<string, string | undefined>): SoakOptions | undefined {
  const soak = flag(argv, '--soak') ?? (env.SCALE_SOAK !== undefined && env.SCALE_SOAK !== '' ? env.SCALE_SOAK : undefined)
  const interval = flag(argv, '--soak-interval') ?? (env.SCALE_SOAK_INTERVAL !== undefined && env.SCALE_SOAK_INTERVAL !== '' ? env.SCALE_SOAK_INTERVAL : undefined)
  if (soak === undefined) {
    if (interval !== undefined) throw new RangeError('--soak-interval needs --soak (or SCALE_SOAK)')
    return undefined
  }
  const durationMs = parseDuration(soak)
  const intervalMs = interval !== undefined ? parseDuration(interval) : Math.min(DEFAULT_SOAK_INTERVAL_MS, durationMs)
  if (intervalMs > durationMs) throw new RangeError(`the soak interval (${interval ?? ''}) is longer than the soak (${soak})`)
  return { durationMs, intervalMs }
}

/** what one soak line says, summed over the live processes (RSS also per process) */
export interface SoakSample {
  elapsedS: number
  rssMb: number[]
  totalRssMb: number
  maxRssMb: number
  heapUsedMb: number
  /** our DHT requests open, idle pooled streams, and inbound kad-dht streams */
  openStreams: number
  /** asks pending in every actor, plus swarm asks being served and libp2p operations running */
  pendingAsks: number
  openPorts: number
  /** Node timers and immediates alive in the processes (process.getActiveResourcesInfo) */
  timers: number
  /** sockets and servers alive in the processes */
  handles: number
  connections: number
  silentNodes: number
}

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20 * 10) / 10

export function sampleOf (stats: ProcessStats[], elapsedMs: number): SoakSample {
  const sum = (f: (s: ProcessStats) => number): number => stats.reduce((a, s) => a + f(s), 0)
  const kinds = (s: ProcessStats, match: (kind: string) => boolean): number => Object.entries(s.activeResources).reduce((a, [k, n]) => a + (match(k) ? n : 0), 0)
  const rssMb = [...stats].sort((a, b) => a.process - b.process).map(s => mb(s.memory.rss))
  return {
    elapsedS: Math.round(elapsedMs / 1_000),
    rssMb,
    totalRssMb: Math.round(rssMb.reduce((a, b) => a + b, 0) * 10) / 10,
    maxRssMb: rssMb.length === 0 ? 0 : Math.max(...rssMb),
    heapUsedMb: mb(sum(s => s.memory.heapUsed)),
    openStreams: sum(s => s.open.dhtRequestsOpen + s.open.dhtStreamsIdle + s.open.inboundStreams),
    pendingAsks: sum(s => s.open.pendingAsks + s.open.pendingQueries + s.open.runningQueries),
    openPorts: sum(s => s.open.openPorts),
    timers: sum(s => kinds(s, k => k === 'Timeout' || k === 'Immediate')),
    handles: sum(s => kinds(s, k => /TCP|Pipe|Server/.test(k))),
    connections: sum(s => s.open.connections),
    silentNodes: sum(s => s.silentNodes)
  }
}

export interface FlatRule { tolerance: number, slack: number }

/** the measures a soak judges, and how much growth each may show */
export const FLAT_RULES: Record<string, FlatRule> = {
  totalRssMb: { tolerance: 0.10, slack: 0 },
  maxRssMb: { tolerance: 0.10, slack: 0 },
  openStreams: { tolerance: 0.20, slack: 10 },
  pendingAsks: { tolerance: 0.20, slack: 10 },
  openPorts: { tolerance: 0.20, slack: 10 },
  timers: { tolerance: 0.20, slack: 10 },
  handles: { tolerance: 0.20, slack: 10 },
  connections: { tolerance: 0.20, slack: 10 }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] as number : ((s[m - 1] as number) + (s[m] as number)) / 2
}

export interface FlatVerdict {
  flat: boolean | 'too short'
  definition: string
  samples: number
  measures: Record<string, { secondQuarter: number, lastQuarter: number, limit: number, flat: boolean }>
  grew: string[]
}

export function flatness (samples: SoakSample[], rules: Record<string, FlatRule> = FLAT_RULES): FlatVerdict {
  const definition = 'median of the last quarter of samples ≤ median of the second quarter × (1 + tolerance), or ≤ it + slack; the first quarter is warm-up'
  const n = samples.length
  if (n < MIN_SAMPLES) return { flat: 'too short', definition, samples: n, measures: {}, grew: [] }
  const q = Math.floor(n / 4)
  const second = samples.slice(q, 2 * q)
  const last = samples.slice(n - q)
  const measures: FlatVerdict['measures'] = {}
  for (const [key, rule] of Object.entries(rules)) {
    const of = (xs: SoakSample[]): number => median(xs.map(s => s[key as keyof SoakSample] as number))
    const a = of(second)
    const b = of(last)
    const limit = Math.max(a * (1 + rule.tolerance), a + rule.slack)
    measures[key] = { secondQuarter: a, lastQuarter: b, limit: Math.round(limit * 10) / 10, flat: b <= limit }
  }
  const grew = Object.entries(measures).filter(([, m]) => !m.flat).map(([k]) => k)
  return { flat: grew.length === 0, definition, samples: n, measures, grew }
}
