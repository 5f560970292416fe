/**
 * OpenAI through the official `openai` SDK, imported on first use: Chat Completions (default) or
 * the Responses API for text, Embeddings, and the Batch API (JSONL file upload + batch job).
 */

import type OpenAI from "openai";
import { AIError, BatchError } from "../errors.js";
import { makeUsage } from "../pricing.js";
import type { FinishReason, TokenUsage } from "../types.js";
import { describeStainlessError, lazyClient, loadSdk, parseJsonLenient, resolveApiKey } from "./sdk.js";
import type {
  BatchState,
  ChatRequest,
  ChatResponse,
  OpenAIProviderConfig,
  Provider,
  ProviderBatchItem,
  RawToolCall,
  StreamEvent,
} from "./types.js";

/** Creates the OpenAI provider; nothing is loaded or checked until the first request. */
export function createOpenAIProvider(config: OpenAIProviderConfig): Provider {
  const client = lazyClient(async () => {
    const apiKey = await resolveApiKey("openai", config.apiKey);
    const sdk = await loadSdk("openai", "openai", () => import("openai"));
    // Retries are the helper's job (it honours retry-after and counts attempts once).
    return new sdk.default({ apiKey, baseURL: config.baseURL, defaultHeaders: config.headers, maxRetries: 0 });
  });
  const useResponses = config.api === "responses";

  return {
    name: "openai",
    async generate(request) {
      const c = await client();
      if (useResponses) {
        const body = responsesBody(request) as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
        return parseResponse((await c.responses.create(body, { signal: request.signal })) as unknown as ResponseWire);
      }
      const body = chatBody(request) as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
      return parseChatCompletion((await c.chat.completions.create(body, { signal: request.signal })) as unknown as ChatCompletionWire);
    },
    async stream(request) {
      const c = await client();
      if (useResponses) {
        const body = { ...responsesBody(request), stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming;
        const events = await c.responses.create(body, { signal: request.signal });
        return responsesStream(events as unknown as AsyncIterable<ResponsesStreamEventWire>);
      }
      const body = {
        ...chatBody(request),
        stream: true,
        // Without this the stream carries no usage and the call could not be priced.
        stream_options: { include_usage: true },
      } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming;
      const chunks = await c.chat.completions.create(body, { signal: request.signal });
      return chatStream(chunks as unknown as AsyncIterable<ChatCompletionChunkWire>);
    },
    async embed(request) {
      const c = await client();
      const body = { model: request.modelId, input: request.texts, ...request.providerOptions } as OpenAI.EmbeddingCreateParams;
      const response = await c.embeddings.create(body, { signal: request.signal });
      const embeddings = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      return { embeddings, usage: makeUsage({ inputTokens: response.usage.prompt_tokens }) };
    },
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
    describeError: describeStainlessError,
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

// Chat Completions --------------------------------------------------------------------------------

function chatBody(request: Omit<ChatRequest, "signal">): Record<string, unknown> {
  const messages: Record<string, unknown>[] = request.system ? [{ role: "system", content: request.system }] : [];
  for (const m of request.messages) {
    if (m.role === "user") messages.push({ role: "user", content: m.content });
    else if (m.role === "assistant") {
      messages.push({
        role: "assistant",
        content: m.content || null,
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: "function",
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
              })),
            }
          : {}),
      });
    } else {
      for (const r of m.results) messages.push({ role: "tool", tool_call_id: r.toolCallId, content: r.content });
    }
  }
  return {
    model: request.modelId,
    messages,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { max_completion_tokens: request.maxTokens } : {}),
    ...(request.tools?.length
      ? {
          tools: request.tools.map((t) => ({
            type: "function",
            function: { name: t.name, description: t.description, parameters: t.parameters },
          })),
        }
      : {}),
    ...(request.jsonSchema
      ? { response_format: { type: "json_schema", json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema } } }
      : {}),
    ...request.providerOptions,
  };
}

