/** Public types shared by the AI helper, the providers and the batch clients. */

/** Providers stageflow speaks to. `local` is the offline, deterministic provider. */
export type ProviderName = "openai" | "anthropic" | "google" | "local";

export const PROVIDER_NAMES: readonly ProviderName[] = ["openai", "anthropic", "google", "local"];

/** Token counts of one model request, normalised across providers. */
export interface TokenUsage {
  /** Every prompt token, cached or not (OpenAI `prompt_tokens`; Anthropic input + cache read + cache write). */
  inputTokens: number;
  /** Part of `inputTokens` served from the provider's prompt cache (billed at the cached price). */
  cachedInputTokens: number;
  /** Part of `inputTokens` written to the prompt cache (Anthropic bills these above the input price). */
  cacheWriteInputTokens: number;
  /** Every generated token, reasoning included (Gemini `candidates + thoughts`). */
  outputTokens: number;
  /** Part of `outputTokens` spent on hidden reasoning. */
  reasoningTokens: number;
  totalTokens: number;
}

/** Where a recorded cost comes from. */
export type CostSource =
  /** Provider-reported usage times the catalog price. */
  | "catalog"
  /** The offline `local/...` provider: a simulated price, no money is spent. */
  | "simulated"
  /** The provider reported no token count (Gemini embeddings); tokens were estimated from the text. */
  | "estimated";

/** Extra settings passed through untouched to one provider's request body (e.g. reasoning effort). */
export type ProviderOptions = { [P in ProviderName]?: Record<string, unknown> };

/** Why a model stopped generating. */
export type FinishReason = "stop" | "length" | "tool-calls" | "content-filter" | "max-steps" | "other";

/** One message of a conversation given instead of a single prompt string. */
export interface AIMessage {
  role: "user" | "assistant";
  content: string;
}

/** A prompt: a single user message, or a conversation. */
export type Prompt = string | readonly AIMessage[];

/** A function the model asked to call. */
export interface ToolCall {
  id: string;
  name: string;
  /** Arguments as parsed by the tool's schema (or the raw value if they did not parse). */
  args: unknown;
}

export interface ToolResult {
  toolCallId: string;
  name: string;
  result: unknown;
  /** Set when the arguments did not validate or `execute` threw; the model sees the message. */
  error?: string;
}

/** Shared fields of every helper result. */
export interface CallResultBase {
  modelKey: string;
  usage: TokenUsage;
  /** US dollars, from the catalog price of the model (simulated for `local/...` models). */
  cost: number;
  costSource: CostSource;
  /** True for the offline `local/...` provider: no network, no key, deterministic. */
  offline: boolean;
}
