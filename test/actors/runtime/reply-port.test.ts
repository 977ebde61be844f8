/**
 * Replies typed inside, not only at the edge: a delivered command carries a
 * reply port typed by that command. Narrowing `msg.type` narrows the command
 * and its port together; a reply of the wrong shape, an item on a one-shot
 * command or a reply on a stream does not compile (the @ts-expect-error
 * lines fail `npm run typecheck` the day they compile). At run time the port
 * settles through the port table: exactly once, a second settle is a dead
 * letter.
 */
import { describe, expect, it } from 'vitest'
import { defineActor } from '../../../src/actors/runtime/actor.js'
import { simSystem } from '../../helpers/sim.js'
import type { ReplyPort } from '../../../src/actors/runtime/actor.js'
import type { DhtFindProviders, DhtPut, SwarmStatus } from '../../../src/messages/swarm.js'
import type { StorePut } from '../../../src/messages/store.js'
import '../../../src/messages/swarm.js'
import '../../../src/messages/store.js'

interface Twice { type: 'twice.ask' }
interface Untyped { type: 'ext.untyped', n: number }

declare module '../../../src/messages/commands.js' {
  interface CommandMap {
    'twice.ask': { command: Twice, reply: { n: number } }
  }
}

describe('typed reply ports', () => {
  it('narrowing msg.type narrows the command and its port; wrong shapes do not compile', () => {
    // compile-time only: the function is never called
    const typed = defineActor<DhtPut | SwarmStatus | DhtFindProviders, never>({
      name: 'typed',
      commands: ['dht.put', 'swarm.status'],
      streams: ['dht.findProviders'],
      start: () => ({
        receive: msg => {
          if (msg.kind !== 'command') return
          switch (msg.type) {
            case 'dht.put':
              msg.port.reply({ peers: msg.command.value.length })
              // @ts-expect-error dht.put answers { peers: number }
              msg.port.reply({ peer: 1 })
              // @ts-expect-error a one-shot command has no items
              msg.port.next({ peerId: 'x', multiaddrs: [] })
              return
            case 'dht.findProviders':
              msg.port.next({ peerId: msg.command.cid, multiaddrs: [] })
              // @ts-expect-error a stream is not answered with one reply
              msg.port.reply({ peers: 1 })
              msg.port.end()
              return
            case 'swarm.status':
              // @ts-expect-error swarm.status answers a SwarmStatusReply, not a put's reply
              msg.port.reply({ peers: 1 })
          }
        }
      })
    })
    // a port kept for later keeps its command's reply type
    const later = (port: ReplyPort<StorePut>): void => {
      port.reply({ stored: true })
      // @ts-expect-error store.put answers { stored: true }
      port.reply({ stored: false })
    }
    // an extension command no CommandMap declares: its replies are untyped (unknown)
    const loose = (port: ReplyPort<Untyped>): void => { port.reply({ anything: 1 }) }
    expect([typed.name, typeof later, typeof loose]).toEqual(['typed', 'function', 'function'])
  })

  it('settles through the port table: exactly once, a second settle is a late-settle dead letter', async () => {
    const h = simSystem()
    h.system.spawn(defineActor<Twice>({
      name: 'twice',
      commands: ['twice.ask'],
      start: () => ({
        receive: msg => {
          if (msg.kind !== 'command') return
          expect(msg.port.isOpen()).toBe(true)
          expect(msg.port.reply({ n: 1 })).toBe(true)
          expect(msg.port.isOpen()).toBe(false)
          expect(msg.port.reply({ n: 2 })).toBe(false)
          expect(msg.port.signal().aborted).toBe(true)
        }
      })
    }))
    const t = h.ask({ type: 'twice.ask' })
    await h.flush()
    expect(t.outcome).toMatchObject({ ok: true, value: { n: 1 } })
    expect(t.seen).toBe(1)
    expect(h.system.deadLetters.byReason['late-settle']).toBe(1)
  })
})
