/**
 * A datastore (a MemoryDatastore inside) whose every operation passes a gate
 * on the simulated clock, for compliance runs of the actors that work
 * through the repo: 'prompt' lets it through at once, 'slow' after `lateMs`
 * of virtual time (a disk that answers late), 'never' not at all. While
 * `bypass` is set (opening a keystore during setup) the gate is open.
 */
import { MemoryDatastore } from 'datastore-core'
import type { SimulatedClock } from '../../src/actors/runtime/clock.js'
import type { Datastore } from 'interface-datastore'

export type GateMode = 'prompt' | 'slow' | 'never'

export interface Gate {
  mode: GateMode
  lateMs: number
  clock: SimulatedClock | undefined
  bypass: boolean
}

export function newGate (): Gate {
  return { mode: 'prompt', lateMs: 5_000, clock: undefined, bypass: false }
}

/** resolves when the gate lets an operation through */
export async function passGate (gate: Gate): Promise<void> {
  if (gate.bypass || gate.mode === 'prompt') return
  if (gate.mode === 'never') return await new Promise<void>(() => {})
  const clock = gate.clock
  if (clock === undefined) throw new Error('a slow gate needs a clock')
  await new Promise<void>(resolve => { clock.setTimer(clock.now() + gate.lateMs, resolve) })
}

const ITERATORS = new Set(['query', 'queryKeys', 'getMany', 'deleteMany', 'putMany'])

export function gatedDatastore (gate: Gate, inner: Datastore = new MemoryDatastore()): Datastore {
  return new Proxy(inner, {
    get (target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      const fn = value as (...args: unknown[]) => unknown
      if (prop === 'batch') {
        return () => {
          const b = fn.call(target) as { put: (...a: unknown[]) => void, delete: (...a: unknown[]) => void, commit: () => Promise<void> }
          return { put: b.put.bind(b), delete: b.delete.bind(b), commit: async () => { await passGate(gate); await b.commit() } }
        }
      }
      if (typeof prop === 'string' && ITERATORS.has(prop)) {
        return async function * (...args: unknown[]) {
          await passGate(gate)
          yield * (fn.apply(target, args) as AsyncIterable<unknown>)
        }
      }
      return async (...args: unknown[]) => {
        await passGate(gate)
        return await fn.apply(target, args)
      }
    }
  })
}
