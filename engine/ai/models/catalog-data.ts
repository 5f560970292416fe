/**
 * The model catalog: one entry per model, with its provider id, context window and prices.
 *
 * Prices are US dollars per million tokens, copied from each provider's public pricing page on the
 * date in `source.checkedAt`. They change: check the page before trusting a figure with money,
 * and override an entry with `registerModels()` without waiting for a release.
 */

import type { ModelSpec } from "./types.js";

const OPENAI_PRICING = "https://platform.openai.com/docs/pricing";
const ANTHROPIC_PRICING = "https://docs.anthropic.com/en/docs/about-claude/pricing";
const GOOGLE_PRICING = "https://ai.google.dev/gemini-api/docs/pricing";
const CHECKED = "2025-10-01";

/** OpenAI, Anthropic and Google all halve every token price for batch jobs. */
const HALF_PRICE_BATCH = 0.5;

export const BUILTIN_MODELS: readonly ModelSpec[] = [
  // OpenAI: cached input is part of prompt_tokens and billed at the cached price.
  {
    key: "openai/gpt-5",
    provider: "openai",
    providerModelId: "gpt-5",
    kind: "text",
    contextWindow: 400_000,
    pricing: { inputPerMillion: 1.25, cachedInputPerMillion: 0.125, outputPerMillion: 10, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/gpt-5-mini",
    provider: "openai",
    providerModelId: "gpt-5-mini",
    kind: "text",
    contextWindow: 400_000,
    pricing: { inputPerMillion: 0.25, cachedInputPerMillion: 0.025, outputPerMillion: 2, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/gpt-5-nano",
    provider: "openai",
    providerModelId: "gpt-5-nano",
    kind: "text",
    contextWindow: 400_000,
    pricing: { inputPerMillion: 0.05, cachedInputPerMillion: 0.005, outputPerMillion: 0.4, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/gpt-4.1",
    provider: "openai",
    providerModelId: "gpt-4.1",
    kind: "text",
    contextWindow: 1_047_576,
    pricing: { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/gpt-4.1-mini",
    provider: "openai",
    providerModelId: "gpt-4.1-mini",
    kind: "text",
    contextWindow: 1_047_576,
    pricing: { inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/gpt-4o-mini",
    provider: "openai",
    providerModelId: "gpt-4o-mini",
    kind: "text",
    contextWindow: 128_000,
    pricing: { inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/o4-mini",
    provider: "openai",
    providerModelId: "o4-mini",
    kind: "text",
    contextWindow: 200_000,
    pricing: { inputPerMillion: 1.1, cachedInputPerMillion: 0.275, outputPerMillion: 4.4, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/text-embedding-3-small",
    provider: "openai",
    providerModelId: "text-embedding-3-small",
    kind: "embedding",
    contextWindow: 8_191,
    pricing: { inputPerMillion: 0.02, outputPerMillion: 0, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },
  {
    key: "openai/text-embedding-3-large",
    provider: "openai",
    providerModelId: "text-embedding-3-large",
    kind: "embedding",
    contextWindow: 8_191,
    pricing: { inputPerMillion: 0.13, outputPerMillion: 0, batchDiscount: HALF_PRICE_BATCH },
    source: { url: OPENAI_PRICING, checkedAt: CHECKED },
  },

  // Anthropic: cache reads cost 0.1x input, 5-minute cache writes 1.25x input. Newer models that
  // @anthropic-ai/sdk lists (claude-sonnet-4-6, claude-opus-4-6 and later) are left out until their
  // prices are copied from the pricing page; add them with registerModels().
  {
    key: "anthropic/claude-opus-4-5",
    provider: "anthropic",
    providerModelId: "claude-opus-4-5-20251101",
    kind: "text",
    contextWindow: 200_000,
    pricing: {
      inputPerMillion: 5,
      cachedInputPerMillion: 0.5,
      cacheWritePerMillion: 6.25,
      outputPerMillion: 25,
      batchDiscount: HALF_PRICE_BATCH,
    },
    source: { url: ANTHROPIC_PRICING, checkedAt: "2025-11-24", note: "deprecated by Anthropic, end of life 2027-01-22" },
  },
  {
    key: "anthropic/claude-sonnet-4-5",
    provider: "anthropic",
    providerModelId: "claude-sonnet-4-5-20250929",
    kind: "text",
    contextWindow: 200_000,
    pricing: {
      inputPerMillion: 3,
      cachedInputPerMillion: 0.3,
      cacheWritePerMillion: 3.75,
      outputPerMillion: 15,
      batchDiscount: HALF_PRICE_BATCH,
    },
    source: { url: ANTHROPIC_PRICING, checkedAt: CHECKED, note: "deprecated by Anthropic, end of life 2026-11-30" },
  },
  {
    key: "anthropic/claude-haiku-4-5",
    provider: "anthropic",
    providerModelId: "claude-haiku-4-5-20251001",
    kind: "text",
    contextWindow: 200_000,
    pricing: {
      inputPerMillion: 1,
      cachedInputPerMillion: 0.1,
      cacheWritePerMillion: 1.25,
      outputPerMillion: 5,
      batchDiscount: HALF_PRICE_BATCH,
    },
    source: { url: ANTHROPIC_PRICING, checkedAt: CHECKED },
  },

  // Google: thinking tokens are billed as output; Pro's prices rise above 200k prompt tokens.
  {
    key: "google/gemini-2.5-pro",
    provider: "google",
    providerModelId: "gemini-2.5-pro",
    kind: "text",
    contextWindow: 1_048_576,
    pricing: {
      inputPerMillion: 1.25,
      cachedInputPerMillion: 0.125,
      outputPerMillion: 10,
      batchDiscount: HALF_PRICE_BATCH,
      longContext: { aboveInputTokens: 200_000, inputPerMillion: 2.5, cachedInputPerMillion: 0.25, outputPerMillion: 15 },
    },
    source: { url: GOOGLE_PRICING, checkedAt: CHECKED },
  },
  {
    key: "google/gemini-2.5-flash",
    provider: "google",
    providerModelId: "gemini-2.5-flash",
    kind: "text",
    contextWindow: 1_048_576,
    pricing: { inputPerMillion: 0.3, cachedInputPerMillion: 0.03, outputPerMillion: 2.5, batchDiscount: HALF_PRICE_BATCH },
    source: { url: GOOGLE_PRICING, checkedAt: CHECKED, note: "text/image/video input price" },
  },
  {
    key: "google/gemini-2.5-flash-lite",
    provider: "google",
    providerModelId: "gemini-2.5-flash-lite",
    kind: "text",
    contextWindow: 1_048_576,
    pricing: { inputPerMillion: 0.1, cachedInputPerMillion: 0.01, outputPerMillion: 0.4, batchDiscount: HALF_PRICE_BATCH },
    source: { url: GOOGLE_PRICING, checkedAt: CHECKED, note: "text/image/video input price" },
  },
  {
    key: "google/gemini-2.0-flash",
    provider: "google",
    providerModelId: "gemini-2.0-flash",
    kind: "text",
    contextWindow: 1_048_576,
    pricing: { inputPerMillion: 0.1, cachedInputPerMillion: 0.025, outputPerMillion: 0.4, batchDiscount: HALF_PRICE_BATCH },
    source: { url: GOOGLE_PRICING, checkedAt: CHECKED, note: "text/image/video input price" },
  },
  {
    key: "google/gemini-embedding-001",
    provider: "google",
    providerModelId: "gemini-embedding-001",
    kind: "embedding",
    contextWindow: 2_048,
    pricing: { inputPerMillion: 0.15, outputPerMillion: 0, batchDiscount: HALF_PRICE_BATCH },
    source: { url: GOOGLE_PRICING, checkedAt: CHECKED },
  },

  // Offline provider: deterministic answers, simulated prices so cost tracking shows real figures.
  {
    key: "local/fast",
    provider: "local",
    providerModelId: "fast",
    kind: "text",
    contextWindow: 128_000,
    pricing: { inputPerMillion: 0.1, cachedInputPerMillion: 0.025, outputPerMillion: 0.4, batchDiscount: HALF_PRICE_BATCH },
    source: { url: "stageflow:local", checkedAt: CHECKED, note: "simulated price; no money is spent" },
    offline: true,
  },
  {
    key: "local/smart",
    provider: "local",
    providerModelId: "smart",
    kind: "text",
    contextWindow: 200_000,
    pricing: { inputPerMillion: 1, cachedInputPerMillion: 0.1, outputPerMillion: 5, batchDiscount: HALF_PRICE_BATCH },
    source: { url: "stageflow:local", checkedAt: CHECKED, note: "simulated price; no money is spent" },
    offline: true,
  },
  {
    key: "local/embed",
    provider: "local",
    providerModelId: "embed",
    kind: "embedding",
    contextWindow: 8_192,
    pricing: { inputPerMillion: 0.02, outputPerMillion: 0, batchDiscount: HALF_PRICE_BATCH },
    source: { url: "stageflow:local", checkedAt: CHECKED, note: "simulated price; no money is spent" },
    offline: true,
  },
];
