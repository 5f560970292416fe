/** The offline provider's batches: stateless, the batch id carries the requests. */

import { deflateRawSync, inflateRawSync } from "node:zlib";
import { BatchError } from "../errors.js";
import { answer, lastUserMessage } from "../providers/local-model.js";
import type { BatchItemRequest, BatchOperations, ProviderBatchItem, ProviderBatchStatus } from "../providers/types.js";

const BATCH_PREFIX = "localbatch_";

/** Batches that complete `delayMs` after submission on the given clock. */
export function localBatchOperations(now: () => Date, delayMs: number): BatchOperations {
  return {
    submitBatch: async (modelId, items) => encodeBatch(modelId, items, now(), delayMs),
    getBatchStatus: async (batchId) => batchStatus(decodeBatch(batchId), now()),
    getBatchResults: async (batchId) => batchResults(decodeBatch(batchId), now()),
  };
}

interface LocalBatch {
  modelId: string;
  submittedAt: number;
  completesAt: number;
  items: BatchItemRequest[];
}

/**
 * The batch id carries the whole batch, compressed, so any process (another Lambda, a restarted
 * worker) can answer for it: the local provider keeps no state.
 */
export function encodeBatch(modelId: string, items: BatchItemRequest[], now: Date, delayMs: number): string {
  const batch: LocalBatch = { modelId, submittedAt: now.getTime(), completesAt: now.getTime() + delayMs, items };
  return BATCH_PREFIX + deflateRawSync(Buffer.from(JSON.stringify(batch))).toString("base64url");
}

export function decodeBatch(batchId: string): LocalBatch {
  if (!batchId.startsWith(BATCH_PREFIX)) throw new BatchError(`"${batchId.slice(0, 40)}" is not a local batch id`);
  try {
    return JSON.parse(inflateRawSync(Buffer.from(batchId.slice(BATCH_PREFIX.length), "base64url")).toString("utf8"));
  } catch (cause) {
    throw new BatchError(`Local batch id is corrupt`, { cause });
  }
}

export function batchStatus(batch: LocalBatch, now: Date): ProviderBatchStatus {
  const total = batch.items.length;
  if (now.getTime() < batch.completesAt) return { state: "running", total, succeeded: 0, failed: 0 };
  const failed = batch.items.filter((i) => isFailing(i)).length;
  return { state: "completed", total, succeeded: total - failed, failed };
}

export function batchResults(batch: LocalBatch, now: Date): ProviderBatchItem[] {
  if (now.getTime() < batch.completesAt) throw new BatchError("Local batch is still running");
  return batch.items.map((item): ProviderBatchItem =>
    isFailing(item)
      ? { id: item.id, ok: false, error: "local provider: simulated item failure ([local:fail] in the prompt)" }
      : { id: item.id, ok: true, response: answer({ ...item.request, modelId: batch.modelId }) },
  );
}

function isFailing(item: BatchItemRequest): boolean {
  return lastUserMessage(item.request.messages).includes("[local:fail]");
}
