/**
 * name/resolve?stream=true through ipns.resolveStream, with the real
 * kubo-rpc-client (which always asks for the stream and yields each line):
 * on a 3-node testnet whose DHT holds an older record and whose resolver's
 * HTTP router (a Routing V1 server answering after 600 ms) holds a newer
 * one, the stream gives the DHT's path first and the router's better one
 * second; a resolve without the stream answers with the best only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestnet } from '../../../src/node/create-testnet.js'
import { startRoutingV1Server } from '../../helpers/routing-v1-server.js'
import { all, post, startFace } from './support.js'
import type { Face } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'
import type { Testnet } from '../../../src/node/create-testnet.js'
import type { RoutingV1Server } from '../../helpers/routing-v1-server.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('name/resolve?stream=true: a line per better record', () => {
  let net: Testnet
  let srv: RoutingV1Server
  let face: Face
  let name = ''

  beforeAll(async () => {
    srv = await startRoutingV1Server({ behaviour: { delayMs: 600 } })
    net = await createTestnet({
      nodes: 3,
      transport: 'tcp',
      seed: 78_000,
      node: { verifier: 'inline', republish: false },
      nodeAt: async i => i === 2 ? { routers: { endpoints: [srv.url], retries: 0, settleMs: 100 } } : {}
    })
    const [publisher] = net.nodes as [SwarmNode]
    const pub = await publisher.ask({ type: 'ipns.publish', value: `/ipfs/${CID}/old` }, { timeoutMs: 10_000 })
    name = pub.name
    const newer = await publisher.ask({ type: 'record.create', value: `/ipfs/${CID}/new`, sequence: pub.sequence + 3n })
    srv.records.set(name, newer.record)
    face = await startFace(net.nodes[2] as SwarmNode)
  }, 40_000)

  afterAll(async () => {
    await face?.close()
    await net?.stop()
    await srv?.close()
  }, 20_000)

  it('kubo-rpc-client sees the DHT\'s older path first and the router\'s better one second', async () => {
    const paths = await all(face.client.name.resolve(name, { nocache: true, timeout: 10_000 }))
    expect(paths).toEqual([`/ipfs/${CID}/old`, `/ipfs/${CID}/new`])
    // the better one was kept: a resolve without the stream answers it from the cache
    const plain = await post(face, 'name/resolve', [['arg', name]])
    expect(await plain.json()).toEqual({ Path: `/ipfs/${CID}/new` })
  })

  it('the raw reply is NDJSON, one line per item', async () => {
    const res = await post(face, 'name/resolve', [['arg', name], ['stream', 'true']])
    expect(res.status).toBe(200)
    const lines = (await res.text()).trim().split('\n').map(l => JSON.parse(l) as unknown)
    // cached now: the cache's answer, and nothing better on the network
    expect(lines).toEqual([{ Path: `/ipfs/${CID}/new` }])
  })
})
