/**
 * Removes expired DHT value records from the datastore on a schedule.
 *
 * kad-dht 16.4 keeps every record a peer PUTs under `/dht/record/…` and
 * checks its age only when someone asks for that very key (GET_VALUE
 * deletes a record received more than 48 h ago instead of serving it): a
 * record nobody asks for again stays for ever, and a long-running server's
 * store only grows. (Provider records are kad-dht's own business: its
 * reprovider deletes expired ones and re-provides ours, on the profile's
 * `dht.reprovide` schedule.)
 *
 * Every `intervalMs` of the port's clock, this sweep reads the records (at
 * most `maxPerSweep` of them per run; the rest wait for the next) and
 * deletes each received more than `maxAgeMs` ago by the wall clock, or that
 * cannot be decoded. One sweep at a time; a failed sweep is counted and
 * kept in stats(), and the next runs on schedule.
 */
import { Libp2pRecord } from '@libp2p/record'
import { DHT_RECORD_PREFIX } from './ipns-dht.js'
import type { Clock, TimerId } from '../../runtime/clock.js'
import type { Datastore } from 'interface-datastore'
import type { RecordSweepSettings } from './profiles.js'
import type { RecordSweepStats } from '../../../messages/swarm.js'

export type { RecordSweepSettings } from './profiles.js'
export type { RecordSweepStats } from '../../../messages/swarm.js'

const DEFAULT_MAX_PER_SWEEP = 100_000

export class RecordSweeper {
  private timer: TimerId | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private readonly counts: RecordSweepStats = { runs: 0, removed: 0, failed: 0 }
  private readonly maxPerSweep: number

  constructor (private readonly datastore: Datastore, private readonly clock: Clock, private readonly settings: RecordSweepSettings) {
    if (!(settings.intervalMs > 0) || !(settings.maxAgeMs > 0)) throw new RangeError('record sweep: intervalMs and maxAgeMs must be positive')
    this.maxPerSweep = settings.maxPerSweep ?? DEFAULT_MAX_PER_SWEEP
  }

  start (): void {
    this.schedule()
  }

  stats (): RecordSweepStats {
    return { ...this.counts }
  }

  /** one sweep now (tests; the schedule runs the same); resolves with the records removed */
  async sweep (): Promise<number> {
    const now = this.clock.wall()
    let seen = 0
    let removed = 0
    for await (const entry of this.datastore.query({ prefix: DHT_RECORD_PREFIX })) {
      if (this.stopped || ++seen > this.maxPerSweep) break
      let received: number | undefined
      try {
        received = Libp2pRecord.deserialize(entry.value).timeReceived?.getTime()
      } catch {
        // not a record: nothing kad-dht could ever serve
        received = undefined
      }
      if (received === undefined || Number.isNaN(received) || now - received > this.settings.maxAgeMs) {
        await this.datastore.delete(entry.key)
        removed++
      }
    }
    this.counts.runs++
    this.counts.removed += removed
    this.counts.lastRunAt = this.clock.wall()
    return removed
  }

  /** stops the schedule and waits for a sweep in progress */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) this.clock.clearTimer(this.timer)
    this.timer = undefined
    await this.running
  }

  private schedule (): void {
    if (this.stopped) return
    this.timer = this.clock.setTimer(this.clock.now() + this.settings.intervalMs, () => {
      this.timer = undefined
      this.running ??= this.sweep().then(() => undefined, (err: unknown) => {
        this.counts.failed++
        this.counts.lastError = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : String(err).slice(0, 300)
      }).finally(() => {
        this.running = undefined
        this.schedule()
      })
    })
  }
}
