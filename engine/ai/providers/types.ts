/**
 * The shape every provider adapter has. The helper speaks only this; each adapter translates it to
 * its SDK. Nothing here mentions an SDK type, so importing it loads no SDK.
 */

import type { FinishReason, ProviderName, TokenUsage } from "../types.js";

/** A JSON Schema object, as produced by `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

export interface ToolSpec {
  name: string;
  description?: string;
  parameters: JsonSchema;
}

export interface RawToolCall {
  id: string;
  name: string;
  /** Arguments as the model sent them, JSON-parsed when possible. */
  arguments: unknown;
}

export type ConversationMessage =
  | { role: "user"; content: string }
  | {
      role: "assistant";
      content: string;
      toolCalls?: RawToolCall[];
      /** The provider's own content for this turn, replayed verbatim (thinking blocks, signatures). */
      providerContent?: unknown;
    }
  | { role: "tool"; results: { toolCallId: string; name: string; content: string; isError: boolean }[] };

export interface ChatRequest {
  modelId: string;
  system?: string;
  messages: ConversationMessage[];
  tools?: ToolSpec[];
  /** Ask for JSON matching this schema (the provider's structured-output mode). */
  jsonSchema?: { name: string; schema: JsonSchema };
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
  /** Merged into the provider's request body. */
  providerOptions?: Record<string, unknown>;
}

export interface ChatResponse {
  text: string;
  reasoning?: string;
  toolCalls: RawToolCall[];
  finishReason: FinishReason;
  /** The provider's words when it refused or filtered. */
  refusal?: string;
  usage: TokenUsage;
  providerContent?: unknown;
}

export type StreamEvent =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "done"; response: ChatResponse };

export interface EmbedRequest {
  modelId: string;
  texts: string[];
  signal?: AbortSignal;
  providerOptions?: Record<string, unknown>;
}

export interface EmbedResponse {
  embeddings: number[][];
  usage: TokenUsage;
  /** The provider reported no token count, so it was estimated from the text. */
  usageEstimated?: boolean;
}

export interface BatchItemRequest {
  /** Caller's id for the item: letters, digits, `-` and `_`, at most 64 characters. */
  id: string;
  request: Omit<ChatRequest, "signal">;
}

/** Lifecycle of a provider batch, normalised. */
export type BatchState = "pending" | "running" | "completed" | "failed" | "cancelled" | "expired";

export interface ProviderBatchStatus {
  state: BatchState;
  total: number;
  succeeded: number;
  failed: number;
  /** Why the whole batch failed, when it did. */
  error?: string;
}

export type ProviderBatchItem =
  | { id: string; ok: true; response: ChatResponse }
  | { id: string; ok: false; error: string };

/** What a provider reports about a failed request. */
export interface ProviderErrorInfo {
  status?: number;
  retryAfterMs?: number;
  message: string;
  /** Network failure before any HTTP status. */
  connection?: boolean;
  aborted?: boolean;
}

export interface Provider {
  readonly name: ProviderName;
  generate(request: ChatRequest): Promise<ChatResponse>;
  /** Resolves once the stream is open, so a failure to open it can be retried. */
  stream(request: ChatRequest): Promise<AsyncIterable<StreamEvent>>;
  embed(request: EmbedRequest): Promise<EmbedResponse>;
  submitBatch(modelId: string, items: BatchItemRequest[], signal?: AbortSignal): Promise<string>;
  getBatchStatus(batchId: string, signal?: AbortSignal): Promise<ProviderBatchStatus>;
  /** `jsonSchema` is the one the items were submitted with, so structured answers are read back right. */
  getBatchResults(
    batchId: string,
    options?: { signal?: AbortSignal; jsonSchema?: ChatRequest["jsonSchema"] },
  ): Promise<ProviderBatchItem[]>;
  describeError(error: unknown): ProviderErrorInfo | undefined;
}

/** The batch half of a provider, implemented under `engine/ai/batch/`. */
export type BatchOperations = Pick<Provider, "submitBatch" | "getBatchStatus" | "getBatchResults">;

/** A key given directly, or read when first needed (e.g. from AWS Secrets Manager). */
export type ApiKeySource = string | (() => string | Promise<string>);

export interface ProviderConfig {
  /** @default the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY) */
  apiKey?: ApiKeySource;
  /** Another endpoint (a proxy, a gateway, or a local fake in tests). @default the provider's own */
  baseURL?: string;
  /** Extra HTTP headers on every request. */
  headers?: Record<string, string>;
}

export interface OpenAIProviderConfig extends ProviderConfig {
  /**
   * Which OpenAI API text generation uses. The Responses API returns reasoning summaries.
   * @default "chat"
   */
  api?: "chat" | "responses";
}

export interface LocalProviderConfig {
  /** How long after submission a local batch reports itself completed. @default 0 */
  batchCompletionDelayMs?: number;
  /**
   * The clock simulated batch latency follows. Give the kernel's fake clock (through
   * `configureAIProviders`) to skip through a batch's wait in tests and demos.
   * @default the helper's clock
   */
  clock?: { now(): Date };
}

/** Settings per provider. Anything not given falls back to `configureAIProviders()` then the environment. */
export interface ProvidersConfig {
  openai?: OpenAIProviderConfig;
  anthropic?: ProviderConfig;
  google?: ProviderConfig;
  local?: LocalProviderConfig;
}

/** What a provider factory receives. */
export interface ProviderContext {
  now(): Date;
}
