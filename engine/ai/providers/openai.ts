/**
 * OpenAI through the official `openai` SDK, imported on first use: Chat Completions (default) or
 * the Responses API for text, Embeddings, and the Batch API (JSONL file upload + batch job).
 */

import type OpenAI from "openai";
import { makeUsage } from "../pricing.js";
import { openAIBatchOperations } from "../batch/openai.js";
import {
  chatBody,
  chatStream,
  parseChatCompletion,
  parseResponse,
  responsesBody,
  responsesStream,
  type ChatCompletionChunkWire,
  type ChatCompletionWire,
  type ResponsesStreamEventWire,
  type ResponseWire,
} from "./openai-wire.js";
import { describeStainlessError, lazyClient, loadSdk, resolveApiKey } from "./sdk.js";
import type { OpenAIProviderConfig, Provider } from "./types.js";

/** Creates the OpenAI provider; nothing is loaded or checked until the first request. */
export function createOpenAIProvider(config: OpenAIProviderConfig): Provider {
  const client = lazyClient(async () => {
    const apiKey = await resolveApiKey("openai", config.apiKey);
    const sdk = await loadSdk("openai", "openai", () => import("openai"));
    // Retries are the helper's job (it honours retry-after and counts attempts once).
    return new sdk.default({ apiKey, baseURL: config.baseURL, defaultHeaders: config.headers, maxRetries: 0 });
  });
  const useResponses = config.api === "responses";

  return {
    name: "openai",
    async generate(request) {
      const c = await client();
      if (useResponses) {
        const body = responsesBody(request) as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming;
        return parseResponse((await c.responses.create(body, { signal: request.signal })) as unknown as ResponseWire);
      }
      const body = chatBody(request) as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
      return parseChatCompletion((await c.chat.completions.create(body, { signal: request.signal })) as unknown as ChatCompletionWire);
    },
    async stream(request) {
      const c = await client();
      if (useResponses) {
        const body = { ...responsesBody(request), stream: true } as unknown as OpenAI.Responses.ResponseCreateParamsStreaming;
        const events = await c.responses.create(body, { signal: request.signal });
        return responsesStream(events as unknown as AsyncIterable<ResponsesStreamEventWire>);
      }
      const body = {
        ...chatBody(request),
        stream: true,
        // Without this the stream carries no usage and the call could not be priced.
        stream_options: { include_usage: true },
      } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming;
      const chunks = await c.chat.completions.create(body, { signal: request.signal });
      return chatStream(chunks as unknown as AsyncIterable<ChatCompletionChunkWire>);
    },
    async embed(request) {
      const c = await client();
      const body = { model: request.modelId, input: request.texts, ...request.providerOptions } as OpenAI.EmbeddingCreateParams;
      const response = await c.embeddings.create(body, { signal: request.signal });
      const embeddings = [...response.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      return { embeddings, usage: makeUsage({ inputTokens: response.usage.prompt_tokens }) };
    },
    ...openAIBatchOperations(client),
    describeError: describeStainlessError,
  };
}
