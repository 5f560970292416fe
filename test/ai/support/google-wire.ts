/** Gemini API response bodies, shaped like the REST reference (usageMetadata included). */

import { DEFAULT_USAGE, replyText, type FakeReply, type WireUsage } from "./reply.js";

export function usageMetadata(u: WireUsage = DEFAULT_USAGE) {
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output,
    totalTokenCount: u.input + u.output + (u.reasoning ?? 0),
    ...(u.cached ? { cachedContentTokenCount: u.cached } : {}),
    ...(u.reasoning ? { thoughtsTokenCount: u.reasoning } : {}),
    promptTokensDetails: [{ modality: "TEXT", tokenCount: u.input }],
  };
}

function partsOf(reply: FakeReply): Record<string, unknown>[] {
  const parts: Record<string, unknown>[] = [];
  if (reply.reasoning) parts.push({ text: reply.reasoning, thought: true });
  const text = replyText(reply);
  if (text) parts.push({ text });
  for (const call of reply.toolCalls ?? []) parts.push({ functionCall: { name: call.name, args: call.args } });
  return parts;
}

export function generateContentResponse(model: string, reply: FakeReply) {
  if (reply.finish === "refusal") {
    // A blocked prompt: no candidates, only the feedback.
    return {
      promptFeedback: { blockReason: "SAFETY", safetyRatings: [{ category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH" }] },
      usageMetadata: usageMetadata({ ...(reply.usage ?? DEFAULT_USAGE), output: 0 }),
      modelVersion: model,
      responseId: "resp-blocked",
    };
  }
  const finishReason = reply.finish === "filter" ? "SAFETY" : reply.finish === "length" ? "MAX_TOKENS" : "STOP";
  return {
    candidates: [{ content: { parts: partsOf(reply), role: "model" }, finishReason, index: 0 }],
    usageMetadata: usageMetadata(reply.usage),
    modelVersion: model,
    responseId: `resp-${Math.abs(hashOf(replyText(reply))).toString(36)}`,
  };
}

/** Streamed chunks: each carries the running usageMetadata; the last one is the total. */
export function generateContentChunks(model: string, reply: FakeReply): unknown[] {
  const u = reply.usage ?? DEFAULT_USAGE;
  const pieces = [...(reply.reasoning ? [{ text: reply.reasoning, thought: true }] : [])];
  for (const piece of replyText(reply).match(/\S+\s*/g) ?? []) pieces.push({ text: piece, thought: false });
  return pieces.map((part, i) => {
    const last = i === pieces.length - 1;
    const soFar = Math.max(1, Math.round(((i + 1) / pieces.length) * u.output));
    return {
      candidates: [
        {
          content: { parts: [part.thought ? part : { text: part.text }], role: "model" },
          ...(last ? { finishReason: "STOP" } : {}),
          index: 0,
        },
      ],
      usageMetadata: usageMetadata({ ...u, output: last ? u.output : soFar }),
      modelVersion: model,
    };
  });
}

export interface GeminiBatchState {
  name: string;
  model: string;
  done: boolean;
  responses: unknown[];
  total: number;
}

export function batchOperation(b: GeminiBatchState) {
  const metadata = {
    "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
    model: `models/${b.model}`,
    displayName: "stageflow-batch",
    createTime: "2025-10-01T11:00:00Z",
    updateTime: "2025-10-01T12:00:00Z",
    batchStats: b.done
      ? { requestCount: String(b.total), successfulRequestCount: String(b.total) }
      : { requestCount: String(b.total), pendingRequestCount: String(b.total) },
    state: b.done ? "BATCH_STATE_SUCCEEDED" : "BATCH_STATE_PENDING",
    name: b.name,
    ...(b.done ? { output: { inlinedResponses: { inlinedResponses: b.responses } } } : {}),
  };
  return {
    name: b.name,
    metadata,
    ...(b.done
      ? {
          done: true,
          response: {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
            inlinedResponses: { inlinedResponses: b.responses },
          },
        }
      : {}),
  };
}

export function errorBody(status: number, message: string, retryDelaySeconds?: number) {
  const statusName = status === 429 ? "RESOURCE_EXHAUSTED" : status === 503 ? "UNAVAILABLE" : status >= 500 ? "INTERNAL" : "INVALID_ARGUMENT";
  const details =
    retryDelaySeconds !== undefined
      ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryDelaySeconds}s` }]
      : [];
  return { error: { code: status, message, status: statusName, details } };
}

function hashOf(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) | 0;
  return h;
}
