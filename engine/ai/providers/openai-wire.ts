/** OpenAI request bodies and response parsing (Chat Completions and Responses API); loads no SDK. */

import { AIError } from "../errors.js";
import { makeUsage } from "../pricing.js";
import type { FinishReason, TokenUsage } from "../types.js";
import { parseJsonLenient } from "./sdk.js";
import type { ChatRequest, ChatResponse, RawToolCall, StreamEvent } from "./types.js";

// Chat Completions --------------------------------------------------------------------------------

export function chatBody(request: Omit<ChatRequest, "signal">): Record<string, unknown> {
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

export interface ChatUsageWire {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface ChatCompletionWire {
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

export interface ChatCompletionChunkWire {
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

export function chatUsage(usage: ChatUsageWire | null | undefined): TokenUsage {
  return makeUsage({
    inputTokens: usage?.prompt_tokens ?? 0,
    cachedInputTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteInputTokens: usage?.prompt_tokens_details?.cache_write_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    reasoningTokens: usage?.completion_tokens_details?.reasoning_tokens ?? 0,
  });
}

export function chatFinish(reason: string | null | undefined, refusal: string | null | undefined): FinishReason {
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

export function parseChatCompletion(completion: ChatCompletionWire): ChatResponse {
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

export async function* chatStream(chunks: AsyncIterable<ChatCompletionChunkWire>): AsyncIterable<StreamEvent> {
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

export function responsesBody(request: Omit<ChatRequest, "signal">): Record<string, unknown> {
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

export interface ResponseWire {
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

export type ResponsesStreamEventWire =
  | { type: "response.output_text.delta"; delta: string }
  | { type: "response.reasoning_summary_text.delta"; delta: string }
  | { type: "response.completed" | "response.incomplete"; response: ResponseWire }
  | { type: string };

export function parseResponse(response: ResponseWire): ChatResponse {
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

export async function* responsesStream(events: AsyncIterable<ResponsesStreamEventWire>): AsyncIterable<StreamEvent> {
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
