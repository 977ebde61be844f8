/**
 * Signature verification off the main thread: the batch codec, the Piscina
 * pool, and an inline verifier with the same interface.
 */
export { VerifyPool, createVerifyPool, createInlineVerifier, resolveVerifyWorker, defaultPoolThreads, DEFAULT_POOL_THREADS, DEFAULT_POOL_BATCH_SIZE, DEFAULT_POOL_MAX_QUEUE, DEFAULT_POOL_NICE } from './verify-pool.js'
export type { BatchVerifier, RecordChecker, RecordCheckOptions, VerifyPoolOptions, VerifyPoolStats } from './verify-pool.js'
export { checkRecordItems, recordChecker, verdictAt } from './check-records.js'
export { encodeRecordBatch, decodeRecordBatch, encodeVerdicts, decodeVerdicts } from './record-codec.js'
export type { RecordItem, RecordVerdict } from './record-codec.js'
export { encodeBatch, decodeBatch, encodeResults, decodeResults, batchLength, BATCH_MAGIC, MAX_BATCH_ENTRIES, MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, MAX_DATA_BYTES } from './batch-codec.js'
export type { BatchEntry } from './batch-codec.js'
export { verifyBatchBuffer } from './verify-batch.js'
