/**
 * kubo's API security on the face, with kubo-rpc-client where it can say it
 * (headers option) and raw requests where a browser would send what the
 * client never does: API.Authorizations (bearer and basic secrets, path
 * prefixes, /api/v0/version always allowed, 403 otherwise), the
 * Origin/Referer check (403 cross-site), and the parameter and body bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNode } from '../../../src/node/create-node.js'
import { all, failure, post, startFace } from './support.js'
import type { Face } from './support.js'
import type { SwarmNode } from '../../../src/node/create-node.js'

const authorizations = {
  alice: { AuthSecret: 'bearer:tok-alice', AllowedPaths: ['/api/v0'] },
  bob: { AuthSecret: 'basic:bob:pw', AllowedPaths: ['/api/v0/key'] }
}
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

describe('kubo RPC security', () => {
  let node: SwarmNode
  let open: Face
  let locked: Face
  const faces: Face[] = []

  beforeAll(async () => {
    node = await createNode({ seed: 78_000, verifier: 'inline', republish: false })
    open = await startFace(node)
    locked = await startFace(node, { authorizations })
    faces.push(open, locked)
  }, 30_000)

  afterAll(async () => {
    await Promise.allSettled(faces.map(async f => { await f.close() }))
    await node?.stop()
  }, 20_000)

  it('a bearer secret: the exact header passes, a wrong one or none is 403; version is always allowed', async () => {
    const alice = await startFace(node, { authorizations }, { authorization: 'Bearer tok-alice' })
    faces.push(alice)
    expect((await alice.client.key.list()).map(k => k.name)).toEqual(['self'])
    expect((await alice.client.id()).id.toString()).toBe(node.peerId)

    const wrong = await startFace(node, { authorizations }, { authorization: 'Bearer tok-mallory' })
    faces.push(wrong)
    expect((await failure(wrong.client.key.list())).response?.status).toBe(403)
    // case and spacing matter: the whole header is compared
    expect((await post(locked, 'key/list', [], { headers: { authorization: 'bearer tok-alice' } })).status).toBe(403)
    expect((await post(locked, 'key/list', [], { headers: { authorization: 'Bearer  tok-alice' } })).status).toBe(403)
    expect((await failure(locked.client.key.list())).response?.status).toBe(403)
    // /api/v0/version needs no secret
    expect((await locked.client.version()).version).toBe('0.1.0')
    expect((await wrong.client.version()).version).toBe('0.1.0')
  })

  it('a basic secret reaches only its AllowedPaths', async () => {
    const bob = await startFace(node, { authorizations }, { authorization: basic('bob', 'pw') })
    faces.push(bob)
    expect((await bob.client.key.list()).map(k => k.name)).toEqual(['self'])
    const outside = await failure(all(bob.client.name.resolve(node.peerId)))
    expect(outside.response?.status).toBe(403)
    expect((await post(locked, 'key/list', [], { headers: { authorization: basic('bob', 'nope') } })).status).toBe(403)
    // the check is on the decoded path the command is dispatched by
    const encoded = await fetch(`${locked.url}/api/v0/%6Bey/list`, { method: 'POST', headers: { authorization: basic('bob', 'pw') } })
    expect(encoded.status).toBe(200)
    const escape = await fetch(`${locked.url}/api/v0/key%2F..%2Fname/resolve?arg=${node.peerId}`, { method: 'POST', headers: { authorization: basic('bob', 'pw') } })
    expect(escape.status).toBe(404)
  })

  it('without authorizations the API is open (loopback is the protection)', async () => {
    expect((await open.client.key.list()).length).toBe(1)
  })

  it('cross-site requests are refused: Origin, Referer, a browser with neither', async () => {
    const evil = await post(open, 'key/list', [], { headers: { origin: 'http://evil.example' } })
    expect(evil.status).toBe(403)
    const otherPort = await post(open, 'key/list', [], { headers: { origin: `http://127.0.0.1:${open.port + 1}` } })
    expect(otherPort.status).toBe(403)
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const same = await post(open, 'key/list', [], { headers: { origin: `http://${host}:${open.port}` } })
      expect(same.status).toBe(200)
      expect(same.headers.get('access-control-allow-origin')).toBe(`http://${host}:${open.port}`)
    }
    expect((await post(open, 'key/list', [], { headers: { referer: 'https://evil.example/page' } })).status).toBe(403)
    expect((await post(open, 'key/list', [], { headers: { referer: `http://127.0.0.1:${open.port}/webui` } })).status).toBe(200)
    expect((await post(open, 'key/list', [], { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } })).status).toBe(403)
    // a preflight from an allowed origin
    const pre = await fetch(`${open.url}/api/v0/key/list`, { method: 'OPTIONS', headers: { origin: `http://localhost:${open.port}`, 'access-control-request-headers': 'authorization' } })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization')
  })

  it('configured origins replace the loopback defaults', async () => {
    const app = await startFace(node, { allowedOrigins: ['https://app.example'] })
    faces.push(app)
    expect((await post(app, 'key/list', [], { headers: { origin: 'https://app.example' } })).status).toBe(200)
    expect((await post(app, 'key/list', [], { headers: { origin: `http://127.0.0.1:${app.port}` } })).status).toBe(403)
    const any = await startFace(node, { allowedOrigins: ['*'] })
    faces.push(any)
    expect((await post(any, 'key/list', [], { headers: { origin: 'https://anything.example' } })).status).toBe(200)
  })

  it('bounds: parameter count and length, file size', async () => {
    const many = Array.from({ length: 65 }, (_, i): [string, string] => ['arg', `k${i}`])
    const tooMany = await post(open, 'key/rm', many)
    expect(tooMany.status).toBe(400)
    expect(await tooMany.json()).toEqual({ Message: 'more than 64 parameters', Code: 1, Type: 'error' })
    const long = await post(open, 'name/resolve', [['arg', 'x'.repeat(9_000)]])
    expect(long.status).toBe(400)
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(70 * 1024)]), 'key')
    const big = await post(open, 'key/import', [['arg', 'big'], ['password', 'p']], { body: form })
    expect(big.status).toBe(400)
    expect(((await big.json()) as { Message: string }).Message).toMatch(/larger than 65536 bytes/)
    // past the face's body limit altogether: fastify's 413
    const huge = new FormData()
    huge.append('file', new Blob([new Uint8Array(200 * 1024)]), 'key')
    const tooLarge = await post(open, 'key/import', [['arg', 'big'], ['password', 'p']], { body: huge })
    expect([400, 413]).toContain(tooLarge.status)
    // a body a command ignores is still bounded
    const blob = await post(open, 'key/list', [], { body: new Uint8Array(200 * 1024), headers: { 'content-type': 'application/octet-stream' } })
    expect(blob.status).toBe(413)
    expect(await blob.json()).toMatchObject({ Code: 1, Type: 'error' })
    // a server with a lower body limit lowers the face's
    const tight = await startFace(node, {}, undefined, { bodyLimit: 16 * 1024 })
    faces.push(tight)
    expect((await post(tight, 'key/list', [], { body: new Uint8Array(20 * 1024), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(413)
    expect((await post(tight, 'key/list', [], { body: new Uint8Array(10 * 1024), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(200)
    // a JSON body is not parsed either (kubo takes none)
    const json = await post(open, 'key/list', [], { body: '{not json', headers: { 'content-type': 'application/json' } })
    expect(json.status).toBe(200)
  })
})
