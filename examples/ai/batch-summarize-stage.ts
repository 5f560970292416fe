/**
 * An async-batch stage: summarizes many documents through a provider batch job (half price, hours
 * of latency). It submits the batch and suspends with the batch id; the kernel polls
 * `checkCompletion`; once the batch is done the stage resumes, reads the validated results and
 * records their cost. `maxWaitTimeMs` bounds the wait: past it the kernel fails the stage with a
 * message naming maxWaitTime.
 *
 * Runs offline with `local/fast` by default; set `config.model` to e.g. `openai/gpt-4.1-mini`,
 * `anthropic/claude-haiku-4-5` or `google/gemini-2.5-flash` (keys from the environment) for real batches.
 */

import { z } from "zod";
import { createAIHelper } from "../../engine/ai/index.js";
import { defineAsyncBatchStage } from "../../engine/core/stage.js";

export const BatchSummarizeInput = z.object({
  documents: z
    .array(z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), text: z.string().min(1) }))
    .min(1)
    .max(10_000),
});

/** What the model must return for each document; answers that do not match count as failures. */
export const DocumentSummary = z.object({
  summary: z.string(),
  keywords: z.array(z.string()).max(5),
});

export const BatchSummarizeOutput = z.object({
  batchId: z.string(),
  summaries: z.array(DocumentSummary.extend({ id: z.string() })),
  failed: z.array(z.object({ id: z.string(), error: z.string() })),
  /** US dollars, batch discount applied (simulated for local models). */
  cost: z.number(),
});

export const BatchSummarizeConfig = z.object({
  model: z.string().default("local/fast"),
  pollIntervalMs: z.number().int().positive().default(60_000),
  maxWaitTimeMs: z.number().int().positive().default(24 * 60 * 60 * 1000),
  /** Local models only: how long the simulated batch takes. */
  localBatchDelayMs: z.number().int().nonnegative().default(0),
});

export const batchSummarizeStage = defineAsyncBatchStage({
  id: "batch-summarize",
  name: "Batch summarize",
  description: "Summarizes documents through a provider batch job, at the batch discount",
  schemas: { input: BatchSummarizeInput, output: BatchSummarizeOutput, config: BatchSummarizeConfig },

  async execute(ctx) {
    const ai = createAIHelper(ctx.aiTopic, ctx.aiCallLogger, {
      providers: { local: { batchCompletionDelayMs: ctx.config.localBatchDelayMs } },
    });
    const summaries = ai.batch(ctx.config.model, { schema: DocumentSummary });

    if (ctx.resumeState) {
      // Reading the results records each item's cost once, even if this resume is retried.
      const results = await summaries.getResults(ctx.resumeState.batchId, { signal: ctx.signal });
      ctx.log("INFO", "Batch results read", { succeeded: results.succeeded, failed: results.failed, cost: results.cost });
      return {
        output: {
          batchId: results.batchId,
          summaries: results.items.flatMap((item) => (item.ok ? [{ id: item.id, ...item.value }] : [])),
          failed: results.items.flatMap((item) => (item.ok ? [] : [{ id: item.id, error: item.error }])),
          cost: results.cost,
        },
        customMetrics: { itemsSucceeded: results.succeeded, itemsFailed: results.failed },
      };
    }

    const submission = await summaries.submit(
      ctx.input.documents.map((doc) => ({
        id: doc.id,
        system: "Summarize the document in one sentence and give up to five keywords.",
        prompt: doc.text,
        maxTokens: 300,
      })),
      { signal: ctx.signal },
    );
    ctx.log("INFO", "Batch submitted", { batchId: submission.batchId.slice(0, 80), items: submission.itemCount });
    return {
      suspended: true,
      state: {
        batchId: submission.batchId,
        submittedAt: submission.submittedAt,
        pollInterval: ctx.config.pollIntervalMs,
        maxWaitTime: ctx.config.maxWaitTimeMs,
        metadata: { model: submission.modelKey, items: submission.itemCount },
      },
      pollConfig: { pollInterval: ctx.config.pollIntervalMs, maxWaitTime: ctx.config.maxWaitTimeMs },
    };
  },

  async checkCompletion(state, ctx) {
    const status = await createAIHelper(ctx.aiTopic, ctx.aiCallLogger).batch(ctx.config.model).getStatus(state.batchId);
    ctx.log("DEBUG", "Batch status", { state: status.state, succeeded: status.succeeded, failed: status.failed });
    // Completed: let execute() run again with resumeState to read and record the results.
    if (status.state === "completed") return { ready: true, resumeState: state };
    if (status.done) return { ready: false, error: `Batch ${state.batchId.slice(0, 80)} ended ${status.state}${status.error ? `: ${status.error}` : ""}` };
    return { ready: false };
  },
});
