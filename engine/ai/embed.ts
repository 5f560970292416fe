/** `embed`: vectors for one text or many, in one provider request. */

import { withRetries } from "./retry.js";
import { record, resolve, resultBase, type HelperRuntime } from "./runtime.js";
import type { CallResultBase, ProviderOptions } from "./types.js";

export interface EmbedOptions {
  signal?: AbortSignal;
  /** Merged into the provider request, e.g. `{ openai: { dimensions: 256 } }`. */
  providerOptions?: ProviderOptions;
  metadata?: Record<string, unknown>;
}

export interface EmbedResult extends CallResultBase {
  embedding: number[];
}

export interface EmbedManyResult extends CallResultBase {
  /** In the order of the texts given. */
  embeddings: number[][];
}

export async function embedTexts(
  rt: HelperRuntime,
  modelKey: string,
  texts: readonly string[],
  options: EmbedOptions,
): Promise<EmbedManyResult> {
  const model = await resolve(rt, modelKey, "embedding");
  const response = await withRetries(model.provider, rt.retry, options.signal, () =>
    model.provider.embed({
      modelId: model.spec.providerModelId,
      texts: [...texts],
      signal: options.signal,
      providerOptions: options.providerOptions?.[model.spec.provider],
    }),
  );
  const cost = await record(rt, {
    callType: "embed",
    model: model.spec,
    prompt: texts.join("\n"),
    response: `${response.embeddings.length} embeddings of ${response.embeddings[0]?.length ?? 0} dimensions`,
    usage: response.usage,
    usageEstimated: response.usageEstimated,
    metadata: { texts: texts.length, ...options.metadata },
  });
  return { ...resultBase(model.spec, response.usage, cost, response.usageEstimated), embeddings: response.embeddings };
}
