/**
 * The resolve machine's `reading` state on its own (no actor, no clock):
 * the repo's records before the network — the within-TTL answer, the repo
 * as one more candidate, what nocache and a stream's first hop change, and
 * how equal records report their source (resolve-select.ts).
 */
import { describe, expect, it } from 'vitest'
import { bytesOf, driveResolve, resultOf, fields, keyOf, T0, testName } from './machine-helpers.js'

const A = testName(1)
const CID = 'bafkqaddwgevxmmraojswg33smq'

const result = resultOf

describe('resolve machine: the repo before the network', () => {
  const MIN = 60_000

  it('a stored record within its TTL answers at once, source local, without a query', () => {
    const d = driveResolve({ name: A }, new Map(), { repo: 'manual' })
    d.stored('mine', T0 - 2 * MIN) // TTL 5 min: 3 min left
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}`, 4))
    expect(d.states).toEqual(['lookup', 'reading', 'selecting', 'hopResolved', 'done'])
    expect(d.count('startQuery')).toBe(0)
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'local' })
  })

  it('a stored record past its TTL is only a candidate: the network is asked and a better record wins', () => {
    const d = driveResolve({ name: A }, new Map(), { repo: 'manual' })
    d.stored('old', T0 - 6 * MIN)
    d.repoEnd(T0)
    d.verified('old', fields(`/ipfs/${CID}/old`, 4))
    expect(d.state()).toBe('querying')
    d.value('new', 'p1')
    d.verified('new', fields(`/ipfs/${CID}/new`, 5))
    d.end()
    expect(result(d)).toMatchObject({ sequence: 5n, value: `/ipfs/${CID}/new`, source: 'dht' })
  })

  it('a stored record past its TTL still answers when the network has only older ones (and those peers are stale)', () => {
    const d = driveResolve({ name: A }, new Map(), { repo: 'manual' })
    d.stored('mine', T0 - 6 * MIN)
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4))
    d.value('older', 'p1')
    d.verified('older', fields(`/ipfs/${CID}/older`, 3))
    d.end()
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'local' })
    expect(d.effects.find(e => e.effect === 'keep')).toMatchObject({ hop: { stale: ['p1'] } })
  })

  it('the repo\'s copy does not count toward the quorum; equal records from the repo and a peer report dht', () => {
    const d = driveResolve({ name: A, quorum: 1 }, new Map(), { repo: 'manual' })
    d.stored('same', T0 - 10 * MIN)
    d.repoEnd(T0)
    d.verified('same', fields(`/ipfs/${CID}`, 4))
    expect(d.state(), 'the repo is not a quorum of one').toBe('querying')
    d.value('same', 'p1')
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'dht' })
  })

  it('equal records with other bytes: the reported source is dht over router over local', () => {
    const d = driveResolve({ name: A, routers: true }, new Map(), { repo: 'manual' })
    d.stored('local-copy', T0 - 10 * MIN)
    d.repoEnd(T0)
    d.verified('local-copy', fields(`/ipfs/${CID}`, 4))
    d.actor.send({ type: 'ROUTER_VALUE', key: keyOf('router-copy'), value: bytesOf('router-copy'), from: 'router:http://r' })
    d.verified('router-copy', fields(`/ipfs/${CID}`, 4))
    d.value('peer-copy', 'p1')
    d.verified('peer-copy', fields(`/ipfs/${CID}`, 4))
    d.end()
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'dht' })
    const e = driveResolve({ name: A, routers: true }, new Map(), { repo: 'manual' })
    e.stored('local-copy', T0 - 10 * MIN)
    e.repoEnd(T0)
    e.verified('local-copy', fields(`/ipfs/${CID}`, 4))
    e.actor.send({ type: 'ROUTER_VALUE', key: keyOf('router-copy'), value: bytesOf('router-copy'), from: 'router:http://r' })
    e.verified('router-copy', fields(`/ipfs/${CID}`, 4))
    e.end()
    expect(result(e)).toMatchObject({ source: 'router' })
  })

  it('nocache skips the within-TTL answer: the network is asked, and the repo competes', () => {
    const d = driveResolve({ name: A, nocache: true }, new Map(), { repo: 'manual' })
    // the repo cannot answer alone: the query starts beside the repo read, not after it
    expect(d.effects.map(e => e.effect)).toEqual(['readRepo', 'startQuery'])
    d.stored('mine', T0 - MIN)
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4))
    expect(d.state()).toBe('querying')
    d.end()
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'local' })
  })

  // found by the IPNS simulation (seed 285): with nocache and quorum 1 the node's own DHT copy (older) was
  // the answer before the repo's newer record was read, and then cached
  it('with the query beside the repo read, the quorum waits for the repo\'s records and their verdicts', () => {
    const d = driveResolve({ name: A, nocache: true, quorum: 1 }, new Map(), { repo: 'manual' })
    d.value('old', 'self')
    d.verified('old', fields(`/ipfs/${CID}/old`, 0))
    expect(d.state(), 'the repo has not answered').toBe('querying')
    d.stored('mine', T0 - 10 * MIN)
    d.repoEnd(T0)
    expect(d.state(), 'its record is being verified').toBe('querying')
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 1))
    expect(result(d)).toMatchObject({ sequence: 1n, source: 'local' })
  })

  it('with the query beside the repo read, a query that ends first still waits for the repo', () => {
    const d = driveResolve({ name: A, nocache: true }, new Map(), { repo: 'manual' })
    d.end()
    expect(d.state()).toBe('querying')
    d.stored('mine', T0 - MIN)
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4))
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'local' })
  })

  it('a stream (live) asks the network for its first hop even when the repo is fresh', () => {
    const d = driveResolve({ name: A, live: true }, new Map(), { repo: 'manual' })
    d.stored('mine', T0 - MIN)
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4))
    expect(d.state()).toBe('querying')
  })

  it('a TTL of 0 never answers from the repo alone', () => {
    const d = driveResolve({ name: A }, new Map(), { repo: 'manual' })
    d.stored('mine', T0)
    d.repoEnd(T0)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4, { ttlMs: 0 }))
    expect(d.state()).toBe('querying')
  })

  it('the soft deadline while reading answers with the best verified so far', () => {
    const d = driveResolve({ name: A }, new Map(), { repo: 'manual' })
    d.stored('mine', T0 - 10 * MIN)
    d.verified('mine', fields(`/ipfs/${CID}/mine`, 4))
    d.soft()
    expect(result(d)).toMatchObject({ sequence: 4n, source: 'local' })
  })
})
