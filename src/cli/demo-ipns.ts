/**
 * The demo's IPNS step: a name published on n1 and resolved on the other
 * nodes one after another — over the DHT, then from the cache, then again
 * after a republish with the next sequence — each with its lifecycle.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { fmtMs, round } from './format.js'
import { LifecycleRecorder, compactLifecycle } from './name-lifecycle.js'
import { cachedLifecycle, check, lifecycleData, median, plural, shortName, shortPath, STEP_TIMEOUT_MS } from './demo-report.js'
import type { LifecycleState } from './name-lifecycle.js'
import type { DemoHost, Outcome } from './demo-report.js'
import type { PublishReply, ResolveReply, SwarmNode } from '../index.js'

/** serial cached resolves timed on one node */
const CACHED_RESOLVES = 1_000
/** nodes that resolve the demo's IPNS name, one after another (spread over the testnet) */
const RESOLVERS = 11

export async function demoIpns (host: DemoHost, rnd: Buffer): Promise<void> {
  const a = host.node(0)
  const rest = host.nodes.filter(x => x !== a)
  // one after another, so each time is one resolve's, not a share of the host
  const others = rest.length <= RESOLVERS ? rest : Array.from({ length: RESOLVERS }, (_, i) => rest[Math.floor(i * rest.length / RESOLVERS)] as SwarmNode)
  const watched = others[0] as SwarmNode
  const cid = CID.createV1(raw.code, await sha256.digest(createHash('sha256').update(rnd).update('ipns').digest())).toString()
  const first = `/ipfs/${cid}`
  const second = `/ipfs/${cid}/v2`
  let published: PublishReply | undefined
  let republished: PublishReply | undefined

  const publish = async (step: string, value: string, note: (w: string) => void): Promise<Outcome & { reply: PublishReply }> => {
    note(`${host.label(a)} ipns.publish ${value}`)
    const recorder = new LifecycleRecorder(a, 'publish')
    let reply: PublishReply
    try {
      reply = await a.ask({ type: 'ipns.publish', value }, { timeoutMs: STEP_TIMEOUT_MS })
    } finally {
      recorder.stop()
    }
    const lifecycle = recorder.lifecycle()
    check(reply.value === value, `${step}: published ${reply.value}, not ${value}`)
    check(reply.peers > 0, 'no DHT peer took the record')
    return {
      reply,
      what: `${host.label(a)} published /ipns/${shortName(reply.name)} → ${shortPath(value)}, sequence ${reply.sequence}, stored on ${plural(reply.peers, 'peer')}: ${compactLifecycle(lifecycle)}`,
      data: { node: host.label(a), name: reply.name, value, sequence: reply.sequence, peers: reply.peers, lifecycle: lifecycleData(lifecycle) }
    }
  }

  /** the resolving nodes, one after another; the first one's lifecycle is recorded */
  const resolveAll = async (nocache: boolean): Promise<{ replies: ResolveReply[], ms: number[], lifecycle: LifecycleState[] }> => {
    const name = published?.name ?? ''
    const recorder = new LifecycleRecorder(watched, 'resolve')
    const replies: ResolveReply[] = []
    const ms: number[] = []
    try {
      for (const node of others) {
        const t = performance.now()
        replies.push(await node.ask({ type: 'ipns.resolve', name, ...(nocache ? { nocache } : {}) }, { timeoutMs: STEP_TIMEOUT_MS }))
        ms.push(performance.now() - t)
      }
      return { replies, ms, lifecycle: recorder.lifecycle() }
    } finally {
      recorder.stop()
    }
  }

  const same = (replies: ResolveReply[], value: string, sequence: bigint, what: string): void => {
    replies.forEach((r, i) => {
      const who = host.label(others[i] as SwarmNode)
      check(r.value === value, `${who} resolved ${shortPath(r.value)}, not the published ${shortPath(value)} (${what})`)
      check(r.sequence === sequence, `${who} resolved sequence ${r.sequence}, not ${sequence} (${what})`)
    })
  }

  await host.step('ipns.publish', async note => {
    const out = await publish('ipns.publish', first, note)
    published = out.reply
    return out
  })

  await host.step('ipns.resolve', async note => {
    check(published !== undefined, 'skipped: the publish failed')
    note(`${plural(others.length, 'node')} ipns.resolve /ipns/${shortName(published.name)} (uncached)`)
    const { replies, ms, lifecycle } = await resolveAll(false)
    same(replies, first, published.sequence, 'uncached')
    const notDht = replies.filter(r => r.source !== 'dht').length
    check(notDht === 0, `${notDht} nodes answered from '${replies.find(r => r.source !== 'dht')?.source ?? ''}', not the DHT`)
    return {
      what: `${plural(others.length, 'node')}, one after another, resolved it over the DHT: all ${shortPath(first)}, sequence ${published.sequence}; ` +
        `p50 ${fmtMs(median(ms))} ms, max ${fmtMs(Math.max(...ms))} ms; ${host.label(watched)}: ${compactLifecycle(lifecycle)}`,
      data: { name: published.name, value: first, sequence: published.sequence, resolves: replies.length, p50Ms: round(median(ms)), maxMs: round(Math.max(...ms)), lifecycle: lifecycleData(lifecycle) }
    }
  })

  await host.step('ipns.resolve cached', async note => {
    check(published !== undefined, 'skipped: the publish failed')
    const name = published.name
    note(`${plural(others.length, 'node')} ipns.resolve again`)
    const { replies, lifecycle } = await resolveAll(false)
    same(replies, first, published.sequence, 'cached')
    const uncached = replies.filter(r => r.source !== 'cache').length
    check(uncached === 0, `${uncached} nodes did not answer from their cache`)
    note(`${host.label(watched)} ${CACHED_RESOLVES.toLocaleString('en-US')} serial cached resolves`)
    const t = performance.now()
    for (let i = 0; i < CACHED_RESOLVES; i++) {
      const r = await watched.ask({ type: 'ipns.resolve', name }, { timeoutMs: STEP_TIMEOUT_MS })
      if (r.source !== 'cache' || r.value !== first) check(false, `cached resolve ${i + 1} answered ${r.value} from the ${r.source}`)
    }
    const perUs = (performance.now() - t) * 1000 / CACHED_RESOLVES
    return {
      what: `${plural(others.length, 'node')} answered from their cache: all ${shortPath(first)}; ${host.label(watched)}: ` +
        `${cachedLifecycle(lifecycle)}; ` +
        `${CACHED_RESOLVES.toLocaleString('en-US')} serial cached resolves, ${perUs.toFixed(1)} µs each`,
      data: { name, resolves: replies.length, cachedResolves: CACHED_RESOLVES, meanUs: round(perUs), lifecycle: lifecycleData(lifecycle) }
    }
  })

  await host.step('ipns.publish again', async note => {
    check(published !== undefined, 'skipped: the first publish failed')
    const out = await publish('ipns.publish again', second, note)
    republished = out.reply
    check(out.reply.name === published.name, `published under ${out.reply.name}, not ${published.name}`)
    check(out.reply.sequence === published.sequence + 1n, `sequence ${out.reply.sequence} after ${published.sequence}: not the next one`)
    return out
  })

  await host.step('ipns.resolve nocache', async note => {
    check(published !== undefined && republished !== undefined, 'skipped: a publish failed')
    // the caches still hold the first record: fresh until received + TTL (5 min)
    note(`${host.label(watched)} ipns.resolve (cached)`)
    const cached = await watched.ask({ type: 'ipns.resolve', name: published.name }, { timeoutMs: STEP_TIMEOUT_MS })
    check(cached.source === 'cache' && cached.sequence === published.sequence,
      `${host.label(watched)}'s cache answered sequence ${cached.sequence} from the ${cached.source}, not ${published.sequence} from the cache`)
    note(`${plural(others.length, 'node')} ipns.resolve with nocache`)
    const { replies, ms, lifecycle } = await resolveAll(true)
    same(replies, second, republished.sequence, 'nocache, after the republish')
    return {
      what: `${plural(others.length, 'node')} skipped their cache (still sequence ${published.sequence} until received + TTL) and got ${shortPath(second)}, ` +
        `sequence ${republished.sequence}; p50 ${fmtMs(median(ms))} ms, max ${fmtMs(Math.max(...ms))} ms; ${host.label(watched)}: ${compactLifecycle(lifecycle)}`,
      data: { name: republished.name, value: second, sequence: republished.sequence, resolves: replies.length, p50Ms: round(median(ms)), maxMs: round(Math.max(...ms)), lifecycle: lifecycleData(lifecycle) }
    }
  })
}
