/**
 * The consumer side of a streamed reply for host code: an AsyncIterable with a
 * bounded buffer. If the consumer falls `capacity` items behind, `push`
 * returns false and the system fails the stream with `overloaded` (never an
 * unbounded queue, never a silent drop). Breaking out of `for await` cancels
 * the query.
 */
import { failureToError } from '../../messages/errors.js'
import type { Settled } from './actor.js'

export class HostStream<T> implements AsyncIterable<T> {
  private readonly buffer: T[] = []
  private head = 0
  private result: Settled<unknown> | undefined
  private waiter: ((r: IteratorResult<T>) => void) | undefined
  private waiterReject: ((e: Error) => void) | undefined
  private iterated = false
  /** set by the system once the port is open */
  onCancel: (() => void) | undefined

  constructor (readonly capacity: number) {}

  push (item: T): boolean {
    if (this.result !== undefined) return false
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      this.waiterReject = undefined
      w({ value: item, done: false })
      return true
    }
    if (this.buffer.length - this.head >= this.capacity) return false
    this.buffer.push(item)
    return true
  }

  finish (result: Settled<unknown>): void {
    if (this.result !== undefined) return
    this.result = result
    this.onCancel = undefined
    if (this.waiter !== undefined) {
      const w = this.waiter
      const rej = this.waiterReject
      this.waiter = undefined
      this.waiterReject = undefined
      if (result.ok) w({ value: undefined, done: true })
      else rej?.(failureToError(result.failure))
    }
  }

  [Symbol.asyncIterator] (): AsyncIterator<T> {
    if (this.iterated) throw new Error('a swarmbus stream can be iterated once')
    this.iterated = true
    return {
      next: async () => {
        if (this.head < this.buffer.length) {
          const value = this.buffer[this.head] as T
          this.buffer[this.head] = undefined as T
          this.head++
          if (this.head > 1024 && this.head * 2 > this.buffer.length) {
            this.buffer.splice(0, this.head)
            this.head = 0
          }
          return { value, done: false }
        }
        const r = this.result
        if (r !== undefined) {
          if (r.ok) return { value: undefined, done: true }
          throw failureToError(r.failure)
        }
        return await new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiter = resolve
          this.waiterReject = reject
        })
      },
      return: async () => {
        if (this.result === undefined) this.onCancel?.()
        this.buffer.length = 0
        this.head = 0
        return { value: undefined, done: true }
      }
    }
  }
}
