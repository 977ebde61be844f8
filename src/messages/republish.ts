/**
 * Protocol of the republisher: every name this node published is signed again
 * (same value, lifetime and TTL, next sequence) before its record runs out,
 * on a jittered interval and on demand. The records the store keeps as
 * 'published' are the schedule; see docs/republish.md.
 */

export interface IpnsRepublish {
  type: 'ipns.republish'
  /** republish every published name, not only those due (default false) */
  force?: boolean
}

export interface RepublishedName {
  /** IPNS name, base36 (k51…) */
  name: string
  /** the new record's sequence */
  sequence: bigint
  /** DHT peers that stored it */
  peers: number
}

/**
 * Why a name could not be republished: 'key-missing' (no key signs for the
 * name any more), 'no-value' (the stored entry has no readable value),
 * 'no-peers' (the DHT put reached fewer peers than asked for), 'store' (the
 * stored entry could not be read), or the failure kind of ipns.publish
 * ('timeout', 'failed', 'overloaded', 'stopped', …).
 */
export type RepublishFailureReason = string

export interface RepublishFailure {
  name: string
  reason: RepublishFailureReason
  message: string
}

export interface RepublishReply {
  /** wall-clock dates (ms since the epoch) the run started and ended */
  startedAt: number
  finishedAt: number
  republished: RepublishedName[]
  /** names looked at and not due (their record is far enough from its EOL) */
  skipped: number
  /** names that failed this run; each is tried again on the next run */
  failed: RepublishFailure[]
  /** wall-clock date (ms since the epoch) of the next scheduled check */
  next: number
}

export interface RepublishRunSummary {
  /** 'timer', 'command', 'command-force' */
  trigger: string
  startedAt: number
  finishedAt: number
  republished: number
  skipped: number
  failed: number
}

/** The `republish` section of swarm.status (the republisher's status detail). */
export interface RepublishStatus {
  /** false until the stored state is loaded after a start */
  ready: boolean
  /** a run is going on now */
  running: boolean
  /** republishes in flight now (at most `concurrency`) */
  inFlight: number
  concurrency: number
  intervalMs: number
  thresholdMs: number
  /** wall-clock date (ms since the epoch) of the next scheduled check, if one is set */
  nextRunAt: number | null
  lastRun: RepublishRunSummary | null
  /** runs finished since this actor started */
  runs: number
  /** published names seen by the last scan */
  tracked: number
  /** names that failed last time they were tried and will be tried again */
  retrying: number
  /** totals since this actor started */
  republished: number
  skipped: number
  failed: number
  /** failures since this actor started, by reason */
  failures: Record<string, number>
}

declare module './commands.js' {
  interface CommandMap {
    /** republish now: the names due (or all with force), answered when the run ends */
    'ipns.republish': { command: IpnsRepublish, reply: RepublishReply }
  }
}
