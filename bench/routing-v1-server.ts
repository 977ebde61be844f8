/**
 * A Delegated Routing V1 HTTP server on 127.0.0.1 for the routers bench: the
 * IPNS part of the spec (GET /routing/v1/ipns/{name} answers a stored record
 * as application/vnd.ipfs.ipns-record, or 200 text/plain "not found"; PUT
 * stores one, at most 10 KiB), every answer after `delayMs`, as a router
 * on the far side of a network would. Trimmed from the test helper
 * (test/helpers/routing-v1-server.ts; bench/ cannot import test/).
 */
import { createServer } from 'node:http'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

const IPNS_TYPE = 'application/vnd.ipfs.ipns-record'
const MAX_BODY = 10 * 1024

export interface BenchRoutingServer {
  readonly url: string
  readonly records: Map<string, Uint8Array>
  /** requests answered */
  readonly served: { get: number, put: number }
  close(): Promise<void>
}

function nameOf (text: string): string | undefined {
  try {
    const cid = CID.parse(text, text.startsWith('k') ? base36 : undefined)
    return cid.version === 1 && cid.code === 0x72 ? cid.toString(base36) : undefined
  } catch {
    // not a libp2p-key CID: answered 400
    return undefined
  }
}

function send (res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { 'content-type': type, vary: 'Accept' })
  res.end(body)
}

async function body (req: IncomingMessage): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY) return undefined
    chunks.push(chunk as Buffer)
  }
  return new Uint8Array(Buffer.concat(chunks))
}

export async function startBenchRoutingServer (delayMs: number): Promise<BenchRoutingServer> {
  const records = new Map<string, Uint8Array>()
  const served = { get: 0, put: 0 }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    await new Promise(resolve => setTimeout(resolve, delayMs))
    if (res.destroyed) return
    const parts = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.split('/').filter(p => p.length > 0)
    const name = parts.length === 4 && parts[0] === 'routing' && parts[1] === 'v1' && parts[2] === 'ipns' ? nameOf(parts[3] ?? '') : undefined
    if (name === undefined) return send(res, 400, 'text/plain; charset=utf-8', 'only /routing/v1/ipns/{libp2p-key CID}')
    if (req.method === 'PUT') {
      const record = await body(req)
      if (record === undefined) return send(res, 400, 'text/plain; charset=utf-8', 'record too large')
      served.put++
      records.set(name, record)
      return send(res, 200, 'text/plain; charset=utf-8', '')
    }
    served.get++
    const record = records.get(name)
    if (record === undefined) return send(res, 200, 'text/plain; charset=utf-8', 'routing: not found')
    send(res, 200, IPNS_TYPE, record)
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', String(err))
      else res.destroy()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    records,
    served,
    close: async () => {
      closed ??= new Promise<void>(resolve => {
        server.close(() => { resolve() })
        server.closeAllConnections()
      })
      await closed
    }
  }
}
