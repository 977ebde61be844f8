/** Issues query ids in order: deterministic for replay, unique within a system. */
export interface IdSource {
  next(): string
}

export function createIdSource (prefix = 'q'): IdSource {
  let n = 0
  return { next: () => `${prefix}${(++n).toString(36)}` }
}
