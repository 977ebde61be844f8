/**
 * A Routing V1 server for the tests: a small loopback testnet of real nodes,
 * and a fastify app on 127.0.0.1:0 with routingV1Face over its first node —
 * the app the daemon serves, minus the daemon.
 */
import Fastify from 'fastify'
import { defaultLogger } from '@libp2p/logger'
import { delegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { routingV1Face } from '../../../src/http/routing-v1/index.js'
import type { DelegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client'
import type { FastifyInstance } from 'fastify'
import type { RoutingV1Options } from '../../../src/http/routing-v1/index.js'
import type { Testnet } from '../../../src/node/create-testnet.js'

export interface RoutingServer {
  net: Testnet
  app: FastifyInstance
  /** http://127.0.0.1:<port>/ */
  url: string
  client: DelegatedRoutingV1HttpApiClient
  stop(): Promise<void>
}

export async function startRoutingServer (seed: number, nodes = 4, options: RoutingV1Options = {}): Promise<RoutingServer> {
  const net = await createTestnet({ nodes, seed, settleTimeoutMs: 20_000, node: { verifier: 'inline', republish: false } })
  const app = Fastify({ logger: false })
  try {
    await app.register(routingV1Face(net.nodes[0] as NonNullable<Testnet['nodes'][0]>, options))
    await app.listen({ host: '127.0.0.1', port: 0 })
  } catch (err) {
    await app.close()
    await net.stop()
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  const url = `http://127.0.0.1:${port}/`
  const client = delegatedRoutingV1HttpApiClient({ url, cacheTTL: 0, timeout: 30_000 })({ logger: defaultLogger() })
  await client.start()
  return {
    net,
    app,
    url,
    client,
    stop: async () => {
      await client.stop()
      await app.close()
      await net.stop()
    }
  }
}

export async function collect<T> (it: AsyncIterable<T>, max = 1_000): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) {
    out.push(x)
    if (out.length >= max) break
  }
  return out
}
