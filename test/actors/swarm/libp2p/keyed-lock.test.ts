/**
 * KeyedLock: one run at a time per key, in arrival order, different keys in
 * parallel, bounded, failures kept, idle entries dropped.
 */
import { describe, expect, it } from 'vitest'
import { KeyedLock } from '../../../../src/actors/swarm/libp2p/keyed-lock.js'
import { OverloadedError } from '../../../../src/messages/errors.js'

function gate (): { wait: Promise<void>, open: () => void } {
  let open = (): void => {}
  const wait = new Promise<void>(resolve => { open = resolve })
  return { wait, open }
}

describe('KeyedLock', () => {
  it('runs one key\'s sections one at a time, in arrival order', async () => {
    const lock = new KeyedLock()
    const log: string[] = []
    let inside = 0
    let most = 0
    const section = (name: string) => async (): Promise<string> => {
      inside++
      most = Math.max(most, inside)
      log.push(`${name}:in`)
      // several turns of the event loop inside the section
      for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
      log.push(`${name}:out`)
      inside--
      return name
    }
    const results = await Promise.all(['a', 'b', 'c', 'd'].map(async n => await lock.run('k', section(n))))
    expect(results).toEqual(['a', 'b', 'c', 'd'])
    expect(most).toBe(1)
    expect(log).toEqual(['a:in', 'a:out', 'b:in', 'b:out', 'c:in', 'c:out', 'd:in', 'd:out'])
    expect(lock.busyKeys).toBe(0)
  })

  it('does not make different keys wait for each other', async () => {
    const lock = new KeyedLock()
    const held = gate()
    const first = lock.run('x', async () => { await held.wait; return 'x' })
    // y completes while x is still held
    expect(await lock.run('y', async () => 'y')).toBe('y')
    expect(lock.busyKeys).toBe(1)
    held.open()
    expect(await first).toBe('x')
    expect(lock.busyKeys).toBe(0)
  })

  it('a failed section fails its own caller only; the next one still runs', async () => {
    const lock = new KeyedLock()
    const boom = new Error('boom', { cause: 'why' })
    const failing = lock.run('k', async () => { throw boom })
    const next = lock.run('k', async () => 'next')
    await expect(failing).rejects.toBe(boom)
    expect(await next).toBe('next')
  })

  it('fails with OverloadedError past maxPerKey, without running the section', async () => {
    const lock = new KeyedLock({ maxPerKey: 2 })
    const held = gate()
    let ran = 0
    const a = lock.run('k', async () => { ran++; await held.wait })
    const b = lock.run('k', async () => { ran++ })
    const err = await lock.run('k', async () => { ran++ }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OverloadedError)
    expect((err as Error).name).toBe('OverloadedError')
    // another key still has room
    await lock.run('other', async () => { ran++ })
    held.open()
    await Promise.all([a, b])
    expect(ran).toBe(3)
    // room again once the queue drained
    await lock.run('k', async () => { ran++ })
    expect(ran).toBe(4)
  })

  it('fails with OverloadedError past maxKeys busy keys', async () => {
    const lock = new KeyedLock({ maxKeys: 2 })
    const held = gate()
    const a = lock.run('a', async () => await held.wait)
    const b = lock.run('b', async () => await held.wait)
    await expect(lock.run('c', async () => 'c')).rejects.toBeInstanceOf(OverloadedError)
    // a busy key may still queue
    const a2 = lock.run('a', async () => 'a2')
    held.open()
    await Promise.all([a, b])
    expect(await a2).toBe('a2')
    expect(await lock.run('c', async () => 'c')).toBe('c')
    expect(lock.busyKeys).toBe(0)
  })
})
