/** A fixed-capacity FIFO ring buffer. push returns false when full. */
export class Ring<T> {
  private readonly buf: Array<T | undefined>
  private head = 0
  private count = 0

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be a positive integer')
    this.buf = new Array<T | undefined>(capacity)
  }

  get size (): number {
    return this.count
  }

  push (item: T): boolean {
    if (this.count === this.capacity) return false
    this.buf[(this.head + this.count) % this.capacity] = item
    this.count++
    return true
  }

  shift (): T | undefined {
    if (this.count === 0) return undefined
    const item = this.buf[this.head]
    this.buf[this.head] = undefined
    this.head = (this.head + 1) % this.capacity
    this.count--
    return item
  }

  peek (): T | undefined {
    return this.count === 0 ? undefined : this.buf[this.head]
  }

  /** Remove and return everything, oldest first. */
  drain (): T[] {
    const out: T[] = []
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item)
    return out
  }
}
