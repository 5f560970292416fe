/**
 * Gemini through the official `@google/genai` SDK (Gemini Developer API), imported on first use:
 * generateContent (plain, streamed, with function calling), embeddings, and batch mode with
 * inlined requests.
 */

import type { GoogleGenAI } from "@google/genai";
import { googleBatchOperations } from "../batch/google.js";
import { makeUsage } from "../pricing.js";
import { parseGoogleRetryDelay } from "../retry.js";
import { estimateTokens } from "../tokens.js";
import { generateParams, parseResponse, responseStream, type ResponseWire } from "./google-wire.js";
import { lazyClient, loadSdk, resolveApiKey } from "./sdk.js";
import type { Provider, ProviderConfig, ProviderErrorInfo } from "./types.js";

/** Creates the Gemini provider; nothing is loaded or checked until the first request. */
export function createGoogleProvider(config: ProviderConfig): Provider {
  const client = lazyClient(async (): Promise<GoogleGenAI> => {
    const apiKey = await resolveApiKey("google", config.apiKey);
    const sdk = await loadSdk("google", "@google/genai", () => import("@google/genai"));
    // No retryOptions: the SDK then makes one attempt and the helper does the retrying.
    return new sdk.GoogleGenAI({ apiKey, httpOptions: { baseUrl: config.baseURL, headers: config.headers } });
  });

  return {
    name: "google",
    async generate(request) {
      const response = await (await client()).models.generateContent(generateParams(request) as never);
      return parseResponse(response as unknown as ResponseWire);
    },
    async stream(request) {
      const chunks = await (await client()).models.generateContentStream(generateParams(request) as never);
      return responseStream(chunks as unknown as AsyncIterable<ResponseWire>);
    },
    async embed(request) {
      const response = await (await client()).models.embedContent({
        model: request.modelId,
        contents: request.texts,
        config: { abortSignal: request.signal, ...request.providerOptions },
      });
      const embeddings = (response.embeddings ?? []).map((e) => e.values ?? []);
      // The Gemini Developer API reports no token count for embeddings, so it is estimated.
      const inputTokens = request.texts.reduce((sum, t) => sum + estimateTokens(t), 0);
      return { embeddings, usage: makeUsage({ inputTokens }), usageEstimated: true };
    },
    ...googleBatchOperations(client),
    describeError: describeGoogleError,
  };
}

function describeGoogleError(error: unknown): ProviderErrorInfo | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === "AbortError") return { message: error.message, aborted: true };
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number") return { status, retryAfterMs: parseGoogleRetryDelay(error.message), message: error.message };
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return { message: error.message, connection: true };
  return undefined;
}
