/** Gemini batch mode: inlined generateContent requests in one batch job, inlined responses back. */

import type { GoogleGenAI } from "@google/genai";
import { BatchError } from "../errors.js";
import { generateParams, parseResponse, type ResponseWire } from "../providers/google-wire.js";
import type { BatchOperations, BatchState, ProviderBatchItem } from "../providers/types.js";

/** Batch operations over the provider's lazily created client. */
export function googleBatchOperations(client: () => Promise<GoogleGenAI>): BatchOperations {
  return {
    async submitBatch(modelId, items, signal) {
      const job = await (await client()).batches.create({
        model: modelId,
        src: items.map((item) => {
          const { contents, config } = generateParams({ ...item.request, modelId });
          return { contents, config, metadata: { key: item.id } };
        }) as never,
        config: { displayName: "stageflow-batch", abortSignal: signal },
      });
      if (!job.name) throw new BatchError("Gemini did not return a batch name");
      return job.name;
    },
    async getBatchStatus(batchId, signal) {
      const job = await (await client()).batches.get({ name: batchId, config: { abortSignal: signal } });
      const responses = job.dest?.inlinedResponses ?? [];
      const failed = responses.filter((r) => r.error).length;
      return {
        state: BATCH_STATES[job.state ?? ""] ?? "running",
        total: responses.length,
        succeeded: responses.length - failed,
        failed,
        error: job.error?.message,
      };
    },
    async getBatchResults(batchId, options) {
      const job = await (await client()).batches.get({ name: batchId, config: { abortSignal: options?.signal } });
      if (job.state !== "JOB_STATE_SUCCEEDED") {
        throw new BatchError(`Gemini batch ${batchId} is ${job.state}; read its results once it has succeeded`);
      }
      if (!job.dest?.inlinedResponses) {
        throw new BatchError(`Gemini batch ${batchId} wrote its results to a file (${job.dest?.fileName}); only inline results are read`);
      }
      return job.dest.inlinedResponses.map((r, index): ProviderBatchItem => {
        const id = r.metadata?.key ?? String(index);
        if (r.error || !r.response) return { id, ok: false, error: r.error?.message ?? "no response" };
        return { id, ok: true, response: parseResponse(r.response as unknown as ResponseWire) };
      });
    },
  };
}

const BATCH_STATES: Record<string, BatchState> = {
  JOB_STATE_PENDING: "pending",
  JOB_STATE_QUEUED: "pending",
  JOB_STATE_RUNNING: "running",
  JOB_STATE_SUCCEEDED: "completed",
  JOB_STATE_PARTIALLY_SUCCEEDED: "completed",
  JOB_STATE_FAILED: "failed",
  JOB_STATE_CANCELLED: "cancelled",
  JOB_STATE_CANCELLING: "cancelled",
  JOB_STATE_EXPIRED: "expired",
};
