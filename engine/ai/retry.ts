/** Retrying provider requests: 429 and 5xx are retried with backoff, honouring `retry-after`. */

import { AIError, ProviderRequestError, RateLimitError } from "./errors.js";
import type { Provider, ProviderErrorInfo } from "./providers/types.js";

/** How the helper retries a failed provider request. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 3 */
  maxRetries?: number;
  /** First backoff delay; doubles each retry, with full jitter. @default 500 */
  baseDelayMs?: number;
  /** Longest backoff delay. @default 30_000 */
  maxDelayMs?: number;
  /**
   * A `retry-after` longer than this is not waited for: the error is thrown so the stage's own
   * retry policy (which does not hold a worker) takes over. @default 60_000
   */
  maxRetryAfterMs?: number;
  /** Waits between attempts. Tests pass one that records the delays instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number;
}

const RETRYABLE_STATUSES = new Set([408, 409, 429]);

/** Calls `attempt` until it succeeds, a non-retryable error occurs, or retries run out. */
export async function withRetries<T>(
  provider: Provider,
  options: RetryOptions,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  const maxRetries = options.maxRetries ?? 3;
  const sleep = options.sleep ?? abortableSleep;
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof AIError) throw error;
      const info = provider.describeError(error);
      if (!info) throw error;
      const typed = toProviderRequestError(provider, info, error);
      const delay = retryDelay(typed, retry, options);
      if (!typed.retryable || retry >= maxRetries || delay === undefined || signal?.aborted) throw typed;
      await sleep(delay, signal);
    }
  }
}

function retryDelay(error: ProviderRequestError, retry: number, options: RetryOptions): number | undefined {
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs <= (options.maxRetryAfterMs ?? 60_000) ? error.retryAfterMs : undefined;
  }
  const base = options.baseDelayMs ?? 500;
  const cap = Math.min(options.maxDelayMs ?? 30_000, base * 2 ** retry);
  return Math.round(cap * (options.random ?? Math.random)());
}

function toProviderRequestError(provider: Provider, info: ProviderErrorInfo, cause: unknown): ProviderRequestError {
  const retryable =
    !info.aborted &&
    (info.connection === true || (info.status !== undefined && (RETRYABLE_STATUSES.has(info.status) || info.status >= 500)));
  const where = info.status !== undefined ? `HTTP ${info.status}` : info.aborted ? "aborted" : "network error";
  const message = `${provider.name} request failed (${where}): ${info.message}`;
  const ErrorClass = info.status === 429 ? RateLimitError : ProviderRequestError;
  return new ErrorClass(message, provider.name, info.status, retryable, info.retryAfterMs, { cause });
}

/** Reads `retry-after-ms` / `retry-after` (seconds or an HTTP date) from response headers. */
export function parseRetryAfter(headers: unknown, now: Date = new Date()): number | undefined {
  const get = (name: string): string | null | undefined => {
    if (!headers || typeof headers !== "object") return undefined;
    if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name);
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === "string" ? value : undefined;
  };
  const ms = Number(get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = get("retry-after");
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

/** Gemini puts the delay in the error body: `"retryDelay": "2s"`. */
export function parseGoogleRetryDelay(message: string): number | undefined {
  const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message);
  return match ? Number(match[1]) * 1000 : undefined;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
