/**
 * The RouterPort of one Delegated Routing V1 endpoint, through the official
 * client, @helia/delegated-routing-v1-http-api-client (one client per
 * endpoint). The client's own limits are set out of the actor's way: its
 * timeout is a backstop above the actor's, its queue as wide as the actor's
 * in-flight bound, its response cache off (the actor and the IPNS cache
 * decide what is fresh). Its errors are classified here, and only here, into
 * RouterPortError reasons (router-port.ts has the table).
 *
 * The client reports a status only in its messages ("Unexpected status code:
 * 503"); they are read for it. Two things it does not tell: a PUT answered
 * other than 200 (counted as a refusal, not retried), and any failure of
 * GET /routing/v1/peers, which it logs and turns into an empty answer.
 *
 * One more of its ways is worked around: aborting its signal while it reads
 * an NDJSON body makes it call cancel() on a body its own reader has locked,
 * a rejection nobody handles (a crash, in Node's default mode). So a stream
 * the actor gives up on is aborted on the wire only before its first record;
 * after that the pending read is let finish and the client's iterator closed
 * (which cancels the body properly), and its own timeout is set out of reach.
 */
import { delegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { RouterPortError } from '../router-port.js'
import type { DelegatedRoutingV1HttpApiClient, PeerRecord } from '@helia/delegated-routing-v1-http-api-client'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { RouterOpOptions, RouterPort, RouterPortPeer } from '../router-port.js'

const LIBP2P_KEY = 0x72
/** most addresses / protocols kept per peer record */
const MAX_ADDRS = 64
const MAX_PROTOCOLS = 32
/**
 * The client's own timeout fires on its signal, which must not abort a body
 * being read (see abandon): it is set as long as a timer can be, and the
 * actor's own timers and aborts decide instead.
 */
const CLIENT_TIMEOUT_MS = 2_147_483_647

export interface HeliaRouterPortOptions {
  /** the endpoint's base URL (http://127.0.0.1:8080, https://delegated-ipfs.dev) */
  url: string
  /** the client's own timeout (default: the longest a timer takes, ~24 days: the actor's timeouts and aborts decide) */
  clientTimeoutMs?: number
  /** abandoned streams still open before new streams of this endpoint are refused (default 64) */
  maxLingeringStreams?: number
  /** the client's request queue (default 16: the actor's in-flight bound) */
  concurrentRequests?: number
}

/** the client wants a libp2p logger; the port has nothing to say through it (its errors reach the actor) */
const silentLogger: ComponentLogger = {
  forComponent: () => {
    const log = Object.assign(() => {}, { enabled: false, error: () => {}, trace: () => {}, newScope: () => log }) as unknown as Logger
    return log
  }
}

function statusIn (message: string): number | undefined {
  const m = /status code: (\d{3})/.exec(message)
  return m?.[1] === undefined ? undefined : Number(m[1])
}

/** What the client threw, as a RouterPortError. */
function classify (err: unknown, signal: AbortSignal, what: string): RouterPortError {
  if (err instanceof RouterPortError) return err
  const e = err instanceof Error ? err : new Error(String(err))
  const msg = `${what}: ${e.message}`.slice(0, 500)
  if (signal.aborted || e.name === 'AbortError') return new RouterPortError('aborted', msg, { cause: e })
  if (e.name === 'NotFoundError') return new RouterPortError('not-found', msg, { cause: e, status: 404 })
  if (e.name === 'InvalidRequestError') return new RouterPortError('rejected', msg, { cause: e, status: 422 })
  if (e.name === 'BadResponseError') {
    const status = statusIn(e.message)
    if (status === undefined) {
      // a PUT's non-200, a missing body or content type: the endpoint's word, not a passing fault
      return new RouterPortError(/PUT/.test(e.message) ? 'rejected' : 'transient', msg, { cause: e })
    }
    const transient = status >= 500 || status === 429 || status === 408
    return new RouterPortError(transient ? 'transient' : 'rejected', msg, { cause: e, status })
  }
  // fetch's TypeError (connection refused, reset), the client's own TimeoutError, a body cut short
  return new RouterPortError('transient', msg, { cause: e })
}

function nameCid (name: string): CID {
  return CID.parse(name, base36)
}

function peerCid (peerId: string): CID {
  return CID.createV1(LIBP2P_KEY, Digest.decode(base58btc.decode(`z${peerId}`)))
}

function toPeer (r: PeerRecord): RouterPortPeer {
  return {
    peerId: base58btc.encode(r.ID.multihash.bytes).slice(1),
    multiaddrs: r.Addrs.slice(0, MAX_ADDRS).map(a => a.toString()),
    protocols: r.Protocols.slice(0, MAX_PROTOCOLS).filter(p => typeof p === 'string').map(p => p.slice(0, 63))
  }
}

export function heliaRouterPort (options: HeliaRouterPortOptions): RouterPort {
  const url = options.url
  // checked at once: a malformed endpoint fails createNode, not the first request
  const parsed = new URL(url)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new RangeError(`routers: endpoint ${url} must be an http(s) URL`)
  let client: DelegatedRoutingV1HttpApiClient | undefined
  /** abandoned streams still reading their body */
  let lingering = 0
  const maxLingering = options.maxLingeringStreams ?? 64
  /** the client, created on first use (and again after stop, for a restarted actor) */
  const use = async (): Promise<DelegatedRoutingV1HttpApiClient> => {
    if (client === undefined) {
      const c = delegatedRoutingV1HttpApiClient({
        url: parsed,
        timeout: options.clientTimeoutMs ?? CLIENT_TIMEOUT_MS,
        concurrentRequests: options.concurrentRequests ?? 16,
        cacheTTL: 0
      })({ logger: silentLogger })
      client = c
      await c.start()
    }
    return client
  }

  async function * peers (what: 'providers' | 'peers', target: string, opts: RouterOpOptions): AsyncIterable<RouterPortPeer> {
    const label = `${url} ${what} ${target}`
    if (lingering >= maxLingering) throw new RouterPortError('transient', `${label}: ${lingering} abandoned streams of this endpoint are still open`)
    // the client's own signal: aborted only while it is safe (see abandon)
    const hard = new AbortController()
    let onAbort: (() => void) | undefined
    const aborted = new Promise<'aborted'>(resolve => {
      onAbort = () => { resolve('aborted') }
      if (opts.signal.aborted) resolve('aborted')
      else opts.signal.addEventListener('abort', onAbort, { once: true })
    })
    let it: AsyncIterator<PeerRecord> | undefined
    try {
      const c = await use()
      const source = what === 'providers' ? c.getProviders(CID.parse(target), { signal: hard.signal }) : c.getPeers(peerCid(target), { signal: hard.signal })
      it = source[Symbol.asyncIterator]()
      let started = false
      while (true) {
        const next = it.next()
        const r = await Promise.race([next, aborted])
        if (r === 'aborted') {
          abandon(it, next, started ? undefined : hard)
          throw new RouterPortError('aborted', `${label}: aborted`)
        }
        if (r.done === true) return
        started = true
        yield toPeer(r.value)
      }
    } catch (err) {
      throw classify(err, opts.signal, label)
    } finally {
      if (onAbort !== undefined) opts.signal.removeEventListener('abort', onAbort)
    }
  }

  /**
   * A stream the actor gave up on. Before its first record the request is
   * aborted on the wire. Once its body is being read the client must not be
   * aborted (9.0.2 then cancels the body its own reader has locked, an
   * unhandled rejection): the pending read is let finish, then the client's
   * iterator is closed, which cancels the body through its reader.
   */
  const abandon = (it: AsyncIterator<PeerRecord>, next: Promise<IteratorResult<PeerRecord>>, hard: AbortController | undefined): void => {
    if (hard !== undefined) {
      hard.abort()
      return
    }
    lingering++
    const close = async (): Promise<void> => {
      try {
        await next
      } finally {
        lingering--
        await it.return?.()
      }
    }
    // eslint-disable-next-line no-restricted-syntax -- the stream was abandoned: its end, however it ends, has no one to tell
    close().catch(() => {})
  }

  return {
    endpoint: url,
    getIpns: async (name, opts) => {
      try {
        return await (await use()).getIPNS(nameCid(name), { signal: opts.signal })
      } catch (err) {
        throw classify(err, opts.signal, `${url} GET ipns ${name}`)
      }
    },
    putIpns: async (name, record, opts) => {
      try {
        await (await use()).putIPNS(nameCid(name), record, { signal: opts.signal })
      } catch (err) {
        throw classify(err, opts.signal, `${url} PUT ipns ${name}`)
      }
    },
    findProviders: (cid, opts) => peers('providers', cid, opts),
    findPeers: (peerId, opts) => peers('peers', peerId, opts),
    stop: async () => {
      const c = client
      client = undefined
      // a client with streams still reading is left to finish them (stopping it aborts its signal: see abandon)
      if (lingering === 0) await c?.stop()
    }
  }
}
