/** The model registry: built-in catalog entries plus those added with `registerModels()`. */

import { AIError, UnknownModelError } from "../errors.js";
import { PROVIDER_NAMES, type ProviderName } from "../types.js";
import { BUILTIN_MODELS } from "./catalog-data.js";
import type { ModelSpec } from "./types.js";

const registry = new Map<string, ModelSpec>(BUILTIN_MODELS.map((m) => [m.key, m]));

/**
 * Add models to the catalog, or replace an entry (same key) to correct a price.
 *
 * @example
 * ```ts
 * registerModels([{
 *   key: "openai/my-finetune",
 *   provider: "openai",
 *   providerModelId: "ft:gpt-4.1-mini:acme::abc123",
 *   kind: "text",
 *   contextWindow: 1_047_576,
 *   pricing: { inputPerMillion: 0.8, cachedInputPerMillion: 0.2, outputPerMillion: 3.2, batchDiscount: 0.5 },
 *   source: { url: "https://platform.openai.com/docs/pricing", checkedAt: "2025-10-01" },
 * }]);
 * ```
 */
export function registerModels(models: readonly ModelSpec[]): void {
  for (const model of models) assertValidModelSpec(model);
  for (const model of models) registry.set(model.key, Object.freeze({ ...model }));
}

/**
 * Every known model, sorted by key; optionally only one provider's or one kind's.
 *
 * @example
 * ```ts
 * const embeddingModels = listModels({ kind: "embedding" }).map((m) => m.key);
 * ```
 */
export function listModels(filter: { provider?: ProviderName; kind?: ModelSpec["kind"] } = {}): ModelSpec[] {
  return [...registry.values()]
    .filter((m) => (filter.provider ? m.provider === filter.provider : true))
    .filter((m) => (filter.kind ? m.kind === filter.kind : true))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * The catalog entry for a model key. A bare name (`gemini-2.5-flash`, as in the reference engine's
 * examples) is accepted when exactly one provider has it.
 *
 * @example
 * ```ts
 * resolveModel("openai/gpt-4.1-mini").contextWindow; // 1047576
 * ```
 */
export function resolveModel(modelKey: string): ModelSpec {
  const exact = registry.get(modelKey);
  if (exact) return exact;
  if (!modelKey.includes("/")) {
    const matches = [...registry.values()].filter((m) => m.key.endsWith(`/${modelKey}`));
    if (matches.length === 1) return matches[0];
  }
  throw new UnknownModelError(
    modelKey,
    listModels().map((m) => m.key),
  );
}

function assertValidModelSpec(model: ModelSpec): void {
  const problem = findProblem(model);
  if (problem) throw new AIError(`Cannot register model ${JSON.stringify(model?.key)}: ${problem}`);
}

function findProblem(model: ModelSpec): string | undefined {
  if (!model || typeof model.key !== "string") return "it needs a key";
  if (!PROVIDER_NAMES.includes(model.provider)) return `provider must be one of ${PROVIDER_NAMES.join(", ")}`;
  if (!model.key.startsWith(`${model.provider}/`)) return `its key must start with "${model.provider}/"`;
  if (!model.providerModelId) return "it needs providerModelId";
  if (!(model.contextWindow > 0)) return "contextWindow must be positive";
  const p = model.pricing;
  if (!p) return "it needs pricing";
  const prices = [p.inputPerMillion, p.outputPerMillion, p.cachedInputPerMillion ?? 0, p.cacheWritePerMillion ?? 0];
  if (prices.some((x) => typeof x !== "number" || !(x >= 0))) return "prices must be numbers >= 0";
  if (!(p.batchDiscount >= 0 && p.batchDiscount < 1)) return "batchDiscount must be in [0, 1)";
  if (!model.source?.url || !model.source.checkedAt) return "it needs source.url and source.checkedAt";
  return undefined;
}
