/** Anthropic Messages request bodies and response parsing; loads no SDK. */

import { makeUsage } from "../pricing.js";
import type { FinishReason } from "../types.js";
import type { ChatRequest, ChatResponse, JsonSchema, StreamEvent } from "./types.js";

/** Anthropic requires `max_tokens`; this is used when the caller gives none. */
const DEFAULT_MAX_TOKENS = 4096;

/**
 * Structured output uses a forced tool call whose input is the object: the documented way to get
 * JSON that follows a schema. Tool inputs must be objects, so other schemas are wrapped in `value`.
 */
function jsonTool(schema: JsonSchema, name: string): { tool: Record<string, unknown>; wrapped: boolean } {
  const wrapped = schema.type !== "object";
  const input_schema = wrapped ? { type: "object", properties: { value: schema }, required: ["value"] } : schema;
  return { tool: { name, description: "Reply by calling this tool with the answer.", input_schema }, wrapped };
}

export function messagesBody(request: Omit<ChatRequest, "signal">): Record<string, unknown> {
  const messages = request.messages.map((m) => {
    if (m.role === "user") return { role: "user", content: m.content };
    if (m.role === "assistant") {
      if (Array.isArray(m.providerContent)) return { role: "assistant", content: m.providerContent };
      const content: unknown[] = m.content ? [{ type: "text", text: m.content }] : [];
      for (const c of m.toolCalls ?? []) content.push({ type: "tool_use", id: c.id, name: c.name, input: c.arguments });
      return { role: "assistant", content };
    }
    return {
      role: "user",
      content: m.results.map((r) => ({ type: "tool_result", tool_use_id: r.toolCallId, content: r.content, is_error: r.isError })),
    };
  });
  const tools = (request.tools ?? []).map((t) => ({ name: t.name, description: t.description, input_schema: t.parameters }));
  const json = request.jsonSchema ? jsonTool(request.jsonSchema.schema, request.jsonSchema.name) : undefined;
  // Extended thinking only allows tool_choice "auto": the tool is then requested in the system prompt.
  const thinking = (request.providerOptions?.thinking as { type?: string } | undefined)?.type === "enabled";
  const askForTool = json && thinking ? `Reply by calling the ${request.jsonSchema!.name} tool.` : undefined;
  const system = [request.system, askForTool].filter(Boolean).join("\n\n");
  return {
    model: request.modelId,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system ? { system } : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(json
      ? { tools: [...tools, json.tool], tool_choice: thinking ? { type: "auto" } : { type: "tool", name: request.jsonSchema!.name } }
      : {}),
    ...(!json && tools.length ? { tools } : {}),
    ...request.providerOptions,
  };
}

interface UsageWire {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number } | null;
}

type ContentBlockWire =
  | { type: "text"; text: string }
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: string };

export interface MessageWire {
  content: ContentBlockWire[];
  stop_reason: string | null;
  usage: UsageWire;
}

export function parseMessage(message: MessageWire, request: Omit<ChatRequest, "signal">): ChatResponse {
  let text = "";
  let reasoning = "";
  const toolCalls: ChatResponse["toolCalls"] = [];
  for (const block of message.content) {
    if (block.type === "text" && "text" in block) text += block.text;
    else if (block.type === "thinking" && "thinking" in block) reasoning += block.thinking;
    else if (block.type === "tool_use" && "input" in block) {
      if (request.jsonSchema && block.name === request.jsonSchema.name) {
        const wrapped = request.jsonSchema.schema.type !== "object";
        text = JSON.stringify(wrapped ? (block.input as { value?: unknown })?.value : block.input);
      } else toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
    }
  }
  const u = message.usage;
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  const finishReason = finishOf(message.stop_reason, toolCalls.length > 0);
  return {
    text,
    reasoning: reasoning || undefined,
    toolCalls,
    finishReason,
    refusal: finishReason === "content-filter" ? text || "refusal" : undefined,
    // Thinking blocks must be sent back unchanged when a tool loop continues.
    providerContent: message.content,
    usage: makeUsage({
      // Anthropic's input_tokens excludes cache reads and writes; ours counts every prompt token.
      inputTokens: (u.input_tokens ?? 0) + cacheRead + cacheWrite,
      cachedInputTokens: cacheRead,
      cacheWriteInputTokens: cacheWrite,
      outputTokens: u.output_tokens ?? 0,
      reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
    }),
  };
}

function finishOf(stopReason: string | null, calledTools: boolean): FinishReason {
  switch (stopReason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return calledTools ? "tool-calls" : "stop";
    case "refusal":
      return "content-filter";
    default:
      return "other";
  }
}

export type StreamEventWire =
  | { type: "message_start"; message: MessageWire }
  | { type: "content_block_start"; index: number; content_block: ContentBlockWire }
  | {
      type: "content_block_delta";
      index: number;
      delta:
        | { type: "text_delta"; text: string }
        | { type: "thinking_delta"; thinking: string }
        | { type: "signature_delta"; signature: string }
        | { type: "input_json_delta"; partial_json: string };
    }
  | { type: "content_block_stop"; index: number }
  | { type: "message_delta"; delta: { stop_reason: string | null }; usage: UsageWire }
  | { type: "message_stop" }
  | { type: "ping" };

export async function* messageStream(
  events: AsyncIterable<StreamEventWire>,
  request: Omit<ChatRequest, "signal">,
): AsyncIterable<StreamEvent> {
  let usage: UsageWire = {};
  let stopReason: string | null = null;
  const blocks: Record<string, unknown>[] = [];
  const partialJson: string[] = [];
  for await (const event of events) {
    switch (event.type) {
      case "message_start":
        usage = { ...event.message.usage };
        break;
      case "content_block_start":
        blocks[event.index] = { ...event.content_block };
        break;
      case "content_block_delta": {
        const block = blocks[event.index];
        const d = event.delta;
        if (d.type === "text_delta") {
          block.text = `${block.text ?? ""}${d.text}`;
          if (!request.jsonSchema) yield { type: "text", text: d.text };
        } else if (d.type === "thinking_delta") {
          block.thinking = `${block.thinking ?? ""}${d.thinking}`;
          yield { type: "reasoning", text: d.thinking };
        } else if (d.type === "signature_delta") block.signature = d.signature;
        else if (d.type === "input_json_delta") partialJson[event.index] = (partialJson[event.index] ?? "") + d.partial_json;
        break;
      }
      case "content_block_stop":
        if (partialJson[event.index] !== undefined) blocks[event.index].input = JSON.parse(partialJson[event.index] || "{}");
        break;
      case "message_delta":
        stopReason = event.delta.stop_reason ?? stopReason;
        // message_delta usage is cumulative: it replaces the start figures, it is not added to them.
        for (const [k, v] of Object.entries(event.usage ?? {})) if (v !== null && v !== undefined) (usage as Record<string, unknown>)[k] = v;
        break;
    }
  }
  const message: MessageWire = { content: blocks as ContentBlockWire[], stop_reason: stopReason, usage };
  yield { type: "done", response: parseMessage(message, request) };
}
