import type { ProviderName } from "../types.js";

/** Prices in US dollars per million tokens. */
export interface ModelPricing {
  inputPerMillion: number;
  outputPerMillion: number;
  /** Price of prompt tokens read from the provider's cache. @default inputPerMillion */
  cachedInputPerMillion?: number;
  /** Price of prompt tokens written to the cache (Anthropic). @default inputPerMillion */
  cacheWritePerMillion?: number;
  /** Fraction taken off every price for batch jobs: 0.5 means batch costs half. */
  batchDiscount: number;
  /** Higher prices that apply to the whole request once the prompt exceeds a size (Gemini Pro). */
  longContext?: {
    aboveInputTokens: number;
    inputPerMillion: number;
    outputPerMillion: number;
    cachedInputPerMillion?: number;
  };
}

/** One catalog entry. */
export interface ModelSpec {
  /** What callers pass: `<provider>/<name>`, e.g. `openai/gpt-4.1-mini`. */
  key: string;
  provider: ProviderName;
  /** The id sent to the provider's API. */
  providerModelId: string;
  kind: "text" | "embedding";
  contextWindow: number;
  pricing: ModelPricing;
  /** Where the figures come from and when they were read. */
  source: { url: string; checkedAt: string; note?: string };
  /** Offline (`local/...`) models: no network, no key, simulated prices. */
  offline?: boolean;
}
