/**
 * Anthropic through the official `@anthropic-ai/sdk`, imported on first use: Messages (plain,
 * streamed, with tools) and Message Batches. Anthropic has no embeddings endpoint.
 */

import type Anthropic from "@anthropic-ai/sdk";
import { anthropicBatchOperations } from "../batch/anthropic.js";
import { UnsupportedModelOperationError } from "../errors.js";
import { messagesBody, messageStream, parseMessage, type MessageWire, type StreamEventWire } from "./anthropic-wire.js";
import { describeStainlessError, lazyClient, loadSdk, resolveApiKey } from "./sdk.js";
import type { Provider, ProviderConfig } from "./types.js";

/** Creates the Anthropic provider; nothing is loaded or checked until the first request. */
export function createAnthropicProvider(config: ProviderConfig): Provider {
  const client = lazyClient(async () => {
    const apiKey = await resolveApiKey("anthropic", config.apiKey);
    const sdk = await loadSdk("anthropic", "@anthropic-ai/sdk", () => import("@anthropic-ai/sdk"));
    return new sdk.default({ apiKey, baseURL: config.baseURL, defaultHeaders: config.headers, maxRetries: 0 });
  });

  return {
    name: "anthropic",
    async generate(request) {
      const body = messagesBody(request) as unknown as Anthropic.MessageCreateParamsNonStreaming;
      const message = await (await client()).messages.create(body, { signal: request.signal });
      return parseMessage(message as unknown as MessageWire, request);
    },
    async stream(request) {
      const body = { ...messagesBody(request), stream: true } as unknown as Anthropic.MessageCreateParamsStreaming;
      const events = await (await client()).messages.create(body, { signal: request.signal });
      return messageStream(events as unknown as AsyncIterable<StreamEventWire>, request);
    },
    async embed() {
      throw new UnsupportedModelOperationError("Anthropic has no embeddings API; use an openai/, google/ or local/ embedding model");
    },
    ...anthropicBatchOperations(client),
    describeError: describeStainlessError,
  };
}
