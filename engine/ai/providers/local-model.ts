/**
 * The offline model behind `local/...`: deterministic answers, JSON that satisfies a schema,
 * one tool call then an answer, feature-hashed embeddings. Token counts are estimated.
 */

import { makeUsage } from "../pricing.js";
import { estimateTokens } from "../tokens.js";
import type { ChatRequest, ChatResponse, ConversationMessage, EmbedRequest, EmbedResponse, JsonSchema, StreamEvent } from "./types.js";

const EMBEDDING_DIMENSIONS = 64;

export function answer(request: Omit<ChatRequest, "signal">): ChatResponse {
  const promptText = renderPrompt(request);
  const lastUser = lastUserMessage(request.messages);
  const seed = hash(`${request.modelId}\n${promptText}`);
  const inputTokens = estimateTokens(promptText);
  const done = (text: string, extra: Partial<ChatResponse> = {}): ChatResponse => ({
    text,
    toolCalls: [],
    finishReason: "stop",
    usage: makeUsage({ inputTokens, outputTokens: estimateTokens(text) }),
    ...extra,
  });

  if (lastUser.includes("[local:refuse]")) {
    const refusal = "I can't help with that request.";
    return done(refusal, { finishReason: "content-filter", refusal });
  }
  const last = request.messages[request.messages.length - 1];
  if (request.tools?.length && last?.role === "user") {
    const tool = request.tools.find((t) => lastUser.includes(t.name)) ?? request.tools[0];
    const args = valueFor(tool.parameters, seed, lastUser, "");
    const response = done("", { finishReason: "tool-calls" });
    const toolCalls = [{ id: `local_call_${seed.toString(16)}`, name: tool.name, arguments: args }];
    const outputTokens = estimateTokens(JSON.stringify(args));
    return { ...response, toolCalls, usage: makeUsage({ inputTokens, outputTokens }) };
  }
  if (last?.role === "tool") {
    const summary = last.results.map((r) => `${r.name} returned ${r.content}`).join("; ");
    return done(`Based on the tools: ${summary}.`);
  }
  if (request.jsonSchema) return done(JSON.stringify(valueFor(request.jsonSchema.schema, seed, lastUser, "")));
  return done(`[offline local/${request.modelId}] ${summarize(lastUser)}`);
}

function renderPrompt(request: Omit<ChatRequest, "signal">): string {
  const parts = request.system ? [request.system] : [];
  for (const m of request.messages) {
    if (m.role === "tool") parts.push(...m.results.map((r) => r.content));
    else parts.push(m.content, ...(m.role === "assistant" ? (m.toolCalls ?? []).map((c) => JSON.stringify(c.arguments)) : []));
  }
  if (request.tools) parts.push(JSON.stringify(request.tools));
  if (request.jsonSchema) parts.push(JSON.stringify(request.jsonSchema.schema));
  return parts.join("\n");
}

export function lastUserMessage(messages: readonly ConversationMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role === "user") return m.content;
  }
  return "";
}

/** The first words of the prompt: a stand-in summary that visibly depends on the input. */
function summarize(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const head = words.slice(0, 24).join(" ");
  return words.length > 24 ? `${head} ...` : head;
}

export async function* streamOf(response: ChatResponse): AsyncIterable<StreamEvent> {
  for (const piece of response.text.match(/\S+\s*/g) ?? []) yield { type: "text", text: piece };
  yield { type: "done", response };
}

/** Feature-hashed bag of words: texts sharing words get close vectors, which is enough for demos. */
export function embedOffline(request: EmbedRequest): EmbedResponse {
  const dimensions = Number(request.providerOptions?.dimensions ?? EMBEDDING_DIMENSIONS);
  const embeddings = request.texts.map((text) => {
    const vector = new Array<number>(dimensions).fill(0);
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const h = hash(word);
      vector[h % dimensions] += h & 0x10000 ? 1 : -1;
    }
    const norm = Math.hypot(...vector) || 1;
    return vector.map((x) => x / norm);
  });
  const inputTokens = request.texts.reduce((sum, t) => sum + estimateTokens(t), 0);
  return { embeddings, usage: makeUsage({ inputTokens }) };
}

/**
 * A value that satisfies a JSON schema, derived from the prompt so different inputs give different
 * values. Covers what `z.toJSONSchema` emits for plain objects, arrays, enums and primitives.
 */
function valueFor(schema: JsonSchema, seed: number, prompt: string, key: string): unknown {
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[seed % schema.enum.length];
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(variants)) {
    const nonNull = variants.find((v) => v.type !== "null") ?? variants[0];
    return valueFor(nonNull, seed, prompt, key);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(
        Object.entries(properties).map(([name, sub], i) => [name, valueFor(sub, hash(`${seed}:${name}:${i}`), prompt, name)]),
      );
    }
    case "array": {
      const min = Number(schema.minItems ?? 1);
      const max = Number(schema.maxItems ?? Math.max(min, 3));
      const count = Math.min(max, Math.max(min, 1 + (seed % 3)));
      const items = (schema.items ?? {}) as JsonSchema;
      return Array.from({ length: count }, (_, i) => valueFor(items, hash(`${seed}:${i}`), prompt, key));
    }
    case "integer":
    case "number": {
      const min = Number(schema.minimum ?? schema.exclusiveMinimum ?? 0);
      const max = Number(schema.maximum ?? schema.exclusiveMaximum ?? min + 100);
      const value = min + (seed % 1000) / 1000 * (max - min);
      return type === "integer" ? Math.min(Math.floor(max), Math.max(Math.ceil(min), Math.round(value))) : value;
    }
    case "boolean":
      return seed % 2 === 0;
    case "null":
      return null;
    default: {
      const text = `${key ? `${key}: ` : ""}${summarize(prompt) || "offline"}`;
      const minLength = Number(schema.minLength ?? 0);
      const maxLength = Number(schema.maxLength ?? Infinity);
      return text.padEnd(minLength, ".").slice(0, maxLength);
    }
  }
}

/** FNV-1a, 32 bits: stable across processes and platforms. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
