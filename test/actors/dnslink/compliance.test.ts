/**
 * The actor compliance suite against the DNSLink actor over an in-memory DNS
 * zone (a DnsOps that answers TXT lookups from a table, honouring the
 * lookup's signal), in 'prompt' and 'never' (no server ever answers; the
 * lookup ends only when aborted) modes. Not 'slow': by design an answer for
 * a lookup nobody waits on any more is dropped inside the actor, so it never
 * reaches a port to become a dead letter.
 */
import { ActorSystem } from '../../../src/actors/runtime/system.js'
import { dnslinkActor } from '../../../src/actors/dnslink/dnslink-actor.js'
import { AbortError, NotFoundError } from '../../../src/messages/errors.js'
import { runActorCompliance } from '../../compliance/actor-compliance.js'
import type { DnsOps, TxtAnswer } from '../../../src/actors/dnslink/dns-ops.js'
import type { BaseCommand } from '../../../src/messages/commands.js'

const cmd = (c: Record<string, unknown> & { type: string }): BaseCommand => c
const ZONE = new Map<string, string[]>([
  ['_dnslink.example.com', ['dnslink=/ipfs/bafkqaddwgevxmmraojswg33smq']],
  ['bare.example', ['v=spf1 -all', 'dnslink=/ipns/k51qzi5uqu5dgsq3mxtkulpb8mao7bv10in440nxvtkzl8bcplediubqox1r7e']],
  ['_dnslink.nolink.example', ['just text']]
])

/** TXT answers from ZONE: at once, or (never) only an AbortError when the signal fires */
function zoneOps (answers: boolean): DnsOps {
  return {
    lookupTxt: async (name, { signal }): Promise<TxtAnswer> => {
      if (!answers) {
        return await new Promise<TxtAnswer>((_resolve, reject) => {
          signal.addEventListener('abort', () => { reject(new AbortError(`lookup of ${name} aborted`)) }, { once: true })
        })
      }
      const records = ZONE.get(name)
      if (records === undefined) throw new NotFoundError(`${name}: no such name`)
      return { records, ttlMs: 30_000 }
    }
  }
}

runActorCompliance('dnslink actor (in-memory zone)', {
  modes: ['prompt', 'never'],
  build: env => {
    const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
    system.spawn(dnslinkActor({ ops: zoneOps(env.mode === 'prompt') }))
    return {
      system,
      valid: [
        { command: cmd({ type: 'dnslink.resolve', domain: 'example.com' }) },
        { command: cmd({ type: 'dnslink.resolve', domain: 'bare.example', nocache: true }) },
        { command: cmd({ type: 'dnslink.resolve', domain: 'nolink.example' }) },
        { command: cmd({ type: 'dnslink.resolve', domain: 'missing.example' }) }
      ],
      invalid: [
        { command: cmd({ type: 'dnslink.resolve', domain: 'not a domain' }), field: 'domain' },
        { command: cmd({ type: 'dnslink.resolve', domain: 'example.com', nocache: 'yes' }), field: 'nocache' }
      ]
    }
  }
})
