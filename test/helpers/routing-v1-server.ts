/**
 * A Delegated Routing V1 HTTP server on 127.0.0.1 for tests
 * (https://specs.ipfs.tech/routing/http-routing-v1/, as boxo serves it:
 * /work/shared/HTTP-FACES.md §2), with answers set by the test and
 * behaviours to misbehave on purpose:
 *
 * - `records`: IPNS records by base36 name (GET answers them; a valid PUT,
 *   checked with the project's own validateRecord, stores one);
 * - `providers` by CID string, `peers` by base58 peer id (Peer schema);
 * - `behaviour`: `delayMs` (answer that late), `status` (answer every
 *   request with it, e.g. 503), `failFirst` (that many requests get 503, then
 *   normal answers), `invalidRecord` (GET answers these bytes instead),
 *   `refusePuts` (PUT gets 400).
 * - `close()` stops listening (later requests: connection refused).
 *
 * Every request is logged in `requests`, with whether the client went away
 * before the answer (`abandoned`): how a test sees an abort reach the wire.
 */
import { createServer } from 'node:http'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import { validateRecord } from '../../src/records/validate.js'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface PeerJson {
  Schema: 'peer'
  ID: string
  Addrs?: string[]
  Protocols?: string[]
}

export interface RoutingBehaviour {
  delayMs?: number
  status?: number
  failFirst?: number
  invalidRecord?: Uint8Array
  refusePuts?: boolean
  /** NDJSON answers: wait this long before each line (a slow DHT lookup behind the endpoint) */
  trickleMs?: number
}

export interface LoggedRequest {
  method: string
  path: string
  /** the client closed the connection before the answer was sent */
  abandoned: boolean
  /** the answer's status (undefined until sent) */
  status?: number
}

export interface RoutingV1Server {
  readonly url: string
  readonly records: Map<string, Uint8Array>
  readonly providers: Map<string, PeerJson[]>
  readonly peers: Map<string, PeerJson[]>
  behaviour: RoutingBehaviour
  readonly requests: LoggedRequest[]
  close(): Promise<void>
}

const IPNS_TYPE = 'application/vnd.ipfs.ipns-record'
const MAX_BODY = 10 * 1024
const MAX_LOG = 10_000

function cidName (text: string): string | undefined {
  try {
    const cid = CID.parse(text, text.startsWith('k') ? base36 : undefined)
    return cid.version === 1 && cid.code === 0x72 ? cid.toString(base36) : undefined
  } catch {
    // not a CID: the caller answers 400
    return undefined
  }
}

async function readBody (req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY) return undefined
    chunks.push(chunk as Buffer)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

function send (res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, vary: 'Accept' })
  res.end(body)
}

async function peerAnswer (req: IncomingMessage, res: ServerResponse, key: 'Providers' | 'Peers', list: PeerJson[], trickleMs: number): Promise<void> {
  const cache = list.length > 0 ? 'public, max-age=300, stale-while-revalidate=172800, stale-if-error=172800' : 'public, max-age=15'
  if ((req.headers.accept ?? '').includes('application/x-ndjson')) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', vary: 'Accept', 'cache-control': cache })
    res.flushHeaders()
    for (const p of list) {
      if (trickleMs > 0) await new Promise(resolve => setTimeout(resolve, trickleMs))
      if (res.destroyed) return
      res.write(JSON.stringify(p) + '\n')
    }
    res.end()
    return
  }
  res.writeHead(200, { 'content-type': 'application/json', vary: 'Accept', 'cache-control': cache })
  res.end(JSON.stringify({ [key]: list.slice(0, 20) }))
}

export async function startRoutingV1Server (init: { records?: Map<string, Uint8Array>, providers?: Map<string, PeerJson[]>, peers?: Map<string, PeerJson[]>, behaviour?: RoutingBehaviour } = {}): Promise<RoutingV1Server> {
  const records = init.records ?? new Map<string, Uint8Array>()
  const providers = init.providers ?? new Map<string, PeerJson[]>()
  const peers = init.peers ?? new Map<string, PeerJson[]>()
  const requests: LoggedRequest[] = []
  let served = 0

  const handle = async (req: IncomingMessage, res: ServerResponse, log: LoggedRequest): Promise<void> => {
    const b = self.behaviour
    served++
    if (b.delayMs !== undefined && b.delayMs > 0) await new Promise(resolve => setTimeout(resolve, b.delayMs))
    if (log.abandoned) return
    if (b.status !== undefined) return send(res, b.status, 'text/plain; charset=utf-8', `status ${b.status}`)
    if (b.failFirst !== undefined && served <= b.failFirst) return send(res, 503, 'text/plain; charset=utf-8', 'try later')
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const parts = url.pathname.split('/').filter(p => p.length > 0)
    if (parts[0] !== 'routing' || parts[1] !== 'v1' || parts.length !== 4) return send(res, 400, 'text/plain; charset=utf-8', 'unknown path')
    const [, , what, arg = ''] = parts
    if (what === 'ipns') {
      const name = cidName(arg)
      if (name === undefined) return send(res, 400, 'text/plain; charset=utf-8', 'not a libp2p-key CID')
      if (req.method === 'PUT') {
        if (req.headers['content-type'] !== IPNS_TYPE) return send(res, 406, 'text/plain; charset=utf-8', `use Content-Type: ${IPNS_TYPE}`)
        const body = await readBody(req)
        if (body === undefined) return send(res, 400, 'text/plain; charset=utf-8', 'record too large')
        if (b.refusePuts === true) return send(res, 400, 'text/plain; charset=utf-8', 'refused')
        try {
          validateRecord(name, body, Date.now())
        } catch (err) {
          return send(res, 400, 'text/plain; charset=utf-8', `invalid record: ${(err as Error).message}`)
        }
        records.set(name, body)
        return send(res, 200, 'text/plain; charset=utf-8', '')
      }
      const record = b.invalidRecord ?? records.get(name)
      if (record === undefined) return send(res, 200, 'text/plain; charset=utf-8', 'routing: not found')
      return send(res, 200, IPNS_TYPE, record)
    }
    if (what === 'providers') {
      try {
        CID.parse(arg)
      } catch {
        return send(res, 400, 'text/plain; charset=utf-8', 'not a CID')
      }
      return await peerAnswer(req, res, 'Providers', providers.get(arg) ?? [], b.trickleMs ?? 0)
    }
    if (what === 'peers') {
      // the client sends a base32 libp2p-key CID; the table is by base58 id
      let id = arg
      try {
        id = base58btc.encode(CID.parse(arg).multihash.bytes).slice(1)
      } catch {
        // a base58 peer id, as the spec also allows
      }
      return await peerAnswer(req, res, 'Peers', peers.get(id) ?? [], b.trickleMs ?? 0)
    }
    return send(res, 400, 'text/plain; charset=utf-8', 'unknown path')
  }

  const server: Server = createServer((req, res) => {
    const log: LoggedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', abandoned: false }
    if (requests.length < MAX_LOG) requests.push(log)
    res.on('close', () => { if (!res.writableFinished) log.abandoned = true })
    res.on('finish', () => { log.status = res.statusCode })
    handle(req, res, log).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', String(err))
      else res.destroy()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  const self: RoutingV1Server = {
    url: `http://127.0.0.1:${port}`,
    records,
    providers,
    peers,
    behaviour: init.behaviour ?? {},
    requests,
    close: async () => {
      closed ??= new Promise<void>(resolve => {
        server.close(() => { resolve() })
        server.closeAllConnections()
      })
      await closed
    }
  }
  return self
}
