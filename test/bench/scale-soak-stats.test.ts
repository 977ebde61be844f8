/**
 * The scale soak's pure parts (bench/scale-soak-stats.ts): its options from
 * argv and the environment, one sample from the children's stats, and the
 * flatness verdict — not a timed run of the bench.
 */
import { describe, expect, it } from 'vitest'
import { flatness, MIN_SAMPLES, parseDuration, sampleOf, soakOptions } from '../../bench/scale-soak-stats.js'
import type { SoakSample } from '../../bench/scale-soak-stats.js'
import type { ProcessStats } from '../../src/node/remote/protocol.js'

describe('soak options', () => {
  it('parses durations: 90s, 10m, 1h, 1h30m, 500ms, bare seconds', () => {
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('10m')).toBe(600_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('45')).toBe(45_000)
    for (const bad of ['', 'h', '10 minutes', '1x', '0s', '-5s', '1h 30m']) expect(() => parseDuration(bad), bad).toThrow(RangeError)
  })

  it('takes --soak / --soak-interval (both spellings) over SCALE_SOAK / SCALE_SOAK_INTERVAL; none: no soak', () => {
    expect(soakOptions(['scale'], {})).toBeUndefined()
    expect(soakOptions(['scale', '--soak', '1h'], {})).toEqual({ durationMs: 3_600_000, intervalMs: 60_000 })
    expect(soakOptions(['scale', '--soak=90s', '--soak-interval', '10s'], {})).toEqual({ durationMs: 90_000, intervalMs: 10_000 })
    expect(soakOptions(['scale'], { SCALE_SOAK: '10m', SCALE_SOAK_INTERVAL: '30s' })).toEqual({ durationMs: 600_000, intervalMs: 30_000 })
    expect(soakOptions(['scale', '--soak', '2m'], { SCALE_SOAK: '10m' })).toEqual({ durationMs: 120_000, intervalMs: 60_000 })
    // a soak shorter than a minute samples once at its end by default
    expect(soakOptions(['scale', '--soak', '30s'], {})).toEqual({ durationMs: 30_000, intervalMs: 30_000 })
    expect(() => soakOptions(['scale', '--soak'], {})).toThrow(/needs a duration/)
    expect(() => soakOptions(['scale', '--soak', '--soak-interval', '1s'], {})).toThrow(/needs a duration/)
    expect(() => soakOptions(['scale', '--soak-interval', '10s'], {})).toThrow(/needs --soak/)
    expect(() => soakOptions(['scale', '--soak', '10s', '--soak-interval', '1m'], {})).toThrow(/longer than the soak/)
  })
})

const stats = (process: number, over: Partial<ProcessStats['open']> & { rss?: number, timers?: number } = {}): ProcessStats => ({
  process,
  pid: 1_000 + process,
  cpu: { user: 1, system: 1 },
  memory: { rss: (over.rss ?? 100) * 2 ** 20, heapUsed: 50 * 2 ** 20, heapTotal: 60 * 2 ** 20, external: 0, arrayBuffers: 0 },
  maxRssKb: 1,
  activeResources: { Timeout: over.timers ?? 3, Immediate: 1, TCPSocketWrap: 7, TCPServerWrap: 2, PipeWrap: 1, FSReqCallback: 4 },
  inFlight: 0,
  nodes: 5,
  silentNodes: 0,
  open: { connections: 20, pendingQueries: 1, runningQueries: 2, pendingAsks: 3, openPorts: 4, dhtRequestsOpen: 5, dhtStreamsIdle: 6, inboundStreams: 7, mailboxDepth: 0, ...over }
})

describe('a soak sample', () => {
  it('sums the processes, keeps RSS per process in process order, counts timers and handles by kind', () => {
    const s = sampleOf([stats(1, { rss: 300 }), stats(0, { rss: 200, timers: 10 })], 61_400)
    expect(s).toEqual({
      elapsedS: 61,
      rssMb: [200, 300],
      totalRssMb: 500,
      maxRssMb: 300,
      heapUsedMb: 100,
      openStreams: 2 * (5 + 6 + 7),
      pendingAsks: 2 * (3 + 1 + 2),
      openPorts: 8,
      timers: (10 + 1) + (3 + 1),
      handles: 2 * (7 + 2 + 1),
      connections: 40,
      silentNodes: 0
    })
  })
})

const series = (n: number, f: (i: number) => Partial<SoakSample>): SoakSample[] => Array.from({ length: n }, (_, i) => ({
  ...sampleOf([stats(0)], i * 60_000),
  ...f(i)
}))

describe('the flatness verdict', () => {
  it('is flat when the last quarter stays within tolerance of the second, whatever the warm-up did', () => {
    // a warm-up climb in the first quarter, then noise around a level
    const v = flatness(series(16, i => ({ totalRssMb: i < 4 ? 50 + 10 * i : 100 + (i % 3), openStreams: i < 4 ? i : 40 + (i % 2) * 5 })))
    expect(v.flat).toBe(true)
    expect(v.grew).toEqual([])
    expect(v.measures.totalRssMb).toMatchObject({ secondQuarter: 101, flat: true })
  })

  it('names what grew: RSS beyond 10 %, a count beyond 20 % and its slack', () => {
    const v = flatness(series(16, i => ({ totalRssMb: 100 + 5 * i, timers: 100 + 10 * i, pendingAsks: 2 + (i > 12 ? 5 : 0) })))
    expect(v.flat).toBe(false)
    expect(v.grew.sort()).toEqual(['timers', 'totalRssMb'])
    // small counts may move by the slack (10) without failing
    expect(v.measures.pendingAsks?.flat).toBe(true)
  })

  it('a measure that falls is flat; a run too short for quarters gets no verdict, not a pass', () => {
    expect(flatness(series(12, i => ({ connections: 100 - i * 5 }))).flat).toBe(true)
    const short = flatness(series(MIN_SAMPLES - 1, () => ({})))
    expect(short.flat).toBe('too short')
    expect(short.measures).toEqual({})
  })
})
