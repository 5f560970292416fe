/** OpenAI response bodies, shaped like the API reference's examples (usage details included). */

import { DEFAULT_USAGE, replyText, type FakeReply, type WireUsage } from "./reply.js";

let counter = 0;
const nextId = (prefix: string) => `${prefix}${(++counter).toString(36).padStart(8, "0")}`;
const now = () => Math.floor(Date.UTC(2025, 9, 1) / 1000);

export function chatUsage(u: WireUsage = DEFAULT_USAGE) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function toolCallsOf(reply: FakeReply) {
  return (reply.toolCalls ?? []).map((c) => ({
    id: c.id ?? nextId("call_"),
    type: "function",
    function: { name: c.name, arguments: JSON.stringify(c.args) },
  }));
}

function finishReason(reply: FakeReply): string {
  if (reply.finish === "filter") return "content_filter";
  if (reply.finish === "length") return "length";
  if (reply.toolCalls?.length) return "tool_calls";
  return "stop";
}

export function chatCompletion(model: string, reply: FakeReply) {
  const toolCalls = toolCallsOf(reply);
  const refusal = reply.finish === "refusal" ? reply.text ?? "I'm sorry, I can't help with that." : null;
  return {
    id: nextId("chatcmpl-"),
    object: "chat.completion",
    created: now(),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: refusal ? null : replyText(reply) || (toolCalls.length ? null : ""),
          refusal,
          annotations: [],
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(reply),
      },
    ],
    usage: chatUsage(reply.usage),
    service_tier: "default",
    system_fingerprint: "fp_fake",
  };
}

/** SSE `data:` payloads of a streamed chat completion, ending with the usage chunk. */
export function chatCompletionChunks(model: string, reply: FakeReply, includeUsage: boolean): unknown[] {
  const id = nextId("chatcmpl-");
  const base = { id, object: "chat.completion.chunk", created: now(), model, system_fingerprint: "fp_fake" };
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const pieces = replyText(reply).match(/\S+\s*/g) ?? [];
  const chunks: unknown[] = [chunk({ role: "assistant", content: "", refusal: null }, null)];
  for (const piece of pieces) chunks.push(chunk({ content: piece }, null));
  toolCallsOf(reply).forEach((call, index) =>
    chunks.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: call.function }] }, null)),
  );
  chunks.push(chunk({}, finishReason(reply)));
  if (includeUsage) chunks.push({ ...base, choices: [], usage: chatUsage(reply.usage) });
  return chunks;
}

export function response(model: string, reply: FakeReply) {
  const u = reply.usage ?? DEFAULT_USAGE;
  const output: unknown[] = [];
  if (reply.reasoning) {
    output.push({ type: "reasoning", id: nextId("rs_"), summary: [{ type: "summary_text", text: reply.reasoning }] });
  }
  const text = replyText(reply);
  if (text || reply.finish === "refusal") {
    output.push({
      type: "message",
      id: nextId("msg_"),
      status: "completed",
      role: "assistant",
      content: [
        reply.finish === "refusal"
          ? { type: "refusal", refusal: text || "I'm sorry, I can't help with that." }
          : { type: "output_text", text, annotations: [], logprobs: [] },
      ],
    });
  }
  for (const call of reply.toolCalls ?? []) {
    output.push({
      type: "function_call",
      id: nextId("fc_"),
      call_id: call.id ?? nextId("call_"),
      name: call.name,
      arguments: JSON.stringify(call.args),
      status: "completed",
    });
  }
  const incomplete = reply.finish === "length" ? "max_output_tokens" : reply.finish === "filter" ? "content_filter" : null;
  return {
    id: nextId("resp_"),
    object: "response",
    created_at: now(),
    status: incomplete ? "incomplete" : "completed",
    error: null,
    incomplete_details: incomplete ? { reason: incomplete } : null,
    model,
    output,
    parallel_tool_calls: true,
    usage: {
      input_tokens: u.input,
      input_tokens_details: { cached_tokens: u.cached ?? 0 },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: u.reasoning ?? 0 },
      total_tokens: u.input + u.output,
    },
  };
}

/** SSE events (`event:` name and `data:` payload) of a streamed Responses API call. */
export function responseEvents(model: string, reply: FakeReply): { event: string; data: unknown }[] {
  const final = response(model, reply);
  const events: { event: string; data: unknown }[] = [];
  let sequence = 0;
  const push = (type: string, fields: Record<string, unknown>) => events.push({ event: type, data: { type, sequence_number: sequence++, ...fields } });
  push("response.created", { response: { ...final, status: "in_progress", output: [], usage: null } });
  if (reply.reasoning) push("response.reasoning_summary_text.delta", { item_id: "rs", output_index: 0, summary_index: 0, delta: reply.reasoning });
  for (const piece of replyText(reply).match(/\S+\s*/g) ?? []) {
    push("response.output_text.delta", { item_id: "msg", output_index: 0, content_index: 0, delta: piece, logprobs: [] });
  }
  push(final.status === "completed" ? "response.completed" : "response.incomplete", { response: final });
  return events;
}

/** The SDK asks for `encoding_format: "base64"` (little-endian float32) unless told otherwise. */
export function embeddings(model: string, vectors: number[][], promptTokens: number, encoding: "float" | "base64") {
  const encode = (v: number[]) => (encoding === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v);
  return {
    object: "list",
    data: vectors.map((embedding, index) => ({ object: "embedding", index, embedding: encode(embedding) })),
    model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

export function fileObject(id: string, bytes: number, filename: string, purpose: string) {
  return { id, object: "file", bytes, created_at: now(), filename, purpose, status: "processed", expires_at: null, status_details: null };
}

export interface OpenAIBatchState {
  id: string;
  inputFileId: string;
  status: "validating" | "in_progress" | "completed" | "failed" | "expired";
  total: number;
  completed: number;
  failed: number;
  outputFileId: string | null;
  errorFileId: string | null;
}

export function batchObject(b: OpenAIBatchState) {
  return {
    id: b.id,
    object: "batch",
    endpoint: "/v1/chat/completions",
    errors: null,
    input_file_id: b.inputFileId,
    completion_window: "24h",
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: now(),
    in_progress_at: b.status === "validating" ? null : now(),
    expires_at: now() + 86_400,
    finalizing_at: null,
    completed_at: b.status === "completed" ? now() : null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: b.total, completed: b.completed, failed: b.failed },
    metadata: null,
  };
}

export function batchOutputLine(customId: string, model: string, reply: FakeReply) {
  return {
    id: nextId("batch_req_"),
    custom_id: customId,
    response: { status_code: 200, request_id: nextId("req_"), body: chatCompletion(model, reply) },
    error: null,
  };
}

export function batchErrorLine(customId: string, message: string) {
  return {
    id: nextId("batch_req_"),
    custom_id: customId,
    response: {
      status_code: 400,
      request_id: nextId("req_"),
      body: { error: { message, type: "invalid_request_error", param: null, code: null } },
    },
    error: null,
  };
}

export function errorBody(status: number, message: string) {
  const type = status === 429 ? "rate_limit_exceeded" : status >= 500 ? "server_error" : "invalid_request_error";
  return { error: { message, type, param: null, code: status === 429 ? "rate_limit_exceeded" : null } };
}
