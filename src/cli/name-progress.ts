/**
 * Progress of a `swarmbus name` (or `dht`) command on stderr while its long
 * steps run: joining (connections, peers in the routing table), then the
 * operation (DHT answers against the quorum, HTTP routers asked and
 * answered), built from the node's progress events and swarm.status.
 *
 * Three modes: 'tty' rewrites one status line in place (stderr is a
 * terminal, the default), 'lines' prints each changed status as a line, at
 * most every LINE_EVERY_MS and once more at the end (`--progress`, for logs
 * and tests), 'off' prints nothing (`--json`, `--verbose`, or stderr is not a
 * terminal). stdout is never touched.
 */
import type { ProgressEvent } from '../index.js'

export type ProgressMode = 'tty' | 'lines' | 'off'

/** 'lines' mode: a changed status is printed at most this often */
const LINE_EVERY_MS = 200
/** 'tty' mode: the status line is redrawn this often */
const TICK_MS = 500
/** endpoints and peers remembered at most (one command asks a handful) */
const MAX_TRACKED = 256

/** what the routers did during the operation, by endpoint */
export interface RouterSeen {
  endpoint: string
  /** 'record' with the sequence it gave, or the failure's kind */
  outcome: string
  sequence?: string
  error?: string
}

type Phase = { kind: 'start', what: string } | { kind: 'join', label: string, connections: number, peers: number } | { kind: 'op', verb: string, quorum?: number }

export class CommandProgress {
  private phase: Phase = { kind: 'start', what: 'starting the node' }
  private phaseAt = performance.now()
  private dhtAnswers = 0
  private items: number | undefined
  private readonly asked = new Set<string>()
  private readonly answered = new Map<string, RouterSeen>()
  private lastText = ''
  private lastLineAt = 0
  private lastStep = ''
  private pending: string | undefined
  private off: (() => void) | undefined

  /** 'tty': redraws the status line so its clock moves while nothing happens (a join waiting on dials) */
  private ticker: NodeJS.Timeout | undefined

  constructor (readonly mode: ProgressMode, private readonly out: NodeJS.WritableStream = process.stderr) {
    if (mode === 'tty') this.ticker = setInterval(() => { if (this.lastText !== '') this.render() }, TICK_MS).unref()
  }

  /** Follows a node's progress events (routers:*, the DHT answers of an ipns resolve) until finish(). */
  attach (node: { on: (event: 'progress', fn: (e: ProgressEvent) => void) => () => void }): void {
    this.off?.()
    this.off = node.on('progress', e => { this.onEvent(e) })
  }

  /** the routers' answers seen so far, by endpoint in order of first answer; then those asked that have not answered ('pending') */
  routers (): RouterSeen[] {
    return [...this.answered.values(), ...[...this.asked].filter(e => !this.answered.has(e)).map(endpoint => ({ endpoint, outcome: 'pending' }))]
  }

  joining (label: string, connections: number, peers: number): void {
    if (this.phase.kind !== 'join') this.phaseAt = performance.now()
    this.phase = { kind: 'join', label, connections, peers }
    this.render()
  }

  /** the operation starts: 'resolving k51…' with the quorum it waits for, 'publishing …' */
  operation (verb: string, quorum?: number): void {
    this.phase = { kind: 'op', verb, ...(quorum !== undefined ? { quorum } : {}) }
    this.phaseAt = performance.now()
    this.render()
  }

  /** items the operation has found so far (providers, peers) */
  found (n: number): void {
    this.items = n
    this.render()
  }

  /** A line of its own on stderr (whatever the mode): the status line, if any, is cleared first and redrawn at the next change. */
  note (line: string): void {
    if (this.mode === 'tty' && this.lastText !== '') this.out.write('\r\x1b[K')
    this.lastText = ''
    this.out.write(`${line}\n`)
  }

