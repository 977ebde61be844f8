/**
 * The RouterPort over the Helia client against a local Routing V1 server:
 * how each answer is classified (router-port.ts's table), peer records
 * converted to plain data, and a malformed endpoint refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { heliaRouterPort } from '../../../../src/actors/routers/http/helia-router-port.js'
import { RouterPortError } from '../../../../src/actors/routers/router-port.js'
import { createRecord } from '../../../../src/records/create.js'
import { startRoutingV1Server } from '../../../helpers/routing-v1-server.js'
import type { RoutingV1Server } from '../../../helpers/routing-v1-server.js'
import type { RouterPort } from '../../../../src/actors/routers/router-port.js'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function rig (behaviour: RoutingV1Server['behaviour'] = {}): Promise<{ srv: RoutingV1Server, port: RouterPort }> {
  const srv = await startRoutingV1Server({ behaviour })
  const port = heliaRouterPort({ url: srv.url })
  cleanups.push(async () => { await srv.close() }, async () => { await port.stop() })
  return { srv, port }
}

const signal = (): AbortSignal => new AbortController().signal

async function reasonOf (p: Promise<unknown>): Promise<{ reason: string, status: number | undefined }> {
  try {
    await p
  } catch (err) {
    if (err instanceof RouterPortError) return { reason: err.reason, status: err.status }
    throw err
  }
  throw new Error('it did not fail')
}

async function drain (it: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = []
  for await (const x of it) out.push(x)
  return out
}

describe('heliaRouterPort', () => {
  it('classifies answers: not found, 5xx and 429 transient, 4xx rejected, a refused PUT rejected', async () => {
    const r = await createRecord(await generateKeyPair('Ed25519'), '/ipfs/bafkqaaa', { now: Date.now() })
    const name = r.name.format('base36')
    const ok = await rig()
    expect(await reasonOf(ok.port.getIpns(name, { signal: signal() }))).toMatchObject({ reason: 'not-found' })
    await ok.port.putIpns(name, r.bytes, { signal: signal() })
    expect(await ok.port.getIpns(name, { signal: signal() })).toEqual(r.bytes)

    const down = await rig({ status: 503 })
    expect(await reasonOf(down.port.getIpns(name, { signal: signal() }))).toEqual({ reason: 'transient', status: 503 })
    expect(await reasonOf(drain(down.port.findProviders(CID_A, { signal: signal() })))).toEqual({ reason: 'transient', status: 503 })
    const busy = await rig({ status: 429 })
    expect(await reasonOf(busy.port.getIpns(name, { signal: signal() }))).toEqual({ reason: 'transient', status: 429 })
    const bad = await rig({ status: 400 })
    expect(await reasonOf(bad.port.getIpns(name, { signal: signal() }))).toEqual({ reason: 'rejected', status: 400 })
    const unprocessable = await rig({ status: 422 })
    expect(await reasonOf(unprocessable.port.getIpns(name, { signal: signal() }))).toMatchObject({ reason: 'rejected', status: 422 })
    const refusing = await rig({ refusePuts: true })
    expect(await reasonOf(refusing.port.putIpns(name, r.bytes, { signal: signal() }))).toMatchObject({ reason: 'rejected' })

    const gone = await rig()
    await gone.srv.close()
    expect(await reasonOf(gone.port.getIpns(name, { signal: signal() }))).toMatchObject({ reason: 'transient' })
    const ctl = new AbortController()
    ctl.abort()
    expect(await reasonOf(ok.port.getIpns(name, { signal: ctl.signal }))).toMatchObject({ reason: 'aborted' })
  })

  it('gives peer records as plain data with base58 ids, from JSON and NDJSON answers', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const { srv, port } = await rig()
    srv.providers.set(CID_A, [{ Schema: 'peer', ID: id, Addrs: ['/ip4/127.0.0.1/tcp/4001'], Protocols: ['transport-bitswap'] }])
    srv.peers.set(id, [{ Schema: 'peer', ID: id, Addrs: ['/ip4/127.0.0.1/tcp/4001'] }])
    expect(await drain(port.findProviders(CID_A, { signal: signal() }))).toEqual([{ peerId: id, multiaddrs: ['/ip4/127.0.0.1/tcp/4001'], protocols: ['transport-bitswap'] }])
    expect(await drain(port.findPeers(id, { signal: signal() }))).toEqual([{ peerId: id, multiaddrs: ['/ip4/127.0.0.1/tcp/4001'], protocols: [] }])
    expect(await drain(port.findProviders('bafkqaaa', { signal: signal() }))).toEqual([])
  })

  it('refuses an endpoint that is not an http(s) URL', () => {
    expect(() => heliaRouterPort({ url: 'ftp://127.0.0.1/' })).toThrow(RangeError)
    expect(() => heliaRouterPort({ url: 'nope' })).toThrow()
  })
})
