/**
 * The offline provider behind `local/...` models: no network, no key, and the same answer for the
 * same request every time, so demos and tests are repeatable. Token counts are estimated
 * (4 characters a token) and priced at the catalog's simulated prices.
 *
 * Markers in a prompt simulate provider behaviour: `[local:refuse]` makes the model refuse,
 * `[local:fail]` makes a batch item fail.
 */

import { localBatchOperations } from "../batch/local.js";
import { answer, embedOffline, streamOf } from "./local-model.js";
import type { LocalProviderConfig, Provider, ProviderContext } from "./types.js";

/** Creates the offline provider. */
export function createLocalProvider(config: LocalProviderConfig, context: ProviderContext): Provider {
  return {
    name: "local",
    generate: async (request) => answer(request),
    stream: async (request) => streamOf(answer(request)),
    embed: async (request) => embedOffline(request),
    ...localBatchOperations(() => context.now(), config.batchCompletionDelayMs ?? 0),
    describeError: () => undefined,
  };
}
