/**
 * A trace file honours the stream's backpressure with a bounded buffer and
 * never loses an event silently: a disk that stops taking lines (a FIFO
 * nobody reads) cuts the recording with a `truncated` marker, reason
 * 'buffer-full', once the buffer is full; a file that cannot be written
 * (/dev/full) cuts it with 'write-failed'. The node keeps working either way,
 * and traceStatus() says what happened.
 */
import { execFileSync } from 'node:child_process'
import { constants, existsSync } from 'node:fs'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseTrace } from '../../src/actors/runtime/trace-recorder.js'
import { createNode } from '../../src/node/create-node.js'
import { openTraceFile } from '../../src/node/trace-file.js'
import { replayNodeTrace } from '../../src/node/replay-node.js'
import type { FileHandle } from 'node:fs/promises'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c() })

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'swarmbus-trace-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** a FIFO opened for reading (so the writer can open it) that nobody reads until told */
async function stalledFifo (): Promise<{ path: string, reader: FileHandle, readAll: () => Promise<string> }> {
  const path = join(await tempDir(), 'trace.fifo')
  execFileSync('mkfifo', [path])
  const reader = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  cleanups.push(async () => { await reader.close().catch(() => {}) })
  const readAll = async (): Promise<string> => {
    const chunks: Buffer[] = []
    const buf = Buffer.alloc(1 << 16)
    for (;;) {
      let n: number
      try {
        n = (await reader.read(buf, 0, buf.length, null)).bytesRead
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          await new Promise(resolve => setTimeout(resolve, 20))
          continue
        }
        throw err
      }
      if (n === 0) break
      chunks.push(Buffer.from(buf.subarray(0, n)))
    }
    return Buffer.concat(chunks).toString('utf8')
  }
  return { path, reader, readAll }
}

describe('trace files', () => {
  it('a disk that stops taking lines: lines wait in a bounded buffer, then the recording is cut with a typed marker', async () => {
    const fifo = await stalledFifo()
    const file = await openTraceFile({ path: fifo.path, seed: 1, startedAt: 0, wallAt: 1_800_000_000_000, config: {}, now: () => 5, maxBufferBytes: 64 * 1024 })
    const big = 'x'.repeat(1_000)
    for (let i = 0; i < 1_000; i++) file.recorder.output({ type: 'progress', event: { type: 'filler', i, big } }, i)
    const status = file.status()
    expect(status.truncated).toBe('buffer-full')
    expect(status.bufferedBytes).toBeLessThanOrEqual(64 * 1024 + 200)
    expect(status.bufferedBytes).toBeGreaterThan(32 * 1024)
    // the reader comes back: everything buffered reaches the file, the marker last
    const closed = file.close()
    const text = await fifo.readAll()
    await closed
    const { events } = parseTrace(text)
    const last = events.at(-1)
    expect(last).toMatchObject({ type: 'truncated', reason: 'buffer-full', dir: 'out' })
    // no gap: every line before the marker, in order
    const seqs = events.map(e => e.seq)
    expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    expect(events.length).toBe(status.events)
    expect(events.length).toBeLessThan(1_000)
  })

  it('a file that cannot be written: the recording is cut with write-failed and the error is reported', async () => {
    if (!existsSync('/dev/full')) return
    const file = await openTraceFile({ path: '/dev/full', seed: 1, startedAt: 0, wallAt: 1_800_000_000_000, config: {}, now: () => 5 })
    for (let i = 0; i < 100; i++) file.recorder.output({ type: 'progress', event: { type: 'filler', i } }, i)
    for (let i = 0; i < 50 && file.status().truncated === undefined; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(file.status().truncated).toBe('write-failed')
    expect(file.status().error).toMatch(/ENOSPC/)
    await file.close()
  })

  it('a node whose trace disk stalls keeps serving; the cut trace replays up to its cut', async () => {
    const fifo = await stalledFifo()
    const node = await createNode({ trace: fifo.path, traceBufferBytes: 16 * 1024, verifier: 'inline', republish: false })
    let stopped = false
    cleanups.push(async () => { if (!stopped) await node.stop() })
    for (let i = 0; i < 300; i++) await node.ask({ type: 'system.ping' })
    const published = await node.ask({ type: 'ipns.publish', value: '/ipfs/bafkqaaa', offline: true })
    expect(published.sequence).toBe(0n)
    expect(node.traceStatus()).toMatchObject({ truncated: 'buffer-full', file: fifo.path })
    const stopping = node.stop().then(() => { stopped = true })
    const text = await fifo.readAll()
    await stopping
    const report = await replayNodeTrace(text)
    expect(report).toMatchObject({ ok: true, truncated: true })
  })
})
