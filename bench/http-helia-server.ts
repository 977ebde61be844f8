/**
 * The http bench's third server, run as a child process:
 * `node http-helia-server.js <name> <record base64>`.
 *
 * @helia/delegated-routing-v1-http-api-server (Helia's own Routing V1
 * server, fastify 5 with @fastify/cors, as `createDelegatedRoutingV1HttpApiServer`
 * builds it) over a Helia routing that holds the record the daemon answers
 * with: `routing.get(/ipns/<multihash>)` returns those bytes from a map, and
 * throws NotFoundError for any other key, as Helia's routing does. That is
 * Helia's server at its best: no network, no cache lookup, no expiry check,
 * no metrics; what it measures is its HTTP path (CID parse, the routing
 * call, the reply). Only `routing.get` is served: the other routes (peers,
 * providers, PUT) are not loaded by the bench, and answer 500 if called.
 */
import { createDelegatedRoutingV1HttpApiServer } from '@helia/delegated-routing-v1-http-api-server'
import Fastify from 'fastify'
import { multihashToIPNSRoutingKey } from 'ipns'
import { base36 } from 'multiformats/bases/base36'
import { CID } from 'multiformats/cid'
import type { MultihashDigest } from 'multiformats/hashes/interface'

type Helia = Parameters<typeof createDelegatedRoutingV1HttpApiServer>[0]

const MAX_CONNECTIONS = 4096

class NotFoundError extends Error {
  override readonly name = 'NotFoundError'
  readonly code = 'ERR_NOT_FOUND'
}

class NotServedError extends Error {
  override readonly name = 'NotServedError'
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export async function heliaServer (name: string, recordBase64: string): Promise<void> {
  const record = new Uint8Array(Buffer.from(recordBase64, 'base64'))
  const records = new Map<string, Uint8Array>([[hex(multihashToIPNSRoutingKey(CID.parse(name, base36).multihash as MultihashDigest<0x00 | 0x12>)), record]])
  const notServed = async (): Promise<never> => { throw new NotServedError('not served by the bench routing') }
  const routing = {
    get: async (key: Uint8Array): Promise<Uint8Array> => {
      const r = records.get(hex(key))
      if (r === undefined) throw new NotFoundError('not found')
      return r
    },
    put: notServed,
    provide: notServed,
    cancelReprovide: notServed,
    findProviders: notServed,
    findPeer: notServed,
    getClosestPeers: notServed
  }
  // the server reads `helia.routing` only (and `helia.libp2p` for nothing on these routes)
  const helia = { routing } as unknown as Helia
  const app = Fastify({ logger: false, keepAliveTimeout: 5_000 })
  app.server.maxConnections = MAX_CONNECTIONS
  await createDelegatedRoutingV1HttpApiServer(helia, { fastify: app, listen: { host: '127.0.0.1', port: 0 } })
  const a = app.server.address()
  process.stdout.write(`listening on port ${typeof a === 'object' && a !== null ? a.port : 0}\n`)
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}

const [name, record] = process.argv.slice(2)
if (name === undefined || record === undefined) throw new Error('usage: http-helia-server.js <name> <record base64>')
await heliaServer(name, record)
