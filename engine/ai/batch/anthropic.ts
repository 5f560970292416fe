/** Anthropic Message Batches: one batch of Messages requests, results read from its JSONL stream. */

import type Anthropic from "@anthropic-ai/sdk";
import { messagesBody, parseMessage, type MessageWire } from "../providers/anthropic-wire.js";
import type { BatchOperations, ChatRequest, ProviderBatchItem } from "../providers/types.js";

/** Batch operations over the provider's lazily created client. */
export function anthropicBatchOperations(client: () => Promise<Anthropic>): BatchOperations {
  return {
    async submitBatch(modelId, items, signal) {
      const requests = items.map((item) => ({ custom_id: item.id, params: messagesBody({ ...item.request, modelId }) }));
      const batch = await (await client()).messages.batches.create(
        { requests } as unknown as Anthropic.Messages.BatchCreateParams,
        { signal },
      );
      return batch.id;
    },
    async getBatchStatus(batchId, signal) {
      const batch = await (await client()).messages.batches.retrieve(batchId, undefined, { signal });
      const c = batch.request_counts;
      const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
      const ended = batch.processing_status === "ended";
      const state = !ended ? "running" : c.succeeded + c.errored === 0 && c.canceled > 0 ? "cancelled" : "completed";
      return { state, total, succeeded: c.succeeded, failed: c.errored + c.canceled + c.expired };
    },
    async getBatchResults(batchId, options) {
      const decoder = await (await client()).messages.batches.results(batchId, undefined, { signal: options?.signal });
      const items: ProviderBatchItem[] = [];
      for await (const line of decoder as unknown as AsyncIterable<BatchResultLineWire>) {
        items.push(parseBatchLine(line, options?.jsonSchema));
      }
      return items;
    },
  };
}

type BatchResultLineWire = {
  custom_id: string;
  result:
    | { type: "succeeded"; message: MessageWire }
    | { type: "errored"; error: { error?: { type?: string; message?: string } } }
    | { type: "canceled" }
    | { type: "expired" };
};

function parseBatchLine(line: BatchResultLineWire, jsonSchema: ChatRequest["jsonSchema"]): ProviderBatchItem {
  const r = line.result;
  if (r.type === "succeeded") return { id: line.custom_id, ok: true, response: parseMessage(r.message, { modelId: "", messages: [], jsonSchema }) };
  if (r.type === "errored") {
    const e = r.error.error;
    return { id: line.custom_id, ok: false, error: `${e?.type ?? "error"}: ${e?.message ?? "unknown error"}` };
  }
  return { id: line.custom_id, ok: false, error: r.type === "expired" ? "expired before it was processed" : "canceled" };
}
