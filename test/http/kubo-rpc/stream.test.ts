/**
 * The NDJSON replies on their own (a fastify route per case, no node):
 * a failure before the first item is an ordinary error reply; one after it
 * is the command's error event as the last line and the X-Stream-Error
 * trailer; a client that stops reading stops the pulling (backpressure),
 * and one that goes away closes the source.
 */
import http from 'node:http'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendStream } from '../../../src/http/kubo-rpc/stream.js'
import { FailedError, InvalidCommandError } from '../../../src/messages/errors.js'
import { parseGoDuration } from '../../../src/http/kubo-rpc/params.js'
import type { FastifyInstance } from 'fastify'

interface Raw { status: number, headers: http.IncomingHttpHeaders, body: string, trailers: NodeJS.Dict<string> }

function request (port: number, path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST' }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body, trailers: res.trailers }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('NDJSON replies', () => {
  let app: FastifyInstance
  let port = 0
  const pull = { pulled: 0, closed: false }

  beforeAll(async () => {
    app = Fastify()
    app.post('/late', async (_req, reply) => await sendStream(reply, {
      stream: (async function * () { yield { n: 1 }; throw new FailedError('the query broke') })(),
      errorEvent: (err) => ({ Type: 3, Extra: err.message })
    }))
    app.post('/early', async (_req, reply) => await sendStream(reply, {
      stream: { [Symbol.asyncIterator]: () => ({ next: async () => { throw new InvalidCommandError('key', 'bad key') } }) }
    }))
    app.post('/endless', async (_req, reply) => await sendStream(reply, {
      stream: (async function * () {
        try {
          for (;;) { pull.pulled++; yield { pad: 'x'.repeat(10_000) } }
        } finally {
          pull.closed = true
        }
      })()
    }))
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as { port: number }).port
  })

  afterAll(async () => { await app.close() })

  it('a failure after the first item: the error event last, and the X-Stream-Error trailer', async () => {
    const r = await request(port, '/late')
    expect(r.status).toBe(200)
    expect(r.headers['x-chunked-output']).toBe('1')
    expect(r.headers.trailer?.toLowerCase()).toBe('x-stream-error')
    expect(r.body.trim().split('\n').map(l => JSON.parse(l) as unknown)).toEqual([{ n: 1 }, { Type: 3, Extra: 'the query broke' }])
    expect(r.trailers['x-stream-error']).toBe('the query broke')
  })

  it('an HTTP/1.0 client gets the lines without chunks or trailers', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end('POST /late HTTP/1.0\r\nHost: x\r\n\r\n') })
      let text = ''
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => { text += d })
      socket.on('end', () => { resolve(text) })
      socket.on('error', reject)
    })
    const [head, rest] = body.split('\r\n\r\n', 2) as [string, string]
    expect(head).not.toMatch(/transfer-encoding|trailer/i)
    expect(rest.trim().split('\n').map(l => JSON.parse(l) as unknown)).toEqual([{ n: 1 }, { Type: 3, Extra: 'the query broke' }])
  })

  it('a failure before any item: kubo\'s error body and status', async () => {
    const r = await request(port, '/early')
    expect(r.status).toBe(400)
    expect(r.headers['x-chunked-output']).toBeUndefined()
    expect(JSON.parse(r.body)).toEqual({ Message: 'bad key', Code: 1, Type: 'error' })
  })

  it('a client that stops reading stops the pulling; one that leaves closes the source', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/endless', method: 'POST' }, resolve)
      req.on('error', reject)
      req.end()
    })
    res.pause()
    await sleep(300)
    const first = pull.pulled
    await sleep(300)
    // stalled: only what the socket buffers hold (a few MB at most of 10 kB lines), and no more pulled
    expect(first).toBeGreaterThan(0)
    expect(first * 10_000).toBeLessThan(32 * 1024 * 1024)
    expect(pull.pulled - first).toBeLessThanOrEqual(2)
    expect(pull.closed).toBe(false)
    res.destroy()
    let waited = 0
    while (!pull.closed && waited++ < 100) await sleep(20)
    expect(pull.closed).toBe(true)
  })

  it('Go durations', () => {
    expect(parseGoDuration('500ms')).toBe(500)
    expect(parseGoDuration('1m0s')).toBe(60_000)
    expect(parseGoDuration('1h30m')).toBe(5_400_000)
    expect(parseGoDuration('1.5s')).toBe(1_500)
    expect(parseGoDuration('0')).toBe(0)
    expect(parseGoDuration('10')).toBeUndefined()
    expect(parseGoDuration('1d')).toBeUndefined()
    expect(parseGoDuration('')).toBeUndefined()
  })
})
