import { z } from "zod";
import { createAIHelper, type AIHelper } from "../../engine/ai/index.js";
import { defineAsyncBatchStage, defineStage, type StageContext } from "../../engine/index.js";
import type { CheckCompletionContext } from "../../engine/core/stage.js";

/** Model used when a stage's config does not name one; `local/...` models run offline without a key. */
export const DEFAULT_MODEL = process.env.STAGEFLOW_MODEL ?? "local/fast";

type AIContext = Pick<StageContext<unknown, unknown>, "aiTopic" | "aiCallLogger"> | Pick<CheckCompletionContext<unknown>, "aiTopic" | "aiCallLogger">;

function aiFor(ctx: AIContext): AIHelper {
  if (!ctx.aiCallLogger) throw new Error("This stage makes model calls: give the kernel an aiCallLogger");
  return createAIHelper(ctx.aiTopic, ctx.aiCallLogger, {
    providers: { local: { batchCompletionDelayMs: Number(process.env.STAGEFLOW_LOCAL_BATCH_DELAY_MS ?? 1500) } },
  });
}

const ModelConfig = z.object({ model: z.string().default(DEFAULT_MODEL) });

export const DocumentInput = z.object({
  title: z.string().min(1).max(200),
  text: z.string().min(1).max(1_000_000),
});

export const extractText = defineStage({
  id: "extract-text",
  name: "Extract text",
  description: "Normalises whitespace and splits the document into paragraphs",
  schemas: {
    input: DocumentInput,
    output: z.object({ title: z.string(), paragraphs: z.array(z.string()), wordCount: z.number().int() }),
    config: z.object({ maxParagraphs: z.number().int().positive().default(50) }),
  },
  async execute(ctx) {
    const paragraphs = ctx.input.text
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s+/g, " ").trim())
      .filter(Boolean)
      .slice(0, ctx.config.maxParagraphs);
    paragraphs.forEach((_, i) => ctx.onProgress({ progress: (i + 1) / paragraphs.length, message: `paragraph ${i + 1}/${paragraphs.length}` }));
    const wordCount = paragraphs.join(" ").split(" ").length;
    ctx.log("INFO", "Extracted document", { paragraphs: paragraphs.length, wordCount });
    return { output: { title: ctx.input.title, paragraphs, wordCount } };
  },
});

export const summarize = defineStage({
  id: "summarize",
  name: "Summarize",
  dependencies: [extractText],
  schemas: { input: "none", output: z.object({ summary: z.string(), model: z.string() }), config: ModelConfig },
  async execute(ctx) {
    const doc = ctx.require("extract-text");
    const { text } = await aiFor(ctx).generateText(ctx.config.model, `Summarize in two sentences:\n\n${doc.paragraphs.join("\n\n")}`, {
      system: "You write short, factual summaries.",
      maxTokens: 200,
      signal: ctx.signal,
    });
    return { output: { summary: text, model: ctx.config.model } };
  },
});

export const classify = defineStage({
  id: "classify",
  name: "Classify",
  dependencies: [extractText],
  schemas: {
    input: "none",
    output: z.object({ category: z.enum(["technical", "business", "legal", "other"]), confidence: z.number().min(0).max(1) }),
    config: ModelConfig,
  },
  async execute(ctx) {
    const doc = ctx.require("extract-text");
    const { object } = await aiFor(ctx).generateObject(
      ctx.config.model,
      `Classify this document titled "${doc.title}":\n\n${doc.paragraphs.slice(0, 3).join("\n\n")}`,
      z.object({ category: z.enum(["technical", "business", "legal", "other"]), confidence: z.number().min(0).max(1) }),
      { signal: ctx.signal },
    );
    return { output: object };
  },
});

export const extractKeywords = defineStage({
  id: "extract-keywords",
  name: "Extract keywords",
  dependencies: [extractText],
  schemas: { input: "none", output: z.object({ keywords: z.array(z.string()) }), config: z.object({ top: z.number().int().positive().default(8) }) },
  async execute(ctx) {
    const counts = new Map<string, number>();
    for (const word of ctx.require("extract-text").paragraphs.join(" ").toLowerCase().match(/[a-z]{5,}/g) ?? []) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
    const keywords = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, ctx.config.top).map(([w]) => w);
    return { output: { keywords } };
  },
});

const GistOutput = z.object({
  gists: z.array(z.object({ paragraph: z.number().int(), gist: z.string() })),
  failedParagraphs: z.array(z.number().int()),
  batchId: z.string(),
});

/**
 * A provider batch (50% cheaper, hours of latency): submits one request per paragraph, suspends,
 * and is resumed by `checkCompletion` once the batch is done.
 */
export const paragraphGists = defineAsyncBatchStage({
  id: "paragraph-gists",
  name: "Paragraph gists (batch)",
  dependencies: [extractText],
  schemas: {
    input: "none",
    output: GistOutput,
    config: ModelConfig.extend({
      pollIntervalMs: z.number().int().positive().default(500),
      maxWaitMs: z.number().int().positive().default(24 * 3600 * 1000),
    }),
  },
  async execute(ctx) {
    const { paragraphs } = ctx.require("extract-text");
    const submission = await aiFor(ctx)
      .batch(ctx.config.model)
      .submit(paragraphs.map((p, i) => ({ id: `p${i}`, prompt: `One-line gist of: ${p}`, maxTokens: 60 })), { signal: ctx.signal });
    ctx.log("INFO", "Submitted batch", { batchId: submission.batchId.slice(0, 24), items: submission.itemCount });
    return {
      suspended: true,
      state: {
        batchId: submission.batchId,
        submittedAt: submission.submittedAt,
        pollInterval: ctx.config.pollIntervalMs,
        maxWaitTime: ctx.config.maxWaitMs,
        metadata: { model: ctx.config.model },
      },
      pollConfig: { pollInterval: ctx.config.pollIntervalMs, maxWaitTime: ctx.config.maxWaitMs },
    };
  },
  async checkCompletion(state, ctx) {
    const batch = aiFor(ctx).batch(String(state.metadata?.model ?? DEFAULT_MODEL));
    const status = await batch.getStatus(state.batchId);
    if (!status.done) return { ready: false };
    if (status.state !== "completed") return { ready: false, error: `Batch ${status.state}: ${status.error ?? "no details"}` };
    const results = await batch.getResults(state.batchId);
    return {
      ready: true,
      output: {
        gists: results.items.flatMap((item) => (item.ok ? [{ paragraph: Number(item.id.slice(1)), gist: item.text }] : [])),
        failedParagraphs: results.items.flatMap((item) => (item.ok ? [] : [Number(item.id.slice(1))])),
        batchId: state.batchId.slice(0, 32),
      },
    };
  },
});

export const assembleReport = defineStage({
  id: "assemble-report",
  name: "Assemble report",
  dependencies: [extractText, summarize, classify, extractKeywords, paragraphGists],
  schemas: {
    input: "none",
    output: z.object({
      title: z.string(),
      summary: z.string(),
      category: z.string(),
      keywords: z.array(z.string()),
      gists: z.array(z.string()),
      wordCount: z.number().int(),
    }),
    config: z.object({}),
  },
  async execute(ctx) {
    const doc = ctx.require("extract-text");
    return {
      output: {
        title: doc.title,
        summary: ctx.require("summarize").summary,
        category: ctx.require("classify").category,
        keywords: ctx.require("extract-keywords").keywords,
        gists: ctx.require("paragraph-gists").gists.map((g) => g.gist),
        wordCount: doc.wordCount,
      },
    };
  },
});
