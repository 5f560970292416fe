/** `createAIHelper`: model calls that are recorded, with their cost, under a topic. */

import type { z } from "zod";
import { emptyAICallStats, type AICallLogger } from "../core/ai-call-logger.js";
import { createBatch, type AIBatch, type BatchOptions } from "./batch/client.js";
import { embedTexts, type EmbedManyResult, type EmbedOptions, type EmbedResult } from "./embed.js";
import { generateObject, type GenerateObjectOptions, type GenerateObjectResult } from "./object.js";
import { ProviderRegistry } from "./providers/registry.js";
import type { ProvidersConfig } from "./providers/types.js";
import type { RetryOptions } from "./retry.js";
import type { CallOptions, HelperRuntime } from "./runtime.js";
import { streamText, type StreamTextResult } from "./stream.js";
import { generateText, type GenerateTextOptions, type GenerateTextResult } from "./text.js";
import type { Prompt } from "./types.js";

/** Used when the kernel has no AI-call logger: calls still report their cost, nothing is stored. */
const UNRECORDED: AICallLogger = {
  logCall: () => undefined,
  logBatchResults: async () => undefined,
  getStats: async () => emptyAICallStats(),
  isRecorded: async () => false,
};

export interface AIHelperOptions {
  /** Keys, base URLs and settings per provider. @default configureAIProviders() settings, then env vars */
  providers?: ProvidersConfig;
  /** How 429 / 5xx responses are retried. @default 3 retries, honouring retry-after */
  retry?: RetryOptions;
  /** Time source for submission times and local batches. @default the system clock */
  clock?: { now(): Date };
}

/** Model calls for one topic (usually one stage of one run). Every call is logged with its cost. */
export interface AIHelper {
  /** The topic calls are recorded under. */
  readonly topic: string;
  /**
   * Generates text. With `tools`, runs the tool loop for up to `maxSteps` requests.
   *
   * @example
   * ```ts
   * const { text, cost, usage } = await ai.generateText("google/gemini-2.5-flash", `Summarize: ${doc}`, {
   *   system: "You write one-paragraph summaries.",
   *   maxTokens: 300,
   *   signal: ctx.signal,
   * });
   * ```
   */
  generateText(modelKey: string, prompt: Prompt, options?: GenerateTextOptions): Promise<GenerateTextResult>;
  /**
   * Generates an object matching `schema`. An invalid answer gets one repair request; if that
   * fails too, an `ObjectValidationError` carries the raw text.
   *
   * @example
   * ```ts
   * const { object } = await ai.generateObject(
   *   "openai/gpt-4.1-mini",
   *   `Classify: ${review}`,
   *   z.object({ sentiment: z.enum(["positive", "negative", "neutral"]) }),
   * );
   * ```
   */
  generateObject<T>(modelKey: string, prompt: Prompt, schema: z.ZodType<T>, options?: GenerateObjectOptions): Promise<GenerateObjectResult<T>>;
  /**
   * Embeds one text, or many in one request.
   *
   * @example
   * ```ts
   * const { embedding } = await ai.embed("openai/text-embedding-3-small", "durable workflows");
   * const { embeddings } = await ai.embed("local/embed", ["first", "second"]);
   * ```
   */
  embed(modelKey: string, text: string, options?: EmbedOptions): Promise<EmbedResult>;
  embed(modelKey: string, texts: readonly string[], options?: EmbedOptions): Promise<EmbedManyResult>;
  /**
   * Streams text as it is generated; `result` gives usage and cost when it ends.
   *
   * @example
   * ```ts
   * const stream = ai.streamText("anthropic/claude-haiku-4-5", "Write a haiku about queues");
   * for await (const piece of stream) process.stdout.write(piece);
   * const { usage, cost } = await stream.result;
   * ```
   */
  streamText(modelKey: string, prompt: Prompt, options?: CallOptions): StreamTextResult;
  /**
   * Batch jobs for a model, at the provider's batch discount. Results are validated against
   * `schema` when given.
   *
   * @example
   * ```ts
   * const summaries = ai.batch("local/fast", { schema: z.object({ summary: z.string() }) });
   * const { batchId } = await summaries.submit([{ id: "doc-1", prompt: "Summarize: ..." }]);
   * if ((await summaries.getStatus(batchId)).state === "completed") {
   *   const { items } = await summaries.getResults(batchId);
   * }
   * ```
   */
  batch(modelKey: string): AIBatch<string>;
  batch<T>(modelKey: string, options: BatchOptions<T> & { schema: z.ZodType<T> }): AIBatch<T>;
}

/**
 * Creates the AI helper for a topic. In a stage, use the topic and logger the kernel provides so
 * the stage's cost lands on the stage and on the run. Without a logger (a kernel configured
 * without one) calls still return their usage and cost, but nothing is recorded.
 *
 * Provider SDKs are imported on the first call that needs them, never by this function.
 *
 * @example
 * ```ts
 * const ai = createAIHelper(ctx.aiTopic, ctx.aiCallLogger);
 * const { text, cost } = await ai.generateText("local/fast", "Summarize: " + ctx.input.text);
 * ```
 */
export function createAIHelper(
  topic: string,
  aiCallLogger: AICallLogger | undefined,
  options: AIHelperOptions = {},
): AIHelper {
  if (!topic) throw new TypeError("createAIHelper needs a topic, e.g. stageTopic(runId, stageId) or ctx.aiTopic");
  const clock = options.clock ?? { now: () => new Date() };
  const rt: HelperRuntime = {
    topic,
    logger: aiCallLogger ?? UNRECORDED,
    providers: new ProviderRegistry(options.providers ?? {}, { now: () => clock.now() }),
    retry: options.retry ?? {},
  };

  function embed(modelKey: string, text: string, embedOptions?: EmbedOptions): Promise<EmbedResult>;
  function embed(modelKey: string, texts: readonly string[], embedOptions?: EmbedOptions): Promise<EmbedManyResult>;
  async function embed(
    modelKey: string,
    input: string | readonly string[],
    embedOptions: EmbedOptions = {},
  ): Promise<EmbedResult | EmbedManyResult> {
    const many = await embedTexts(rt, modelKey, typeof input === "string" ? [input] : input, embedOptions);
    if (typeof input !== "string") return many;
    const { embeddings, ...rest } = many;
    return { ...rest, embedding: embeddings[0] };
  }

  function batch(modelKey: string): AIBatch<string>;
  function batch<T>(modelKey: string, batchOptions: BatchOptions<T> & { schema: z.ZodType<T> }): AIBatch<T>;
  function batch<T>(modelKey: string, batchOptions: BatchOptions<T> = {}): AIBatch<T> {
    return createBatch(rt, modelKey, batchOptions, () => clock.now());
  }

  return {
    topic,
    generateText: (modelKey, prompt, callOptions) => generateText(rt, modelKey, prompt, callOptions),
    generateObject: (modelKey, prompt, schema, callOptions) => generateObject(rt, modelKey, prompt, schema, callOptions),
    embed,
    streamText: (modelKey, prompt, callOptions) => streamText(rt, modelKey, prompt, callOptions),
    batch,
  };
}
