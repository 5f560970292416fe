/** Cost of a request from the provider-reported usage and the catalog price. */

import type { ModelPricing, ModelSpec } from "./models/types.js";
import type { TokenUsage } from "./types.js";

/** Dollars per part of a request. */
export interface CostBreakdown {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  output: number;
  total: number;
  /** The batch discount that was applied (0 for ordinary calls). */
  discount: number;
}

/**
 * What a request cost in US dollars.
 *
 * Cached and cache-write tokens are subsets of `inputTokens` and priced on their own; reasoning
 * tokens are part of `outputTokens` and priced as output.
 *
 * @example
 * ```ts
 * const usage = { inputTokens: 12_000, cachedInputTokens: 2_000, cacheWriteInputTokens: 0,
 *   outputTokens: 800, reasoningTokens: 0, totalTokens: 12_800 };
 * computeCost(resolveModel("openai/gpt-4.1-mini"), usage).total; // 0.00548
 * computeCost(resolveModel("openai/gpt-4.1-mini"), usage, { batch: true }).total; // 0.00274
 * ```
 */
export function computeCost(model: ModelSpec, usage: TokenUsage, options: { batch?: boolean } = {}): CostBreakdown {
  const prices = pricesFor(model.pricing, usage.inputTokens);
  const discount = options.batch ? model.pricing.batchDiscount : 0;
  const factor = (1 - discount) / 1_000_000;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteInputTokens);
  const input = uncached * prices.input * factor;
  const cachedInput = usage.cachedInputTokens * prices.cachedInput * factor;
  const cacheWrite = usage.cacheWriteInputTokens * prices.cacheWrite * factor;
  const output = usage.outputTokens * prices.output * factor;
  return { input, cachedInput, cacheWrite, output, total: input + cachedInput + cacheWrite + output, discount };
}

function pricesFor(pricing: ModelPricing, inputTokens: number) {
  const long = pricing.longContext && inputTokens > pricing.longContext.aboveInputTokens ? pricing.longContext : undefined;
  const input = long?.inputPerMillion ?? pricing.inputPerMillion;
  return {
    input,
    output: long?.outputPerMillion ?? pricing.outputPerMillion,
    cachedInput: long?.cachedInputPerMillion ?? pricing.cachedInputPerMillion ?? input,
    cacheWrite: pricing.cacheWritePerMillion ?? input,
  };
}

/** Usage with every count at zero; the identity of `addUsage`. */
export function emptyUsage(): TokenUsage {
  return { inputTokens: 0, cachedInputTokens: 0, cacheWriteInputTokens: 0, outputTokens: 0, reasoningTokens: 0, totalTokens: 0 };
}

/** Sum of two requests' usage (e.g. the steps of a tool loop, each billed on its own). */
export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteInputTokens: a.cacheWriteInputTokens + b.cacheWriteInputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

/** Builds a normalised usage from partial counts; totals are derived, never taken on trust. */
export function makeUsage(parts: Partial<Omit<TokenUsage, "totalTokens">>): TokenUsage {
  const u = { ...emptyUsage(), ...parts };
  return { ...u, totalTokens: u.inputTokens + u.outputTokens };
}
