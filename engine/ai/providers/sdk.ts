/** What the SDK-backed providers share: lazy SDK loading, API keys and error description. */

import { MissingApiKeyError, ProviderSdkNotInstalledError } from "../errors.js";
import { parseRetryAfter } from "../retry.js";
import type { ProviderName } from "../types.js";
import type { ApiKeySource, ProviderErrorInfo } from "./types.js";

/** Environment variables read for each provider's key, first match wins. */
export const API_KEY_ENV_VARS: Record<Exclude<ProviderName, "local">, readonly string[]> = {
  openai: ["OPENAI_API_KEY"],
  anthropic: ["ANTHROPIC_API_KEY"],
  google: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
};

/** The configured key, or the environment's; a missing key names the variable to set. */
export async function resolveApiKey(
  provider: Exclude<ProviderName, "local">,
  source: ApiKeySource | undefined,
): Promise<string> {
  const given = typeof source === "function" ? await source() : source;
  if (given) return given;
  for (const name of API_KEY_ENV_VARS[provider]) {
    const value = process.env[name];
    if (value) return value;
  }
  throw new MissingApiKeyError(provider, API_KEY_ENV_VARS[provider][0]);
}

/**
 * Imports a provider SDK on first use. The SDKs are optional peer dependencies, so a missing one
 * is reported with the install command rather than a module-resolution stack trace.
 */
export async function loadSdk<T>(provider: ProviderName, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new ProviderSdkNotInstalledError(provider, packageName, cause);
    }
    throw cause;
  }
}

/** Memoises a client factory, forgetting a failure so the next call tries again. */
export function lazyClient<T>(create: () => Promise<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () => {
    client ??= create().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
}

/** Describes an error from the OpenAI or Anthropic SDK (both report `status` and `headers`). */
export function describeStainlessError(error: unknown): ProviderErrorInfo | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, headers } = error as { status?: unknown; headers?: unknown };
  if (error.name === "APIUserAbortError" || error.name === "AbortError") return { message: error.message, aborted: true };
  if (error.name === "APIConnectionError" || error.name === "APIConnectionTimeoutError") {
    return { message: error.message, connection: true };
  }
  if (typeof status !== "number") return undefined;
  return { status, retryAfterMs: parseRetryAfter(headers), message: error.message };
}

/** JSON.parse that keeps the raw string when the model sent something that is not JSON. */
export function parseJsonLenient(text: string | undefined | null): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
