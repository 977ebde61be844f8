/**
 * A trace written to a file, honouring the stream's backpressure with a
 * bounded buffer. Lines go straight to the stream while it takes them; once
 * `write()` says the stream is full, lines wait in our buffer until it
 * drains. If the buffer would pass its limit, the recording is cut there:
 * the recorder writes a `truncated` marker with reason 'buffer-full' (kept
 * even past the limit: it is one short line), and nothing after it is
 * recorded, so a replay compares up to the cut. A stream error cuts the
 * recording the same way ('write-failed'). Never a line lost silently.
 */
import { createWriteStream } from 'node:fs'
import { TraceRecorder } from '../actors/runtime/trace-recorder.js'
import type { WriteStream } from 'node:fs'
import type { TruncateReason } from '../actors/runtime/trace-events.js'

/** the default bound of lines waiting for the stream (bytes) */
export const DEFAULT_TRACE_BUFFER_BYTES = 32 * 1024 * 1024

export interface TraceFileStatus {
  file: string
  /** events recorded (the marker included) */
  events: number
  /** bytes waiting for the stream now, and the most ever */
  bufferedBytes: number
  maxBufferedBytes: number
  /** the recording was cut short, and why */
  truncated: TruncateReason | undefined
  /** the stream's error, after 'write-failed' */
  error: string | undefined
}

export interface TraceFile {
  readonly recorder: TraceRecorder
  status(): TraceFileStatus
  /** flush what is buffered and close the file */
  close(): Promise<void>
}

export interface TraceFileOptions {
  path: string
  seed: number
  startedAt: number
  wallAt: number
  config: Record<string, unknown>
  /** bound of lines waiting for the stream, bytes (default 32 MiB) */
  maxBufferBytes?: number
  /** the clock the marker of a cut is stamped with */
  now: () => number
}

/** Open the file (0600: a trace holds the node's records and requests); an unwritable path rejects. */
export async function openTraceFile (options: TraceFileOptions): Promise<TraceFile> {
  const limit = options.maxBufferBytes ?? DEFAULT_TRACE_BUFFER_BYTES
  if (!(Number.isSafeInteger(limit) && limit > 0)) throw new RangeError('trace buffer must be a positive number of bytes')
  const out: WriteStream = createWriteStream(options.path, { flags: 'w', mode: 0o600 })
  await new Promise<void>((resolve, reject) => {
    out.once('open', () => { resolve() })
    out.once('error', err => { reject(new Error(`cannot write the trace to ${options.path}: ${err.message}`, { cause: err })) })
  })
  const waiting: string[] = []
  let buffered = 0
  let peak = 0
  let blocked = false
  let error: Error | undefined
  // assigned once below; the closures before it read it (the recorder's constructor already writes the header)
  // eslint-disable-next-line prefer-const
  let recorder: TraceRecorder | undefined

  const cut = (reason: TruncateReason): void => { recorder?.truncate(reason, options.now()) }
  out.on('error', err => {
    error ??= err
    waiting.length = 0
    buffered = 0
    cut('write-failed')
  })
  out.on('drain', () => {
    blocked = false
    while (waiting.length > 0 && !blocked) {
      const line = waiting.shift() as string
      buffered -= line.length
      blocked = !out.write(line)
    }
  })

  /** false: the line does not fit (the recorder then cuts the recording, its marker in this line's place) */
  const write = (line: string): boolean => {
    if (error !== undefined) return true // cut already ('write-failed'); the recorder takes nothing more
    const text = line + '\n'
    if (!blocked && waiting.length === 0) {
      blocked = !out.write(text)
      return true
    }
    // the cut's own marker is kept past the limit: it is one short line
    if (recorder?.truncated !== true && buffered + text.length > limit) return false
    waiting.push(text)
    buffered += text.length
    if (buffered > peak) peak = buffered
    return true
  }

  recorder = new TraceRecorder({ seed: options.seed, startedAt: options.startedAt, wallAt: options.wallAt, config: options.config, write })
  const rec = recorder
  let closing: Promise<void> | undefined
  return {
    recorder: rec,
    status: () => ({
      file: options.path,
      events: rec.recorded,
      bufferedBytes: buffered,
      maxBufferedBytes: peak,
      truncated: rec.truncatedBy,
      error: error?.message
    }),
    close: async () => {
      closing ??= (async () => {
        while (waiting.length > 0 && error === undefined) {
          await new Promise<void>(resolve => {
            const done = (): void => { out.off('drain', done); out.off('error', done); resolve() }
            out.once('drain', done)
            out.once('error', done)
          })
        }
        await new Promise<void>(resolve => { out.end(resolve) })
      })()
      await closing
    }
  }
}
