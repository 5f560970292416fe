/** OpenAI Batch API: the requests as a JSONL file, one `/v1/chat/completions` batch, results from its files. */

import type OpenAI from "openai";
import { BatchError } from "../errors.js";
import { chatBody, parseChatCompletion, type ChatCompletionWire } from "../providers/openai-wire.js";
import { loadSdk } from "../providers/sdk.js";
import type { BatchOperations, BatchState, ProviderBatchItem } from "../providers/types.js";

/** Batch operations over the provider's lazily created client. */
export function openAIBatchOperations(client: () => Promise<OpenAI>): BatchOperations {
  return {
    async submitBatch(modelId, items, signal) {
      const c = await client();
      const sdk = await loadSdk("openai", "openai", () => import("openai"));
      const lines = items.map((item) =>
        JSON.stringify({
          custom_id: item.id,
          method: "POST",
          url: "/v1/chat/completions",
          body: chatBody({ ...item.request, modelId }),
        }),
      );
      const file = await c.files.create(
        { file: await sdk.toFile(Buffer.from(lines.join("\n")), "stageflow-batch.jsonl"), purpose: "batch" },
        { signal },
      );
      const batch = await c.batches.create(
        { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" },
        { signal },
      );
      return batch.id;
    },
    async getBatchStatus(batchId, signal) {
      const batch = await (await client()).batches.retrieve(batchId, { signal });
      const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
      return {
        state: BATCH_STATES[batch.status] ?? "running",
        total: counts.total,
        succeeded: counts.completed,
        failed: counts.failed,
        error: batch.errors?.data?.map((e) => e.message).join("; ") || undefined,
      };
    },
    async getBatchResults(batchId, options) {
      const signal = options?.signal;
      const c = await client();
      const batch = await c.batches.retrieve(batchId, { signal });
      if (batch.status !== "completed" && batch.status !== "expired" && batch.status !== "cancelled") {
        throw new BatchError(`OpenAI batch ${batchId} is ${batch.status}; read its results once it has completed`);
      }
      const read = async (fileId: string | null | undefined) =>
        fileId ? (await (await c.files.content(fileId, { signal })).text()).split("\n").filter((l) => l.trim()) : [];
      const lines = [...(await read(batch.output_file_id)), ...(await read(batch.error_file_id))];
      const items = lines.map((line) => parseBatchLine(JSON.parse(line) as BatchOutputLineWire));
      if (batch.status === "completed") return items;
      // An expired or cancelled batch leaves some requests unanswered: report each as failed.
      const answered = new Set(items.map((i) => i.id));
      const requested = (await read(batch.input_file_id)).map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
      const reason = batch.status === "expired" ? "the batch expired before this request was processed" : "the batch was cancelled";
      return [...items, ...requested.filter((id) => !answered.has(id)).map((id): ProviderBatchItem => ({ id, ok: false, error: reason }))];
    },
  };
}

const BATCH_STATES: Record<string, BatchState> = {
  validating: "pending",
  in_progress: "running",
  finalizing: "running",
  completed: "completed",
  failed: "failed",
  expired: "expired",
  cancelling: "cancelled",
  cancelled: "cancelled",
};

// Batch output ------------------------------------------------------------------------------------

interface BatchOutputLineWire {
  custom_id: string;
  response?: { status_code: number; body: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

function parseBatchLine(line: BatchOutputLineWire): ProviderBatchItem {
  const status = line.response?.status_code;
  if (status === 200) return { id: line.custom_id, ok: true, response: parseChatCompletion(line.response!.body as ChatCompletionWire) };
  const bodyError = (line.response?.body as { error?: { message?: string } } | undefined)?.error?.message;
  const message = line.error?.message ?? bodyError ?? "unknown error";
  return { id: line.custom_id, ok: false, error: status ? `HTTP ${status}: ${message}` : message };
}
