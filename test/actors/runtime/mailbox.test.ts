import { describe, expect, it } from 'vitest'
import { DEFAULT_MAILBOX, Mailbox } from '../../../src/actors/runtime/mailbox.js'

describe('Mailbox', () => {
  it('bounds the user lane: offer returns false when full', () => {
    const m = new Mailbox<string, string>({ capacity: 2, systemCapacity: 2 })
    expect(m.offer('a')).toBe(true)
    expect(m.offer('b')).toBe(true)
    expect(m.offer('c')).toBe(false)
    expect(m.depth).toBe(2)
    expect(m.takeUser()).toBe('a')
    expect(m.offer('c')).toBe(true)
    expect(m.drainUser()).toEqual(['b', 'c'])
  })

  it('reserves the system lane: a full user lane does not stop system messages', () => {
    const m = new Mailbox<string, string>({ capacity: 1, systemCapacity: 2 })
    expect(m.offer('cmd')).toBe(true)
    expect(m.offer('cmd2')).toBe(false)
    expect(m.offerSystem('s1')).toBe(true)
    expect(m.offerSystem('s2')).toBe(true)
    expect(m.offerSystem('s3')).toBe(false)
    expect(m.depth).toBe(1)
    expect(m.systemDepth).toBe(2)
  })

  it('a flood of system messages does not take user slots either', () => {
    const m = new Mailbox<string, string>({ capacity: 2, systemCapacity: 1 })
    m.offerSystem('s')
    expect(m.offerSystem('s2')).toBe(false)
    expect(m.offer('a')).toBe(true)
    expect(m.offer('b')).toBe(true)
  })

  it('lanes are independent FIFOs; empty reflects both', () => {
    const m = new Mailbox<string, string>({ capacity: 4, systemCapacity: 4 })
    expect(m.empty).toBe(true)
    m.offer('u1'); m.offer('u2'); m.offerSystem('s1'); m.offerSystem('s2')
    expect(m.empty).toBe(false)
    expect(m.takeSystem()).toBe('s1')
    expect(m.takeSystem()).toBe('s2')
    expect(m.takeSystem()).toBeUndefined()
    expect(m.takeUser()).toBe('u1')
    expect(m.drainUser()).toEqual(['u2'])
    expect(m.empty).toBe(true)
  })

  it('uses the defaults when no limits are given', () => {
    const m = new Mailbox<number, number>()
    expect(m.limits).toEqual(DEFAULT_MAILBOX)
    for (let i = 0; i < DEFAULT_MAILBOX.capacity; i++) expect(m.offer(i)).toBe(true)
    expect(m.offer(-1)).toBe(false)
  })
})
