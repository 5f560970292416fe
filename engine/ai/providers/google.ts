/**
 * Gemini through the official `@google/genai` SDK (Gemini Developer API), imported on first use:
 * generateContent (plain, streamed, with function calling), embeddings, and batch mode with
 * inlined requests.
 */

import type { GoogleGenAI } from "@google/genai";
import { BatchError } from "../errors.js";
import { makeUsage } from "../pricing.js";
import { parseGoogleRetryDelay } from "../retry.js";
import type { FinishReason } from "../types.js";
import { estimateTokens } from "../tokens.js";
import { lazyClient, loadSdk, resolveApiKey } from "./sdk.js";
import type {
  BatchState,
  ChatRequest,
  ChatResponse,
  Provider,
  ProviderBatchItem,
  ProviderConfig,
  ProviderErrorInfo,
  StreamEvent,
} from "./types.js";

/** Creates the Gemini provider; nothing is loaded or checked until the first request. */
export function createGoogleProvider(config: ProviderConfig): Provider {
  const client = lazyClient(async (): Promise<GoogleGenAI> => {
    const apiKey = await resolveApiKey("google", config.apiKey);
    const sdk = await loadSdk("google", "@google/genai", () => import("@google/genai"));
    // No retryOptions: the SDK then makes one attempt and the helper does the retrying.
    return new sdk.GoogleGenAI({ apiKey, httpOptions: { baseUrl: config.baseURL, headers: config.headers } });
  });

  return {
    name: "google",
    async generate(request) {
      const response = await (await client()).models.generateContent(generateParams(request) as never);
      return parseResponse(response as unknown as ResponseWire);
    },
    async stream(request) {
      const chunks = await (await client()).models.generateContentStream(generateParams(request) as never);
      return responseStream(chunks as unknown as AsyncIterable<ResponseWire>);
    },
    async embed(request) {
      const response = await (await client()).models.embedContent({
        model: request.modelId,
        contents: request.texts,
        config: { abortSignal: request.signal, ...request.providerOptions },
      });
      const embeddings = (response.embeddings ?? []).map((e) => e.values ?? []);
      // The Gemini Developer API reports no token count for embeddings, so it is estimated.
      const inputTokens = request.texts.reduce((sum, t) => sum + estimateTokens(t), 0);
      return { embeddings, usage: makeUsage({ inputTokens }), usageEstimated: true };
    },
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
    describeError: describeGoogleError,
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

function generateParams(request: Omit<ChatRequest, "signal"> & { signal?: AbortSignal }): { model: string; contents: unknown[]; config: Record<string, unknown> } {
  const contents = request.messages.map((m) => {
    if (m.role === "user") return { role: "user", parts: [{ text: m.content }] };
    if (m.role === "assistant") {
      // Replaying the model's own parts keeps thought signatures that function calling requires.
      if (Array.isArray(m.providerContent)) return { role: "model", parts: m.providerContent };
      const parts: unknown[] = m.content ? [{ text: m.content }] : [];
      for (const c of m.toolCalls ?? []) parts.push({ functionCall: { name: c.name, args: c.arguments } });
      return { role: "model", parts };
    }
    return {
      role: "user",
      parts: m.results.map((r) => ({
        functionResponse: { name: r.name, response: r.isError ? { error: r.content } : { result: r.content } },
      })),
    };
  });
  const config: Record<string, unknown> = {
    ...(request.system ? { systemInstruction: request.system } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
    ...(request.tools?.length
      ? {
          tools: [
            {
              functionDeclarations: request.tools.map((t) => ({
                name: t.name,
                description: t.description,
                parametersJsonSchema: t.parameters,
              })),
            },
          ],
        }
      : {}),
    ...(request.jsonSchema ? { responseMimeType: "application/json", responseJsonSchema: request.jsonSchema.schema } : {}),
    ...(request.signal ? { abortSignal: request.signal } : {}),
    ...request.providerOptions,
  };
  return { model: request.modelId, contents, config };
}

interface PartWire {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name?: string; args?: unknown };
}

interface ResponseWire {
  candidates?: { content?: { parts?: PartWire[] }; finishReason?: string }[];
  promptFeedback?: { blockReason?: string };
  usageMetadata?: {
    promptTokenCount?: number;
    cachedContentTokenCount?: number;
    candidatesTokenCount?: number;
    thoughtsTokenCount?: number;
    toolUsePromptTokenCount?: number;
  };
}

const FILTER_REASONS = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "LANGUAGE"]);

function parseResponse(response: ResponseWire): ChatResponse {
  const candidate = response.candidates?.[0];
  const parts = candidate?.content?.parts ?? [];
  const text = parts.filter((p) => p.text !== undefined && !p.thought).map((p) => p.text).join("");
  const reasoning = parts.filter((p) => p.thought && p.text).map((p) => p.text).join("");
  const toolCalls = parts
    .filter((p) => p.functionCall)
    .map((p, i) => ({ id: p.functionCall!.id ?? `call_${i}`, name: p.functionCall!.name ?? "", arguments: p.functionCall!.args ?? {} }));
  const blocked = response.promptFeedback?.blockReason;
  const reason = candidate?.finishReason;
  const finishReason: FinishReason =
    blocked || (reason && FILTER_REASONS.has(reason))
      ? "content-filter"
      : reason === "MAX_TOKENS"
        ? "length"
        : toolCalls.length
          ? "tool-calls"
          : reason === "STOP" || reason === undefined
            ? "stop"
            : "other";
  const u = response.usageMetadata ?? {};
  return {
    text,
    reasoning: reasoning || undefined,
    toolCalls,
    finishReason,
    refusal: finishReason === "content-filter" ? (blocked ?? reason) : undefined,
    providerContent: parts,
    usage: makeUsage({
      inputTokens: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
      cachedInputTokens: u.cachedContentTokenCount ?? 0,
      // Thinking tokens are billed as output but reported apart from the candidates.
      outputTokens: (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0),
      reasoningTokens: u.thoughtsTokenCount ?? 0,
    }),
  };
}

async function* responseStream(chunks: AsyncIterable<ResponseWire>): AsyncIterable<StreamEvent> {
  const parts: PartWire[] = [];
  let last: ResponseWire = {};
  for await (const chunk of chunks) {
    // Each chunk's usageMetadata is the running total, so only the last one counts.
    last = chunk;
    for (const part of chunk.candidates?.[0]?.content?.parts ?? []) {
      parts.push(part);
      if (part.text && part.thought) yield { type: "reasoning", text: part.text };
      else if (part.text) yield { type: "text", text: part.text };
    }
  }
  const merged: ResponseWire = {
    ...last,
    candidates: [{ content: { parts }, finishReason: last.candidates?.[0]?.finishReason }],
  };
  yield { type: "done", response: parseResponse(merged) };
}

function describeGoogleError(error: unknown): ProviderErrorInfo | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === "AbortError") return { message: error.message, aborted: true };
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number") return { status, retryAfterMs: parseGoogleRetryDelay(error.message), message: error.message };
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return { message: error.message, connection: true };
  return undefined;
}
