import { describe, expect, it } from 'vitest'
import { DeadLetters } from '../../../src/actors/runtime/dead-letters.js'

describe('DeadLetters', () => {
  it('counts by reason and in total', () => {
    const d = new DeadLetters()
    d.add({ reason: 'late-settle', at: 1 })
    d.add({ reason: 'late-settle', at: 2 })
    d.add({ reason: 'late-item', at: 3 })
    expect(d.total).toBe(3)
    expect(d.byReason).toEqual({ 'late-settle': 2, 'late-item': 1 })
  })

  it('keeps only the most recent, oldest first; reading does not consume them', () => {
    const d = new DeadLetters(3)
    for (let i = 0; i < 5; i++) d.add({ reason: 'late-settle', at: i })
    expect(d.recent().map(x => x.at)).toEqual([2, 3, 4])
    expect(d.recent().map(x => x.at)).toEqual([2, 3, 4])
    expect(d.total).toBe(5)
  })

  it('notifies listeners until they unsubscribe', () => {
    const d = new DeadLetters()
    const seen: string[] = []
    const off = d.onDeadLetter(x => { seen.push(x.reason) })
    d.add({ reason: 'actor-stopped', at: 0 })
    off()
    d.add({ reason: 'stale-incarnation', at: 0 })
    expect(seen).toEqual(['actor-stopped'])
  })
})
