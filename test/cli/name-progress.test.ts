/**
 * The CLI's progress on stderr (name-progress.ts), fed the progress events a
 * node emits: 'lines' prints each changed status (the last one held back by
 * the throttle comes at finish), 'tty' rewrites one line and clears it,
 * 'off' prints nothing; the routers' outcomes are kept by endpoint, those
 * asked without an answer as 'pending'.
 */
import { describe, expect, it } from 'vitest'
import { CommandProgress } from '../../src/cli/name-progress.js'
import type { ProgressEvent } from '../../src/actors/runtime/actor.js'

function harness (mode: 'tty' | 'lines' | 'off'): { progress: CommandProgress, written: string[], emit: (e: ProgressEvent) => void } {
  const written: string[] = []
  const out = { write: (s: string) => { written.push(s); return true } } as unknown as NodeJS.WritableStream
  const listeners: Array<(e: ProgressEvent) => void> = []
  const progress = new CommandProgress(mode, out)
  progress.attach({ on: (_event, fn) => { listeners.push(fn); return () => { listeners.splice(listeners.indexOf(fn), 1) } } })
  return { progress, written, emit: e => { for (const l of listeners) l(e) } }
}

const ev = (type: string, detail: Record<string, unknown>): ProgressEvent => ({ type, detail }) as ProgressEvent

describe('command progress', () => {
  it('lines: joining, then DHT answers against the quorum and routers answered; the held-back last status at finish', () => {
    const { progress, written, emit } = harness('lines')
    progress.joining('the public network (amino)', 0, 0)
    progress.operation('resolving k51…', 16)
    emit(ev('routers:request', { endpoint: 'http://r1' }))
    emit(ev('routers:request', { endpoint: 'http://r2' }))
    emit(ev('ipns:resolve:querying', { event: 'VALUE' }))
    emit(ev('ipns:resolve:querying', { event: 'VERIFIED' }))
    emit(ev('routers:answer', { endpoint: 'http://r1', outcome: 'record', sequence: '4' }))
    progress.finish()
    const text = written.join('')
    expect(text).toMatch(/^joining the public network \(amino\): 0 connections, 0 peers in the routing table \(0\.\ds\)\n/)
    expect(text).toMatch(/resolving k51…: DHT answers 0\/16 \(0\.\ds\)\n/)
    // the last status always shows, whatever the throttle held back
    expect(written.at(-1)).toMatch(/^resolving k51…: DHT answers 1\/16, routers answered 1\/2 \(0\.\ds\)\n$/)
    expect(progress.routers()).toEqual([
      { endpoint: 'http://r1', outcome: 'record', sequence: '4' },
      { endpoint: 'http://r2', outcome: 'pending' }
    ])
    // detached: later events change nothing
    emit(ev('routers:answer', { endpoint: 'http://r2', outcome: 'timeout', message: 'late' }))
    expect(progress.routers()[1]?.outcome).toBe('pending')
  })

  it('a publish\'s router outcomes come from ipns:publish:routers; found counts items', () => {
    const { progress, written, emit } = harness('lines')
    progress.operation('publishing /ipfs/x')
    emit(ev('routers:request', { endpoint: 'http://r1' }))
    emit(ev('ipns:publish:routers', { accepted: 1, outcomes: [{ endpoint: 'http://r1', ok: false, kind: 'failed', error: 'refused' }] }))
    expect(progress.routers()).toEqual([{ endpoint: 'http://r1', outcome: 'failed', error: 'refused' }])
    progress.found(3)
    progress.finish()
    expect(written.at(-1)).toMatch(/^publishing \/ipfs\/x: 3 found, routers answered 1\/1 \(0\.\ds\)\n$/)
  })

  it('tty rewrites one line and clears it; off prints nothing; note prints whatever the mode', () => {
    const tty = harness('tty')
    tty.progress.joining('2 bootstrap peers', 1, 0)
    tty.progress.joining('2 bootstrap peers', 2, 1)
    tty.progress.note('name resolve: a note')
    tty.progress.finish()
    const CLEAR = '\r\x1b[K'
    expect(tty.written[0]?.startsWith(`${CLEAR}joining 2 bootstrap peers: 1 connection, 0 peers`)).toBe(true)
    expect(tty.written[1]?.startsWith(`${CLEAR}joining 2 bootstrap peers: 2 connections, 1 peer in`)).toBe(true)
    expect(tty.written.slice(2)).toEqual(['\r\x1b[K', 'name resolve: a note\n'])
    const off = harness('off')
    off.progress.joining('x', 1, 1)
    off.emit(ev('routers:request', { endpoint: 'http://r1' }))
    off.progress.finish()
    expect(off.written).toEqual([])
    off.progress.note('still said')
    expect(off.written).toEqual(['still said\n'])
  })
})
