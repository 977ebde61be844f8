/**
 * A compliance suite every actor must pass, whatever it does: the bus's
 * guarantees seen from the caller's side. Run it from a test file:
 *
 *   runActorCompliance('swarm actor', {
 *     modes: ['prompt', 'never', 'slow'],
 *     build: env => {
 *       const system = new ActorSystem({ clock: env.clock, trace: env.trace, seed: env.seed })
 *       system.spawn(swarmActor({ port: fakeDhtPort(env) }))
 *       return { system, valid: [...], invalid: [...] }
 *     }
 *   })
 *
 * Checked, on a SimulatedClock:
 * - every ask and stream settles exactly once (counted on the system's trace);
 * - deadlines are honoured: an ask with deadline D is settled by D, never
 *   later; an actor that does not answer ('never'/'slow') gives TimeoutError at D;
 * - an abort gives AbortError at the moment of the abort, nothing after it;
 * - no reply after stop: open asks reject StoppedError, later asks too, and
 *   whatever the actor still sends goes to dead letters, never to a caller;
 * - a late answer after a timeout goes to dead letters ('slow' mode);
 * - invalid commands (the samples, an unknown type, the wrong port kind) are
 *   rejected with InvalidCommandError synchronously, before any delivery.
 *
 * An actor whose own timers never stop (a periodic check) sets `horizonMs`:
 * the suite's runs then stop moving the clock there, past every deadline.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from '../../src/actors/runtime/clock.js'
import { createRng } from '../../src/actors/runtime/rng.js'
import { harness, RecordingTrace } from '../helpers/sim.js'
import type { ActorSystem } from '../../src/actors/runtime/system.js'
import type { BaseCommand } from '../../src/messages/commands.js'
import type { Outcome, SimHarness } from '../helpers/sim.js'
import { runUntilQuiet } from '../../src/testing/run-until-quiet.js'

/**
 * How the actor under test must behave for a test:
 * - 'prompt': answers every valid sample well within `promptTimeoutMs` of virtual time;
 * - 'never':  answers no valid sample (its work never completes unless cancelled);
 * - 'slow':   answers every valid sample only after `lateMs` (longer than any deadline the suite sets).
 */
export type ComplianceMode = 'prompt' | 'never' | 'slow'

export interface ComplianceEnv {
  /** the system must run on this clock */
  clock: SimulatedClock
  /** the system must write its trace here (the suite counts settles on it) */
  trace: RecordingTrace
  seed: number
  mode: ComplianceMode
  /** in 'slow' mode: how long the actor takes to answer */
  lateMs: number
}

export interface ComplianceSample {
  command: BaseCommand
  /** 'stream' for a streamed command (default 'once') */
  port?: 'once' | 'stream'
}

export interface InvalidSample extends ComplianceSample {
  /** the field the InvalidCommandError must name */
  field: string
}

export interface ComplianceSubject {
  system: ActorSystem
  /** commands the actor serves; each must settle (reply, items+end, or a typed failure) */
  valid: ComplianceSample[]
  /** commands validate() must reject */
  invalid: InvalidSample[]
  /** release anything beyond the system (the suite stops the system itself) */
  cleanup?: () => Promise<void> | void
}

export interface ComplianceTarget {
  build: (env: ComplianceEnv) => ComplianceSubject | Promise<ComplianceSubject>
  /** the modes `build` supports; 'prompt' is required, 'never' and 'slow' enable the timeout and late-answer checks */
  modes?: ComplianceMode[]
  /** the deadline given to asks in 'prompt' mode (default 10 s) */
  promptTimeoutMs?: number
  /** seeds for the randomised mix (default 1..20) */
  seeds?: number[]
  /**
   * For an actor with timers of its own that never stop (a periodic check):
   * the virtual time, from setup, past which the suite's runs do not move the
   * clock (default: no limit). At least MIN_HORIZON_MS, beyond every deadline
   * and abort the suite sets, so every ask still settles inside it.
   */
  horizonMs?: number
}

const TIMEOUT_MS = 1000
const LATE_MS = 5000
/** the latest any ask of the suite can settle, from setup: the seeded mix's advances (30 × 500 ms) and its longest deadline (2 × LATE_MS), with room */
const MIN_HORIZON_MS = 60_000

