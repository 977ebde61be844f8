/**
 * Signature verification off the main thread: the batch codec, the Piscina
 * pool, and an inline verifier with the same interface.
 */
export { VerifyPool, createVerifyPool, createInlineVerifier, resolveVerifyWorker, DEFAULT_POOL_THREADS, DEFAULT_POOL_BATCH_SIZE } from './verify-pool.js'
export type { BatchVerifier, VerifyPoolOptions } from './verify-pool.js'
export { encodeBatch, decodeBatch, encodeResults, decodeResults, batchLength, BATCH_MAGIC, MAX_BATCH_ENTRIES, MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, MAX_DATA_BYTES } from './batch-codec.js'
export type { BatchEntry } from './batch-codec.js'
export { verifyBatchBuffer } from './verify-batch.js'
