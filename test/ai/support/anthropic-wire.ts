/** Anthropic response bodies and stream events, shaped like the Messages API reference. */

import { DEFAULT_USAGE, replyText, type FakeReply, type WireUsage } from "./reply.js";

let counter = 0;
const nextId = (prefix: string) => `${prefix}${(++counter).toString(36).padStart(12, "0")}`;

export function usage(u: WireUsage = DEFAULT_USAGE) {
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite ?? 0,
    cache_read_input_tokens: u.cached ?? 0,
    output_tokens: u.output,
    service_tier: "standard",
  };
}

/** `jsonToolName`: the request forced this tool, so `reply.json` is sent as its input. */
function contentOf(reply: FakeReply, jsonToolName: string | undefined): Record<string, unknown>[] {
  const content: Record<string, unknown>[] = [];
  if (reply.reasoning) content.push({ type: "thinking", thinking: reply.reasoning, signature: "sig_fake" });
  if (jsonToolName && reply.json !== undefined) {
    content.push({ type: "tool_use", id: nextId("toolu_"), name: jsonToolName, input: reply.json });
    return content;
  }
  const text = replyText(reply);
  if (text) content.push({ type: "text", text, citations: null });
  for (const call of reply.toolCalls ?? []) content.push({ type: "tool_use", id: call.id ?? nextId("toolu_"), name: call.name, input: call.args });
  return content;
}

function stopReason(reply: FakeReply, jsonToolName: string | undefined): string {
  if (reply.finish === "refusal" || reply.finish === "filter") return "refusal";
  if (reply.finish === "length") return "max_tokens";
  if (reply.toolCalls?.length || (jsonToolName && reply.json !== undefined)) return "tool_use";
  return "end_turn";
}

export function message(model: string, reply: FakeReply, jsonToolName?: string) {
  return {
    id: nextId("msg_"),
    type: "message",
    role: "assistant",
    model,
    content: contentOf(reply, jsonToolName),
    stop_reason: stopReason(reply, jsonToolName),
    stop_sequence: null,
    usage: usage(reply.usage),
  };
}

/** The SSE events of a streamed message, in the documented order (usage in start and delta). */
export function messageEvents(model: string, reply: FakeReply): { event: string; data: unknown }[] {
  const u = usage(reply.usage);
  const events: { event: string; data: unknown }[] = [];
  const push = (type: string, fields: Record<string, unknown>) => events.push({ event: type, data: { type, ...fields } });
  push("message_start", {
    message: {
      id: nextId("msg_"),
      type: "message",
      role: "assistant",
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // The start event reports the input and a provisional output count; the delta has the final one.
      usage: { ...u, output_tokens: 1 },
    },
  });
  push("ping", {});
  let index = 0;
  if (reply.reasoning) {
    push("content_block_start", { index, content_block: { type: "thinking", thinking: "", signature: "" } });
    push("content_block_delta", { index, delta: { type: "thinking_delta", thinking: reply.reasoning } });
    push("content_block_delta", { index, delta: { type: "signature_delta", signature: "sig_fake" } });
    push("content_block_stop", { index });
    index++;
  }
  const text = replyText(reply);
  if (text) {
    push("content_block_start", { index, content_block: { type: "text", text: "" } });
    for (const piece of text.match(/\S+\s*/g) ?? []) push("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
    push("content_block_stop", { index });
    index++;
  }
  for (const call of reply.toolCalls ?? []) {
    push("content_block_start", { index, content_block: { type: "tool_use", id: call.id ?? nextId("toolu_"), name: call.name, input: {} } });
    push("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: JSON.stringify(call.args) } });
    push("content_block_stop", { index });
    index++;
  }
  push("message_delta", {
    delta: { stop_reason: stopReason(reply, undefined), stop_sequence: null },
    usage: { output_tokens: u.output_tokens },
  });
  push("message_stop", {});
  return events;
}

export interface AnthropicBatchState {
  id: string;
  ended: boolean;
  total: number;
  succeeded: number;
  errored: number;
  resultsUrl: string;
}

export function batchObject(b: AnthropicBatchState) {
  return {
    id: b.id,
    type: "message_batch",
    processing_status: b.ended ? "ended" : "in_progress",
    request_counts: {
      processing: b.ended ? 0 : b.total,
      succeeded: b.ended ? b.succeeded : 0,
      errored: b.ended ? b.errored : 0,
      canceled: 0,
      expired: 0,
    },
    ended_at: b.ended ? "2025-10-01T12:00:00Z" : null,
    created_at: "2025-10-01T11:00:00Z",
    expires_at: "2025-10-02T11:00:00Z",
    archived_at: null,
    cancel_initiated_at: null,
    results_url: b.ended ? b.resultsUrl : null,
  };
}

export function batchSucceededLine(customId: string, model: string, reply: FakeReply, jsonToolName?: string) {
  return { custom_id: customId, result: { type: "succeeded", message: message(model, reply, jsonToolName) } };
}

export function batchErroredLine(customId: string, errorMessage: string) {
  return {
    custom_id: customId,
    result: { type: "errored", error: { type: "error", error: { type: "invalid_request_error", message: errorMessage } } },
  };
}

export function errorBody(status: number, errorMessage: string) {
  const type =
    status === 429 ? "rate_limit_error" : status === 529 ? "overloaded_error" : status >= 500 ? "api_error" : "invalid_request_error";
  return { type: "error", error: { type, message: errorMessage } };
}

export { nextId };
