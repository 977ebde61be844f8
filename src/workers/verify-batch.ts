/**
 * The work of one batch: decode, verify every entry with the same
 * `verifySignature` the inline validator uses, encode the bitmap. Plain and
 * synchronous; the Piscina worker and the inline verifier both call it.
 */
import { defaultEd25519Backend, isEd25519Backend } from '../records/ed25519.js'
import { verifySignature } from '../records/verify.js'
import { decodeBatch, encodeResults } from './batch-codec.js'
import type { Ed25519Backend } from '../records/ed25519.js'

export function verifyBatchBuffer (batch: ArrayBuffer, backend: Ed25519Backend = defaultEd25519Backend()): ArrayBuffer {
  const chosen = isEd25519Backend(backend) ? backend : defaultEd25519Backend()
  const verdicts = decodeBatch(batch).map(entry => entry !== undefined && verifySignature(entry, chosen))
  return encodeResults(verdicts)
}
