/**
 * The actor compliance suite against the system actor (system.ping). It
 * answers in the turn it is asked, so it has no 'never' or 'slow' form.
 */
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { systemActor } from '../../../src/actors/system/system-actor.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'

runActorCompliance('system actor', {
  build: env => {
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(systemActor())
    return { system, valid: [{ command: { type: 'system.ping' } }], invalid: [] }
  }
})