interface ChatUsageWire {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

interface ChatCompletionWire {
  choices: {
    finish_reason: string | null;
    message: {
      content: string | null;
      refusal?: string | null;
      tool_calls?: { id: string; type: string; function?: { name: string; arguments: string } }[] | null;
    };
  }[];
  usage?: ChatUsageWire | null;
}

interface ChatCompletionChunkWire {
  choices: {
    finish_reason: string | null;
    delta: {
      content?: string | null;
      refusal?: string | null;
      tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
  }[];
  usage?: ChatUsageWire | null;
}

function chatUsage(usage: ChatUsageWire | null | undefined): TokenUsage {
  return makeUsage({
    inputTokens: usage?.prompt_tokens ?? 0,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteInputTokens: usage?.prompt_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  });
}

function chatFinish(reason: string | null | undefined, refusal: string | null | undefined): FinishReason {
  if (refusal) return "content-filter";
  switch (reason) {
    case "stop":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool-calls";
    case "content_filter":
      return "content-filter";
    default:
      return "other";
  }
}

function parseChatCompletion(completion: ChatCompletionWire): ChatResponse {
  const choice = completion.choices[0];
  const message = choice?.message;
  const toolCalls: RawToolCall[] = (message?.tool_calls ?? [])
    .filter((c) => c.function)
    .map((c) => ({ id: c.id, name: c.function!.name, arguments: parseJsonLenient(c.function!.arguments) }));
  const refusal = message?.refusal ?? (choice?.finish_reason === "content_filter" ? "content_filter" : undefined);
  return {
    text: message?.content ?? "",
    toolCalls,
    finishReason: chatFinish(choice?.finish_reason, message?.refusal),
    refusal: refusal ?? undefined,
    usage: chatUsage(completion.usage),
  };
}

async function* chatStream(chunks: AsyncIterable<ChatCompletionChunkWire>): AsyncIterable<StreamEvent> {
  let text = "";
  let refusal = "";
  let finish: string | null = null;
  let usage: ChatUsageWire | null | undefined;
  const calls: { id: string; name: string; arguments: string }[] = [];
  for await (const chunk of chunks) {
    // The usage chunk comes last with no choices; it is the total, never a delta to add up.
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    finish = choice.finish_reason ?? finish;
    if (choice.delta.refusal) refusal += choice.delta.refusal;
    if (choice.delta.content) {
      text += choice.delta.content;
      yield { type: "text", text: choice.delta.content };
    }
    for (const delta of choice.delta.tool_calls ?? []) {
      const call = (calls[delta.index] ??= { id: "", name: "", arguments: "" });
      call.id ||= delta.id ?? "";
      call.name += delta.function?.name ?? "";
      call.arguments += delta.function?.arguments ?? "";
    }
  }
  yield {
    type: "done",
    response: {
      text,
      toolCalls: calls.map((c) => ({ id: c.id, name: c.name, arguments: parseJsonLenient(c.arguments) })),
      finishReason: chatFinish(finish, refusal || undefined),
      refusal: refusal || (finish === "content_filter" ? "content_filter" : undefined),
      usage: chatUsage(usage),
    },
  };
}

// Responses API -----------------------------------------------------------------------------------

function responsesBody(request: Omit<ChatRequest, "signal">): Record<string, unknown> {
  const input: unknown[] = [];
  for (const m of request.messages) {
    if (m.role === "user") input.push({ role: "user", content: m.content });
    else if (m.role === "assistant") {
      if (Array.isArray(m.providerContent)) input.push(...m.providerContent);
      else {
        if (m.content) input.push({ role: "assistant", content: m.content });
        for (const c of m.toolCalls ?? []) {
          input.push({ type: "function_call", call_id: c.id, name: c.name, arguments: JSON.stringify(c.arguments) });
        }
      }
    } else {
      for (const r of m.results) input.push({ type: "function_call_output", call_id: r.toolCallId, output: r.content });
    }
  }
  return {
    model: request.modelId,
    input,
    ...(request.system ? { instructions: request.system } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { max_output_tokens: request.maxTokens } : {}),
    ...(request.tools?.length
      ? {
          tools: request.tools.map((t) => ({
            type: "function",
            name: t.name,
            description: t.description,
            parameters: t.parameters,
            strict: false,
          })),
        }
      : {}),
    ...(request.jsonSchema
      ? { text: { format: { type: "json_schema", name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: false } } }
      : {}),
    ...request.providerOptions,
  };
}

interface ResponseWire {
  status?: string;
  incomplete_details?: { reason?: string } | null;
  output: {
    type: string;
    content?: { type: string; text?: string; refusal?: string }[];
    summary?: { type: string; text: string }[];
    call_id?: string;
    name?: string;
    arguments?: string;
  }[];
  usage?: {
    input_tokens: number;
    output_tokens: number;
    input_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
    output_tokens_details?: { reasoning_tokens?: number };
  } | null;
}

type ResponsesStreamEventWire =
  | { type: "response.output_text.delta"; delta: string }
  | { type: "response.reasoning_summary_text.delta"; delta: string }
  | { type: "response.completed" | "response.incomplete"; response: ResponseWire }
  | { type: string };

function parseResponse(response: ResponseWire): ChatResponse {
  const parts = response.output.flatMap((item) => (item.type === "message" ? (item.content ?? []) : []));
  const text = parts.filter((p) => p.type === "output_text").map((p) => p.text ?? "").join("");
  const refusal = parts.filter((p) => p.type === "refusal").map((p) => p.refusal ?? "").join("") || undefined;
  const reasoning = response.output
    .filter((item) => item.type === "reasoning")
    .flatMap((item) => (item.summary ?? []).map((s) => s.text))
    .join("\n");
  const toolCalls = response.output
    .filter((item) => item.type === "function_call")
    .map((item) => ({ id: item.call_id ?? "", name: item.name ?? "", arguments: parseJsonLenient(item.arguments) }));
  const incomplete = response.incomplete_details?.reason;
  const filtered = refusal !== undefined || incomplete === "content_filter";
  const finishReason: FinishReason = filtered
    ? "content-filter"
    : incomplete === "max_output_tokens"
      ? "length"
      : toolCalls.length
        ? "tool-calls"
        : "stop";
  const u = response.usage;
  return {
    text,
    reasoning: reasoning || undefined,
    toolCalls,
    finishReason,
    refusal: refusal ?? (filtered ? "content_filter" : undefined),
    // Replaying the output items keeps reasoning items attached to their function calls.
    providerContent: response.output,
    usage: makeUsage({
      inputTokens: u?.input_tokens ?? 0,
      cachedInputTokens: u?.input_tokens_details?.cached_tokens ?? 0,
      cacheWriteInputTokens: u?.input_tokens_details?.cache_write_tokens ?? 0,
      outputTokens: u?.output_tokens ?? 0,
      reasoningTokens: u?.output_tokens_details?.reasoning_tokens ?? 0,
    }),
  };
}

async function* responsesStream(events: AsyncIterable<ResponsesStreamEventWire>): AsyncIterable<StreamEvent> {
  for await (const event of events) {
    if (event.type === "response.output_text.delta" && "delta" in event) yield { type: "text", text: event.delta };
    else if (event.type === "response.reasoning_summary_text.delta" && "delta" in event) {
      yield { type: "reasoning", text: event.delta };
    } else if ((event.type === "response.completed" || event.type === "response.incomplete") && "response" in event) {
      yield { type: "done", response: parseResponse(event.response) };
      return;
    }
  }
  throw new AIError("OpenAI response stream ended without a response.completed event");
}

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