interface Opened { id: string, sample: ComplianceSample, deadline: number, outcome: () => Outcome | undefined, done: Promise<Outcome> }

export function runActorCompliance (name: string, target: ComplianceTarget): void {
  const modes = target.modes ?? ['prompt']
  const promptTimeoutMs = target.promptTimeoutMs ?? 10_000
  const seeds = target.seeds ?? Array.from({ length: 20 }, (_, i) => i + 1)
  const quiet = modes.filter(m => m !== 'prompt')
  const horizonMs = target.horizonMs ?? Infinity
  if (horizonMs < MIN_HORIZON_MS) throw new RangeError(`horizonMs must be at least ${MIN_HORIZON_MS}`)

  describe(`actor compliance: ${name}`, () => {
    let live: { h: SimHarness, subject: ComplianceSubject } | undefined
    /** trace length once start-up work has settled (what an actor asks of others at start is not the test's) */
    let setupEnd = 0

    afterEach(async () => {
      if (live === undefined) return
      const { h, subject } = live
      live = undefined
      await h.system.stop()
      await subject.cleanup?.()
    })

    async function setup (mode: ComplianceMode, seed = 1): Promise<{ h: SimHarness, subject: ComplianceSubject }> {
      const clock = new SimulatedClock()
      const trace = new RecordingTrace()
      const subject = await target.build({ clock, trace, seed, mode, lateMs: LATE_MS })
      const h = harness(subject.system, clock, trace)
      if (horizonMs !== Infinity) {
        const limit = clock.now() + horizonMs
        h.run = async (maxRounds?: number) => await runUntilQuiet(subject.system, {
          advance: to => { clock.advanceTo(to) },
          nextTimerAt: () => { const next = clock.nextTimerAt(); return next !== undefined && next <= limit ? next : undefined },
          ...(maxRounds === undefined ? {} : { maxRounds })
        })
      }
      live = { h, subject }
      expect(subject.valid.length, 'give at least one valid sample').toBeGreaterThan(0)
      // let start-up work settle (connections, first timers) before measuring
      await h.flush()
      setupEnd = h.trace.events.length
      return live
    }

    function open (h: SimHarness, sample: ComplianceSample, options: { timeoutMs?: number, deadline?: number, signal?: AbortSignal }): Opened {
      const now = h.clock.now()
      const deadline = options.deadline ?? now + (options.timeoutMs ?? 30_000)
      if (sample.port === 'stream') {
        const s = h.stream(sample.command, options)
        return { id: s.id, sample, deadline, outcome: () => s.outcome, done: s.done }
      }
      const t = h.ask(sample.command, options)
      return { id: t.id, sample, deadline, outcome: () => t.outcome, done: t.promise }
    }

    function settledOnce (h: SimHarness, o: Opened): { t: number, ok: boolean, kind?: string } {
      const settles = h.trace.settles(o.id)
      expect(settles.length, `${o.sample.command.type} (${o.id}) settled ${settles.length} times`).toBe(1)
      const s = settles[0] as (typeof settles)[number]
      return s.ev.ok ? { t: s.t, ok: true } : { t: s.t, ok: false, kind: s.ev.failure.kind }
    }

    function errorName (o: Outcome | undefined): string | undefined {
      return o !== undefined && !o.ok ? o.error.name : undefined
    }

    it('the system is wired to the suite: it writes to env.trace and runs on env.clock', async () => {
      const { h, subject } = await setup('prompt')
      const o = open(h, subject.valid[0] as ComplianceSample, { timeoutMs: promptTimeoutMs })
      expect(o.id).toBeTypeOf('string')
      expect(h.clock.pendingTimers, 'the ask deadline must be a timer on env.clock').toBeGreaterThan(0)
      await h.run()
      await o.done
    })

    it('every ask settles exactly once, by its deadline (prompt)', async () => {
      const { h, subject } = await setup('prompt')
      const opened: Opened[] = []
      // each sample three times, all in flight together
      for (let rep = 0; rep < 3; rep++) {
        for (const sample of subject.valid) opened.push(open(h, sample, { timeoutMs: promptTimeoutMs }))
      }
      await h.run()
      await Promise.all(opened.map(async o => o.done))
      for (const o of opened) {
        const s = settledOnce(h, o)
        expect(s.t).toBeLessThanOrEqual(o.deadline)
        expect(s.kind, `${o.sample.command.type} must not time out in prompt mode`).not.toBe('timeout')
        expect(o.outcome()?.at).toBeLessThanOrEqual(o.deadline)
      }
      expect(h.system.openPorts).toBe(0)
    })

    it('invalid commands are rejected with InvalidCommandError before delivery', async () => {
      const { h, subject } = await setup('prompt')
      const cases: Array<{ sample: ComplianceSample, field: string }> = [
        ...subject.invalid.map(s => ({ sample: s, field: s.field })),
        { sample: { command: { type: `${subject.valid[0]?.command.type ?? 'x'}.no-such-command` } }, field: 'type' },
        // the wrong port kind for each valid sample
        ...subject.valid.map(s => ({ sample: { command: s.command, port: s.port === 'stream' ? 'once' as const : 'stream' as const }, field: 'type' }))
      ]
      const rejected: string[] = []
      for (const c of cases) {
        const o = open(h, c.sample, { timeoutMs: promptTimeoutMs })
        rejected.push(o.id)
        // synchronously: the rejection is on the trace before anything ran
        const settles = h.trace.settles(o.id)
        expect(settles.length, `${c.sample.command.type} must be rejected at once`).toBe(1)
        expect(settles[0]?.ev).toMatchObject({ ok: false, failure: { kind: 'invalid', field: c.field } })
        const out = await o.done
        expect(errorName(out)).toBe('InvalidCommandError')
        if (!out.ok) expect((out.error as Error & { field?: string }).field).toBe(c.field)
      }
      await h.run()
      // none of them was delivered, nor anything else since start-up
      for (const id of rejected) expect(h.trace.deliveriesOf(id), id).toBe(0)
      expect(h.trace.events.slice(setupEnd).filter(e => e.dir === 'out' && e.ev.type === 'deliver' && e.ev.kind === 'command').length).toBe(0)
      expect(h.system.openPorts).toBe(0)
    })

    it('an ask aborted before delivery is an AbortError and is never delivered', async () => {
      const { h, subject } = await setup('prompt')
      for (const sample of subject.valid) {
        const ac = new AbortController()
        const o = open(h, sample, { timeoutMs: promptTimeoutMs, signal: ac.signal })
        ac.abort()
        await h.run()
        await o.done
        expect(errorName(o.outcome())).toBe('AbortError')
        settledOnce(h, o)
        expect(h.trace.deliveriesOf(o.id)).toBe(0)
      }
    })

    for (const mode of quiet) {
      it(`deadlines are honoured when the actor does not answer (${mode}): TimeoutError exactly at the deadline, then nothing`, async () => {
        const { h, subject } = await setup(mode)
        const opened = subject.valid.map(sample => open(h, sample, { timeoutMs: TIMEOUT_MS }))
        await h.run()
        await Promise.all(opened.map(async o => o.done))
        for (const o of opened) {
          const s = settledOnce(h, o)
          expect(s).toEqual({ t: o.deadline, ok: false, kind: 'timeout' })
          expect(errorName(o.outcome())).toBe('TimeoutError')
          expect(o.outcome()?.at).toBe(o.deadline)
          // the actor was told
          expect(h.trace.events.some(e => e.dir === 'out' && e.ev.type === 'deliver' && e.ev.kind === 'cancel' && e.ev.id === o.id)).toBe(true)
        }
        expect(h.system.openPorts).toBe(0)
      })

      it(`an abort while the actor works (${mode}) is an AbortError at the abort, nothing after it`, async () => {
        const { h, subject } = await setup(mode)
        const acs = subject.valid.map(() => new AbortController())
        const opened = subject.valid.map((sample, i) => open(h, sample, { timeoutMs: TIMEOUT_MS, signal: acs[i]?.signal }))
        await h.flush()
        h.clock.advanceTo(h.clock.now() + 100)
        const abortedAt = h.clock.now()
        for (const ac of acs) ac.abort()
        await h.run()
        await Promise.all(opened.map(async o => o.done))
        for (const o of opened) {
          expect(settledOnce(h, o)).toEqual({ t: abortedAt, ok: false, kind: 'aborted' })
          expect(errorName(o.outcome())).toBe('AbortError')
        }
      })

      it(`no reply after stop (${mode}): open asks reject StoppedError, later asks too, late answers go to dead letters`, async () => {
        const { h, subject } = await setup(mode)
        const opened = subject.valid.map(sample => open(h, sample, { timeoutMs: TIMEOUT_MS }))
        await h.flush()
        const stoppedAt = h.clock.now()
        await h.system.stop()
        for (const o of opened) {
          await o.done
          expect(settledOnce(h, o)).toEqual({ t: stoppedAt, ok: false, kind: 'stopped' })
          expect(errorName(o.outcome())).toBe('StoppedError')
        }
        const dead = h.system.deadLetters.total
        const settlesBefore = h.trace.settleCounts()
        await h.run()
        await h.flush()
        // nothing reached a caller after stop: whatever the actor still sent, if anything
        // (its timers may have been cleared at stop), was a dead letter
        expect(h.trace.settleCounts()).toEqual(settlesBefore)
        expect(h.system.deadLetters.total).toBeGreaterThanOrEqual(dead)
        expect(h.system.openPorts).toBe(0)
        for (const sample of subject.valid) {
          const later = open(h, sample, { timeoutMs: TIMEOUT_MS })
          const out = await later.done
          expect(errorName(out)).toBe('StoppedError')
          settledOnce(h, later)
        }
      })
    }

    if (modes.includes('slow')) {
      it('a late answer after the deadline goes to dead letters; the caller keeps its TimeoutError', async () => {
        const { h, subject } = await setup('slow')
        const opened = subject.valid.map(sample => open(h, sample, { timeoutMs: TIMEOUT_MS }))
        const dead = h.system.deadLetters.total
        await h.run()
        await Promise.all(opened.map(async o => o.done))
        expect(h.clock.now()).toBeGreaterThanOrEqual(LATE_MS)
        for (const o of opened) {
          expect(settledOnce(h, o).kind).toBe('timeout')
          expect(errorName(o.outcome())).toBe('TimeoutError')
        }
        expect(h.system.deadLetters.total).toBeGreaterThan(dead)
      })
    }

    it(`a seeded mix of asks with random deadlines and aborts settles each exactly once, by its deadline (${seeds.length} seeds)`, async () => {
      for (const seed of seeds) {
        const mode = modes[seed % modes.length] as ComplianceMode
        const { h, subject } = await setup(mode, seed)
        const rng = createRng(seed)
        const opened: Array<Opened & { abortAt?: number }> = []
        for (let i = 0; i < 30; i++) {
          const sample = subject.valid[rng.int(subject.valid.length)] as ComplianceSample
          const timeoutMs = mode === 'prompt' ? promptTimeoutMs : 1 + rng.int(2 * LATE_MS)
          const ac = rng.int(4) === 0 ? new AbortController() : undefined
          const o: Opened & { abortAt?: number } = open(h, sample, { timeoutMs, ...(ac === undefined ? {} : { signal: ac.signal }) })
          if (ac !== undefined) {
            const abortAt = h.clock.now() + rng.int(3000)
            o.abortAt = abortAt
            h.clock.setTimer(abortAt, () => { ac.abort() })
          }
          opened.push(o)
          if (rng.int(3) === 0) h.clock.advance(rng.int(500))
          if (rng.int(3) === 0) await h.flush()
        }
        await h.run()
        await Promise.all(opened.map(async o => o.done))
        for (const o of opened) {
          const s = settledOnce(h, o)
          const limit = Math.min(o.deadline, o.abortAt ?? Infinity)
          expect(s.t, `seed ${seed}: ${o.id} settled at ${s.t}, after ${limit}`).toBeLessThanOrEqual(limit)
          if (s.kind === 'aborted') expect(s.t, `seed ${seed}`).toBe(o.abortAt)
          if (s.kind === 'timeout') expect(s.t, `seed ${seed}`).toBe(o.deadline)
        }
        expect(h.system.openPorts, `seed ${seed}`).toBe(0)
        await h.system.stop()
        await subject.cleanup?.()
        live = undefined
      }
    })
  })
}
