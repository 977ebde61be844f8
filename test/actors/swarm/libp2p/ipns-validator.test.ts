import { describe, expect, it } from 'vitest'
import { createRecord } from '../../../../src/records/create.js'
import { generateEd25519Signer } from '../../../../src/records/ed25519.js'
import { ipnsValidator, RejectionCounter } from '../../../../src/actors/swarm/libp2p/ipns-dht.js'
import { createInlineVerifier } from '../../../../src/workers/verify-pool.js'

describe('the ipns DHT validator', () => {
  it('accepts a valid record and counts what it refuses, by rule', async () => {
    const counter = new RejectionCounter()
    const now = 1_800_000_000_000
    const validate = ipnsValidator(createInlineVerifier(), () => now, counter)
    const signer = generateEd25519Signer()
    const good = await createRecord(signer, '/ipfs/bafkqaaa', { now })
    const key = good.name.toRoutingKey()
    await expect(validate(key, good.bytes)).resolves.toBeUndefined()

    const expired = await createRecord(signer, '/ipfs/bafkqaaa', { now: now - 72 * 3600_000 })
    await expect(validate(key, expired.bytes)).rejects.toMatchObject({ name: 'InvalidRecordError', code: 'expired' })

    const forged = good.bytes.slice()
    const at = forged.findIndex((b, i) => b === 0x42 && forged[i + 1] === 64)
    forged[at + 5] = (forged[at + 5] ?? 0) ^ 1
    await expect(validate(key, forged)).rejects.toMatchObject({ name: 'InvalidRecordError' })

    const other = await createRecord(generateEd25519Signer(), '/ipfs/bafkqaaa', { now })
    await expect(validate(key, other.bytes)).rejects.toMatchObject({ name: 'InvalidRecordError' })

    expect(counter.snapshot()).toEqual({ 'ipns/expired': 1, 'ipns/bad-signature': 2 })
  })
})