  /** Detaches; 'tty' clears its line, 'lines' prints the last status if it was held back. */
  finish (): void {
    clearInterval(this.ticker)
    this.ticker = undefined
    this.off?.()
    this.off = undefined
    if (this.mode === 'tty' && this.lastText !== '') this.out.write('\r\x1b[K')
    if (this.mode === 'lines' && this.pending !== undefined) this.out.write(`${this.pending}\n`)
    this.pending = undefined
    this.lastText = ''
  }

  private onEvent (e: ProgressEvent): void {
    const d = e.detail ?? {}
    const endpoint = typeof d.endpoint === 'string' ? d.endpoint : undefined
    if (e.type === 'routers:request' && endpoint !== undefined && this.asked.size < MAX_TRACKED) {
      this.asked.add(endpoint)
    } else if (e.type === 'routers:answer' && endpoint !== undefined && this.answered.size < MAX_TRACKED) {
      const outcome = typeof d.outcome === 'string' ? d.outcome : 'answered'
      this.answered.set(endpoint, {
        endpoint,
        outcome,
        ...(typeof d.sequence === 'string' ? { sequence: d.sequence } : {}),
        ...(typeof d.message === 'string' ? { error: d.message } : {})
      })
    } else if (e.type === 'ipns:publish:routers' && Array.isArray(d.outcomes)) {
      for (const o of d.outcomes as Array<{ endpoint?: unknown, ok?: unknown, error?: unknown, kind?: unknown }>) {
        if (typeof o.endpoint !== 'string' || this.answered.size >= MAX_TRACKED) continue
        this.answered.set(o.endpoint, { endpoint: o.endpoint, outcome: o.ok === true ? 'stored' : String(o.kind ?? 'failed'), ...(typeof o.error === 'string' ? { error: o.error } : {}) })
      }
    } else if (e.type.startsWith('ipns:resolve:') && d.event === 'VALUE') {
      this.dhtAnswers++
    } else {
      return
    }
    this.render()
  }

  private text (): string {
    const p = this.phase
    const since = `${((performance.now() - this.phaseAt) / 1000).toFixed(1)}s`
    switch (p.kind) {
      case 'start':
        return `${p.what}…`
      case 'join':
        return `joining ${p.label}: ${p.connections} connection${p.connections === 1 ? '' : 's'}, ${p.peers} peer${p.peers === 1 ? '' : 's'} in the routing table (${since})`
      case 'op': {
        const counts: string[] = []
        if (p.quorum !== undefined) counts.push(`DHT answers ${this.dhtAnswers}/${p.quorum}`)
        if (this.items !== undefined) counts.push(`${this.items} found`)
        if (this.asked.size > 0) counts.push(`routers answered ${this.answered.size}/${this.asked.size}`)
        return `${p.verb}${counts.length > 0 ? `: ${counts.join(', ')}` : '…'} (${since})`
      }
    }
  }

  private render (): void {
    if (this.mode === 'off') return
    const text = this.text()
    if (this.mode === 'tty') {
      if (text === this.lastText) return
      this.lastText = text
      const cols = (this.out as { columns?: number }).columns ?? 100
      this.out.write(`\r\x1b[K${text.slice(0, Math.max(20, cols - 1))}`)
      return
    }
    // 'lines': the time in parentheses changes every render; compare without it
    const key = text.replace(/ \([\d.]+s\)$/, '')
    if (key === this.lastText) return
    const now = performance.now()
    // a new step prints at once; changes within a step at most every LINE_EVERY_MS
    const step = `${this.phase.kind}:${this.phase.kind === 'join' ? this.phase.label : this.phase.kind === 'op' ? this.phase.verb : ''}`
    if (step === this.lastStep && now - this.lastLineAt < LINE_EVERY_MS) {
      this.pending = text
      return
    }
    this.lastText = key
    this.lastStep = step
    this.lastLineAt = now
    this.pending = undefined
    this.out.write(`${text}\n`)
  }
}
