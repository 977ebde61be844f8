/**
 * The actor compliance suite against the runtime's echo test actor in all
 * three modes (the system actor's run is in test/actors/system/).
 */
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import { echoActor } from '../../helpers/echo-actor.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

runActorCompliance('echo test actor', {
  modes: ['prompt', 'never', 'slow'],
  promptTimeoutMs: 5000,
  build: env => {
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(echoActor({ mode: env.mode, lateMs: env.lateMs }))
    return {
      system,
      valid: [
        { command: { type: 'test.echo', text: 'now' } as BaseCommand },
        { command: { type: 'test.echo', text: 'later', delayMs: 1200 } as BaseCommand },
        { command: { type: 'test.echo', text: 'twice', twice: true } as BaseCommand },
        { command: { type: 'test.count', n: 4, delayMs: 100 } as BaseCommand, port: 'stream' },
        { command: { type: 'test.count', n: 2, fail: true } as BaseCommand, port: 'stream' }
      ],
      invalid: [
        { command: { type: 'test.echo', text: 5 } as unknown as BaseCommand, field: 'text' },
        { command: { type: 'test.echo', text: 'x', delayMs: -1 } as BaseCommand, field: 'delayMs' },
        { command: { type: 'test.count', n: 1.5 } as BaseCommand, port: 'stream', field: 'n' }
      ]
    }
  }
})
