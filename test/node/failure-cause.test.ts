/**
 * A libp2p failure reaches the host with its cause: a dial to a port nobody
 * listens on fails in libp2p with an error whose causes say why; the host's
 * FailedError carries them as `cause` (plain Errors, names and messages
 * kept), the trace's settle line carries the same as `failure.cause`, and the
 * trace replays identically.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createNode } from '../../src/node/create-node.js'
import { replayNodeTrace } from '../../src/node/replay-node.js'
import { parseTrace } from '../../src/actors/runtime/trace-recorder.js'
import { FailedError } from '../../src/messages/errors.js'
import { PEER_B } from '../helpers/fake-dht-port.js'
import type { Failure } from '../../src/messages/failure.js'

/** a loopback TCP port that was just free: a dial there is refused */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  const address = server.address()
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function chain (err: unknown): string[] {
  const out: string[] = []
  for (let e = err; e instanceof Error && out.length < 10; e = e.cause) out.push(`${e.name}: ${e.message}`)
  return out
}

describe('a libp2p failure keeps its cause, from the port to the host and the trace', () => {
  let dir: string | undefined
  afterAll(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

  it('swarm.dial to a closed port: FailedError with libp2p\'s error as cause, in the settle line too, and replay agrees', async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarmbus-cause-'))
    const file = join(dir, 'trace.jsonl')
    const node = await createNode({ trace: file, loopback: true })
    let err: unknown
    try {
      const addr = `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${PEER_B}`
      err = await node.ask({ type: 'swarm.dial', multiaddr: addr }, { timeoutMs: 10_000 }).then(() => undefined, (e: unknown) => e)
    } finally {
      await node.stop()
    }
    expect(err).toBeInstanceOf(FailedError)
    const e = err as FailedError
    expect(e.message).toMatch(/ECONNREFUSED/)
    // the host sees libp2p's error under its own: name, message and code kept
    const cause = e.cause as Error & { code?: string }
    expect(cause).toBeInstanceOf(Error)
    expect(cause.code).toBe('ECONNREFUSED')
    expect(cause.message).toMatch(/ECONNREFUSED/)
    expect(chain(e).length).toBeGreaterThanOrEqual(2)

    // the trace's settle line keeps the cause text
    const text = await readFile(file, 'utf8')
    const settles = parseTrace(text).events.filter(ev => ev.type === 'settle' && (ev as { ok?: boolean }).ok === false) as unknown as Array<{ failure: Failure }>
    const dial = settles.find(s => /ECONNREFUSED/.test(s.failure.message))
    expect(dial?.failure).toMatchObject({ kind: 'failed', cause: { name: cause.name, message: cause.message, code: 'ECONNREFUSED' } })

    // and it replays identically; a settle line whose cause text differs is a divergence
    expect((await replayNodeTrace(text)).ok).toBe(true)
    const tampered = text.split('\n').map(line => line.includes('"type":"settle"') && line.includes('"code":"ECONNREFUSED"') ? line.replace('"code":"ECONNREFUSED"', '"code":"EHOSTUNREACH"') : line).join('\n')
    expect(tampered).not.toBe(text)
    expect((await replayNodeTrace(tampered)).ok).toBe(false)
  })
})
