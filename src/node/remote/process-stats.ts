/**
 * What a testnet child process reports of itself (ProcessStats): its CPU and
 * memory, the kinds of handles it holds, and the counts its host gives. One
 * builder for every kind of child (swarmbus nodes, the bench's Helia nodes) so
 * the figures of both stacks are read the same way.
 */
import type { ProcessStats } from './protocol.js'

export function processStatsOf (counts: Pick<ProcessStats, 'inFlight' | 'nodes' | 'silentNodes' | 'open'>): ProcessStats {
  const activeResources: Record<string, number> = {}
  for (const kind of process.getActiveResourcesInfo()) activeResources[kind] = (activeResources[kind] ?? 0) + 1
  const m = process.memoryUsage()
  return {
    // the parent knows which process this is (ChildHost.stats fills it in)
    process: -1,
    pid: process.pid,
    cpu: process.cpuUsage(),
    memory: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers },
    maxRssKb: process.resourceUsage().maxRSS,
    activeResources,
    ...counts
  }
}
