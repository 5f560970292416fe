/**
 * Provider batch jobs (OpenAI Batch API, Anthropic Message Batches, Gemini batch mode, local):
 * submit, poll, read results validated against a schema, and record each item's discounted cost.
 */

import type { z } from "zod";
import { BatchError } from "../errors.js";
import { parseObject } from "../object.js";
import { addUsage, emptyUsage } from "../pricing.js";
import { toCallRecord } from "../recording.js";
import { withRetries } from "../retry.js";
import { chatRequest, resolve, resultBase, toConversation, type HelperRuntime, type ResolvedModel } from "../runtime.js";
import { toJsonSchema } from "../tools.js";
import type { BatchItemRequest, BatchState, ChatRequest } from "../providers/types.js";
import type { CallResultBase, Prompt, ProviderName, ProviderOptions, TokenUsage } from "../types.js";

/** One request of a batch. */
export interface BatchRequest {
  /** Your id for the item, echoed in its result: letters, digits, `-`, `_`, at most 64 characters. */
  id: string;
  prompt: Prompt;
  system?: string;
  maxTokens?: number;
  temperature?: number;
  providerOptions?: ProviderOptions;
}

export interface BatchOptions<T> {
  /** Each item's answer must be JSON matching this schema; items that do not are failures. */
  schema?: z.ZodType<T>;
  /** @default "result" */
  schemaName?: string;
}

export interface BatchSubmission {
  batchId: string;
  modelKey: string;
  provider: ProviderName;
  itemCount: number;
  submittedAt: string;
}

export interface BatchStatus {
  batchId: string;
  state: BatchState;
  /** No further change will happen: read the results (completed) or give up (failed, cancelled, expired). */
  done: boolean;
  total: number;
  succeeded: number;
  failed: number;
  error?: string;
}

export interface BatchItemSuccess<T> {
  id: string;
  ok: true;
  /** The parsed object with a schema, else the text. */
  value: T;
  text: string;
  usage: TokenUsage;
  /** Batch-discounted cost of this item. */
  cost: number;
}

/** A failed item: it carries the error, never a made-up value. */
export interface BatchItemFailure {
  id: string;
  ok: false;
  error: string;
  /** The answer that failed validation, when there was one. */
  rawText?: string;
  /** Tokens billed for an answer that failed validation. */
  usage?: TokenUsage;
  cost: number;
}

export type BatchItemResult<T> = BatchItemSuccess<T> | BatchItemFailure;

export interface BatchResults<T> extends CallResultBase {
  batchId: string;
  /** Sorted by item id. */
  items: BatchItemResult<T>[];
  succeeded: number;
  failed: number;
  /**
   * The costs were recorded by an earlier `getResults` for this batch (e.g. before a retry of the
   * stage), so they were not recorded again.
   */
  alreadyRecorded: boolean;
}

/** Batch operations for one model (and, optionally, one output schema). */
export interface AIBatch<T> {
  readonly modelKey: string;
  /** Sends the requests as one provider batch job. */
  submit(requests: readonly BatchRequest[], options?: { signal?: AbortSignal }): Promise<BatchSubmission>;
  getStatus(batchId: string, options?: { signal?: AbortSignal }): Promise<BatchStatus>;
  /** Reads a completed batch's results and records their cost once per batch. */
  getResults(batchId: string, options?: { signal?: AbortSignal }): Promise<BatchResults<T>>;
}

const ITEM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TERMINAL: ReadonlySet<BatchState> = new Set(["completed", "failed", "cancelled", "expired"]);

