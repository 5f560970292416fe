/** Gemini generateContent request parameters and response parsing; loads no SDK. */

import { makeUsage } from "../pricing.js";
import type { FinishReason } from "../types.js";
import type { ChatRequest, ChatResponse, StreamEvent } from "./types.js";

export function generateParams(request: Omit<ChatRequest, "signal"> & { signal?: AbortSignal }): { model: string; contents: unknown[]; config: Record<string, unknown> } {
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

export interface ResponseWire {
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

export function parseResponse(response: ResponseWire): ChatResponse {
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

export async function* responseStream(chunks: AsyncIterable<ResponseWire>): AsyncIterable<StreamEvent> {
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
