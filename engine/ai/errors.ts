/** Typed errors of the AI helper. Each message says what to do next. */

import type { ProviderName } from "./types.js";

/** Base class: `instanceof AIError` catches every error the helper raises on purpose. */
export class AIError extends Error {
  override name = "AIError";
}

/** The model key is not in the catalog. The message lists the known keys. */
export class UnknownModelError extends AIError {
  override name = "UnknownModelError";
  constructor(
    readonly modelKey: string,
    readonly knownModels: readonly string[],
  ) {
    super(
      `Unknown model "${modelKey}". Known models: ${knownModels.join(", ")}. ` +
        `Register others with registerModels().`,
    );
  }
}

/** The model exists but cannot do what was asked (e.g. `embed` with a chat model). */
export class UnsupportedModelOperationError extends AIError {
  override name = "UnsupportedModelOperationError";
}

/** No API key for a provider. The message names the environment variable to set. */
export class MissingApiKeyError extends AIError {
  override name = "MissingApiKeyError";
  constructor(
    readonly provider: ProviderName,
    readonly envVar: string,
  ) {
    super(
      `No API key for ${provider}: set the ${envVar} environment variable, ` +
        `or pass providers.${provider}.apiKey to createAIHelper() or configureAIProviders().`,
    );
  }
}

/** The provider's SDK package is not installed (they are optional peer dependencies). */
export class ProviderSdkNotInstalledError extends AIError {
  override name = "ProviderSdkNotInstalledError";
  constructor(
    readonly provider: ProviderName,
    readonly packageName: string,
    cause: unknown,
  ) {
    super(`The ${provider} provider needs the "${packageName}" package: npm install ${packageName}`, {
      cause,
    });
  }
}

/** A provider request failed. `retryable` tells whether the helper retried it (429, 5xx, network). */
export class ProviderRequestError extends AIError {
  override name = "ProviderRequestError";
  constructor(
    message: string,
    readonly provider: ProviderName,
    readonly status: number | undefined,
    readonly retryable: boolean,
    /** Delay the provider asked for (from `retry-after`, `retry-after-ms` or Gemini's `retryDelay`). */
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 429 from the provider after every retry was used. */
export class RateLimitError extends ProviderRequestError {
  override name = "RateLimitError";
}

/** The provider refused or its content filter blocked the prompt or the answer. */
export class ContentFilterError extends AIError {
  override name = "ContentFilterError";
  constructor(
    readonly modelKey: string,
    /** Provider wording, e.g. `content_filter`, `refusal`, `SAFETY`, or the model's refusal text. */
    readonly reason: string,
  ) {
    super(`${modelKey} refused or filtered the request (${reason}); rephrase the prompt or use another model.`);
  }
}

/** `generateObject` got text that does not match the schema, even after one repair attempt. */
export class ObjectValidationError extends AIError {
  override name = "ObjectValidationError";
  constructor(
    readonly modelKey: string,
    /** The model's last answer, verbatim. */
    readonly rawText: string,
    /** What was wrong with it (JSON syntax or schema issues). */
    readonly issues: readonly string[],
  ) {
    super(
      `${modelKey} did not return an object matching the schema after a repair attempt: ${issues.join("; ")}`,
    );
  }
}

/** A batch could not be submitted, read or is not finished yet. */
export class BatchError extends AIError {
  override name = "BatchError";
}