export function createBatch<T>(rt: HelperRuntime, modelKey: string, options: BatchOptions<T>, now: () => Date): AIBatch<T> {
  const jsonSchema: ChatRequest["jsonSchema"] = options.schema
    ? { name: options.schemaName ?? "result", schema: toJsonSchema(options.schema) }
    : undefined;
  const model = () => resolve(rt, modelKey, "text");
  const retrying = <R>(m: ResolvedModel, signal: AbortSignal | undefined, fn: () => Promise<R>) =>
    withRetries(m.provider, rt.retry, signal, fn);

  return {
    modelKey,
    async submit(requests, submitOptions = {}) {
      assertValidRequests(requests);
      const m = await model();
      const items: BatchItemRequest[] = requests.map((r) => {
        const { signal: _none, ...request } = chatRequest(m.spec, toConversation(r.prompt), r);
        return { id: r.id, request: { ...request, jsonSchema } };
      });
      const batchId = await retrying(m, submitOptions.signal, () => m.provider.submitBatch(m.spec.providerModelId, items, submitOptions.signal));
      return { batchId, modelKey: m.spec.key, provider: m.spec.provider, itemCount: items.length, submittedAt: now().toISOString() };
    },

    async getStatus(batchId, statusOptions = {}) {
      const m = await model();
      const s = await retrying(m, statusOptions.signal, () => m.provider.getBatchStatus(batchId, statusOptions.signal));
      return { batchId, ...s, done: TERMINAL.has(s.state) };
    },

    async getResults(batchId, resultOptions = {}) {
      const m = await model();
      const raw = await retrying(m, resultOptions.signal, () =>
        m.provider.getBatchResults(batchId, { signal: resultOptions.signal, jsonSchema }),
      );
      const items: BatchItemResult<T>[] = [];
      const records = [];
      let usage = emptyUsage();
      for (const item of raw) {
        if (!item.ok) {
          items.push({ id: item.id, ok: false, error: item.error, cost: 0 });
          continue;
        }
        const { response } = item;
        const entry = toCallRecord({
          topic: rt.topic,
          callType: "batch",
          model: m.spec,
          prompt: `[batch ${batchId} item ${item.id}]`,
          response: response.text,
          usage: response.usage,
          batch: true,
          batchId,
          metadata: { itemId: item.id },
        });
        records.push(entry);
        usage = addUsage(usage, response.usage);
        items.push(toItemResult<T>(item.id, response.text, response.usage, entry.cost, response.finishReason, options.schema));
      }
      items.sort((a, b) => a.id.localeCompare(b.id, "en", { numeric: true }));

      // A stage that resumes twice (retry after a crash) must not count the same batch twice.
      const alreadyRecorded = await rt.logger.isRecorded(batchId);
      if (!alreadyRecorded) await rt.logger.logBatchResults(batchId, records);

      const cost = records.reduce((sum, r) => sum + r.cost, 0);
      const succeeded = items.filter((i) => i.ok).length;
      return { ...resultBase(m.spec, usage, cost), batchId, items, succeeded, failed: items.length - succeeded, alreadyRecorded };
    },
  };
}

function toItemResult<T>(
  id: string,
  text: string,
  usage: TokenUsage,
  cost: number,
  finishReason: string,
  schema: z.ZodType<T> | undefined,
): BatchItemResult<T> {
  if (finishReason === "content-filter") return { id, ok: false, error: "refused or filtered by the provider", rawText: text, usage, cost };
  if (!schema) return { id, ok: true, value: text as T, text, usage, cost };
  const parsed = parseObject(text, schema);
  if (parsed.ok) return { id, ok: true, value: parsed.value, text, usage, cost };
  return { id, ok: false, error: `answer does not match the schema: ${parsed.issues.join("; ")}`, rawText: text, usage, cost };
}

function assertValidRequests(requests: readonly BatchRequest[]): void {
  if (requests.length === 0) throw new BatchError("A batch needs at least one request");
  const seen = new Set<string>();
  for (const r of requests) {
    if (!ITEM_ID.test(r.id)) {
      throw new BatchError(`Batch item id ${JSON.stringify(r.id)} must be 1-64 letters, digits, "-" or "_"`);
    }
    if (seen.has(r.id)) throw new BatchError(`Batch item id "${r.id}" is used twice`);
    seen.add(r.id);
  }
}
