/** What every helper operation shares: the topic, the logger, the providers and retry settings. */

import type { AICallLogger } from "../core/ai-call-logger.js";
import { ContentFilterError, UnsupportedModelOperationError } from "./errors.js";
import { resolveModel } from "./models/catalog.js";
import type { ModelSpec } from "./models/types.js";
import { costSourceOf, toCallRecord, type CallToRecord } from "./recording.js";
import { withRetries, type RetryOptions } from "./retry.js";
import type { ProviderRegistry } from "./providers/registry.js";
import type { ChatRequest, ChatResponse, ConversationMessage, Provider } from "./providers/types.js";
import type { AIMessage, CallResultBase, Prompt, ProviderOptions, TokenUsage } from "./types.js";

export interface HelperRuntime {
  topic: string;
  logger: AICallLogger;
  providers: ProviderRegistry;
  retry: RetryOptions;
}

/** Options every text call accepts. */
export interface CallOptions {
  /** System prompt. */
  system?: string;
  temperature?: number;
  /** Upper bound on generated tokens. */
  maxTokens?: number;
  /** Cancels the request (pass `ctx.signal` in a stage so a cancelled run stops paying). */
  signal?: AbortSignal;
  /** Overrides the helper's retry settings for this call. */
  retry?: RetryOptions;
  /** Merged into the provider's request body, e.g. `{ openai: { reasoning_effort: "low" } }`. */
  providerOptions?: ProviderOptions;
  /** Stored with the call record. */
  metadata?: Record<string, unknown>;
}

export interface ResolvedModel {
  spec: ModelSpec;
  provider: Provider;
}

/** Looks the model up and loads its provider; rejects models of the wrong kind. */
export async function resolve(rt: HelperRuntime, modelKey: string, kind: ModelSpec["kind"]): Promise<ResolvedModel> {
  const spec = resolveModel(modelKey);
  if (spec.kind !== kind) {
    throw new UnsupportedModelOperationError(
      kind === "embedding"
        ? `${spec.key} is a text model; embed() needs an embedding model such as openai/text-embedding-3-small`
        : `${spec.key} is an embedding model; use it with embed()`,
    );
  }
  return { spec, provider: await rt.providers.get(spec.provider) };
}

/** The provider request for a prompt and options. */
export function chatRequest(spec: ModelSpec, messages: ConversationMessage[], options: CallOptions): ChatRequest {
  return {
    modelId: spec.providerModelId,
    messages,
    system: options.system,
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    signal: options.signal,
    providerOptions: options.providerOptions?.[spec.provider],
  };
}

/** One provider request, retried on 429 / 5xx. */
export function send(rt: HelperRuntime, model: ResolvedModel, request: ChatRequest, options: CallOptions): Promise<ChatResponse> {
  return withRetries(model.provider, { ...rt.retry, ...options.retry }, options.signal, () => model.provider.generate(request));
}

/** Logs one call under the helper's topic and returns its cost. */
export async function record(rt: HelperRuntime, call: Omit<CallToRecord, "topic">): Promise<number> {
  const entry = toCallRecord({ ...call, topic: rt.topic });
  await rt.logger.logCall(entry);
  return entry.cost;
}

/** Refusals and filtered answers become a typed error, after their tokens were recorded. */
export function assertNotFiltered(spec: ModelSpec, response: ChatResponse): void {
  if (response.finishReason === "content-filter") throw new ContentFilterError(spec.key, response.refusal || "content filter");
}

export function toConversation(prompt: Prompt): ConversationMessage[] {
  if (typeof prompt === "string") return [{ role: "user", content: prompt }];
  return prompt.map((m: AIMessage) => ({ role: m.role, content: m.content }));
}

/** The prompt as stored in the call record. */
export function renderForLog(system: string | undefined, messages: readonly ConversationMessage[]): string {
  const lines = system ? [`[system] ${system}`] : [];
  for (const m of messages) {
    if (m.role === "tool") lines.push(...m.results.map((r) => `[tool ${r.name}] ${r.content}`));
    else lines.push(m.role === "user" ? m.content : `[assistant] ${m.content}`);
  }
  return lines.join("\n");
}

export function resultBase(spec: ModelSpec, usage: TokenUsage, cost: number, usageEstimated = false): CallResultBase {
  return { modelKey: spec.key, usage, cost, costSource: costSourceOf(spec, usageEstimated), offline: spec.offline === true };
}
