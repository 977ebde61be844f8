/**
 * The system actor answers the bus's own commands. `system.ping` is a no-op
 * round trip through a mailbox: the cheapest thing the bus can do, used for
 * health checks and to measure the bus's own overhead.
 */
import { defineActor } from '../runtime/actor.js'
import type { SystemPing } from '../../messages/system.js'
import '../../messages/system.js'

export const SYSTEM_ACTOR = 'system'

const EMPTY: Record<string, never> = Object.freeze({}) as Record<string, never>

export function systemActor (): ReturnType<typeof defineActor<SystemPing>> {
  return defineActor<SystemPing>({
    name: SYSTEM_ACTOR,
    commands: ['system.ping'],
    mailbox: { capacity: 16_384 },
    start: () => ({
      receive: msg => {
        if (msg.kind === 'command') msg.port.reply(EMPTY)
      }
    })
  })
}
