/**
 * How the Routing V1 server writes NDJSON, on a real fastify listener with a
 * lookup the test paces: each record leaves as its own line as soon as the
 * lookup yields it (no buffering until the end), the lookup is pulled only
 * as fast as the client reads (a client that stops reading stops the
 * lookup), the answer is capped, and a client that leaves ends the lookup.
 */
import http from 'node:http'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendRecords } from '../../../src/http/routing-v1/respond.js'
import type { FastifyInstance } from 'fastify'
import type { PeerRecordJson } from '../../../src/http/routing-v1/records.js'

const record = (i: number, addrs = 1): PeerRecordJson => ({
  Schema: 'peer',
  ID: `12D3KooWtest${i}`,
  Addrs: Array.from({ length: addrs }, (_, j) => `/ip4/127.0.0.${(j % 250) + 1}/tcp/${4000 + i % 1000}`)
})

interface Paced { pulled: number, closed: boolean, release: () => void }

describe('NDJSON answers', () => {
  let app: FastifyInstance
  let base: string
  let paced: Paced

  beforeAll(async () => {
    app = Fastify({ logger: false })
    // two records with a pause between them that only the test ends
    app.get('/gated', async (_request, reply) => {
      let release = (): void => {}
      const gate = new Promise<void>(resolve => { release = resolve })
      paced = { pulled: 0, closed: false, release }
      return await sendRecords(reply, {
        format: 'ndjson', key: 'Providers', filters: { addrs: undefined, protocols: undefined }, limit: 10,
        source: async function * () {
          yield record(1)
          await gate
          yield record(2)
        }
      })
    })
    // an endless lookup of large records, counting what was pulled from it
    app.get('/endless/:limit', async (request, reply) => {
      paced = { pulled: 0, closed: false, release: () => {} }
      const p = paced
      return await sendRecords(reply, {
        format: 'ndjson', key: 'Providers', filters: { addrs: undefined, protocols: undefined }, limit: Number((request.params as { limit: string }).limit),
        source: async function * () {
          try {
            for (let i = 0; ; i++) {
              p.pulled++
              yield record(i, 100)
              await new Promise(resolve => setImmediate(resolve))
            }
          } finally {
            p.closed = true
          }
        }
      })
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  })

  afterAll(async () => { await app?.close() })

  it('each record is a line on the wire as soon as it is found', async () => {
    const res = await fetch(`${base}/gated`, { headers: { accept: 'application/x-ndjson' } })
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    // the lookup has not gone on yet, and the first line is here
    expect(JSON.parse(new TextDecoder().decode(first.value).trim())).toMatchObject({ ID: '12D3KooWtest1' })
    paced.release()
    let rest = ''
    for (let r = await reader.read(); r.done !== true; r = await reader.read()) rest += new TextDecoder().decode(r.value)
    expect(rest.trim().split('\n').map(l => (JSON.parse(l) as { ID: string }).ID)).toEqual(['12D3KooWtest2'])
  })

  it('a client that stops reading stops the lookup; one that leaves ends it', async () => {
    const req = http.get(`${base}/endless/1000000`, { headers: { accept: 'application/x-ndjson' } })
    const res = await new Promise<http.IncomingMessage>(resolve => req.once('response', resolve))
    res.pause()
    await new Promise(resolve => setTimeout(resolve, 400))
    const stalled = paced.pulled
    await new Promise(resolve => setTimeout(resolve, 400))
    // nothing more was pulled while nobody read: the socket's buffers, not the lookup, set the pace
    expect(paced.pulled).toBe(stalled)
    expect(stalled).toBeLessThan(10_000)
    expect(paced.closed).toBe(false)
    req.destroy()
    const until = Date.now() + 2_000
    while (!paced.closed && Date.now() < until) await new Promise(resolve => setTimeout(resolve, 20))
    expect(paced.closed).toBe(true)
  })

  it('the answer stops at its limit, and the lookup is closed', async () => {
    const res = await fetch(`${base}/endless/5`, { headers: { accept: 'application/x-ndjson' } })
    const lines = (await res.text()).trim().split('\n')
    expect(lines).toHaveLength(5)
    expect(paced.closed).toBe(true)
    expect(paced.pulled).toBe(5)
  })
})
