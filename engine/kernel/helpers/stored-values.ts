import type { KernelDeps } from "../deps.js";
import { isBlobReference, type BlobReference } from "../records.js";

/** The JSON size of `value` in bytes, or undefined when it fits inline. */
function sizeBeyondInlineLimit(deps: KernelDeps, value: unknown): number | undefined {
  const json = JSON.stringify(value ?? null);
  // A UTF-16 code unit is at most 3 UTF-8 bytes: short text is inline without counting bytes.
  if (json.length * 3 <= deps.inlineOutputLimitBytes) return undefined;
  const size = Buffer.byteLength(json);
  return size <= deps.inlineOutputLimitBytes ? undefined : size;
}

/**
 * Inline when small, otherwise put in the BlobStore under `blobKey()` and replaced by a reference.
 * An inline value comes back as is, not in a promise, and no key is built: most outputs are
 * small, and this runs on every commit.
 */
export function storeValue(deps: KernelDeps, blobKey: () => string, value: unknown): unknown | Promise<BlobReference> {
  const size = sizeBeyondInlineLimit(deps, value);
  if (size === undefined) return value ?? null;
  const key = blobKey();
  return deps.blobStore.put(key, value).then((): BlobReference => ({ $blob: key, size }));
}

/** True when `resolveValue` would read the BlobStore (a reference, or a map holding one). */
export function needsResolving(stored: unknown): boolean {
  if (isBlobReference(stored)) return true;
  if (stored && typeof stored === "object" && !Array.isArray(stored)) {
    for (const key in stored as Record<string, unknown>) if (isBlobReference((stored as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** Reverses `storeValue`; a map of stored values (a parallel group's output) is resolved one level deep. */
export async function resolveValue(deps: KernelDeps, stored: unknown): Promise<unknown> {
  if (isBlobReference(stored)) return deps.blobStore.get(stored.$blob);
  if (stored && typeof stored === "object" && !Array.isArray(stored)) {
    const entries = Object.entries(stored as Record<string, unknown>);
    if (entries.some(([, v]) => isBlobReference(v))) {
      const resolved = await Promise.all(entries.map(async ([k, v]) => [k, await resolveValue(deps, v)] as const));
      return Object.fromEntries(resolved);
    }
  }
  return stored;
}

/** A deep copy of a JSON value (what stage outputs are), so two stages never share one object. */
export function copyJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(copyJsonValue);
  if (value instanceof Date) return new Date(value.getTime());
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = copyJsonValue((value as Record<string, unknown>)[key]);
  return copy;
}

export const blobKeys = {
  runInput: (runId: string) => `runs/${runId}/input.json`,
  runOutput: (runId: string) => `runs/${runId}/output.json`,
  stagePrefix: (runId: string, stageId: string) => `runs/${runId}/stages/${stageId}/`,
  stageOutput: (runId: string, stageId: string, attempt: number) => `runs/${runId}/stages/${stageId}/output-${attempt}.json`,
  artifact: (runId: string, stageId: string, key: string) => `runs/${runId}/stages/${stageId}/artifacts/${key}`,
};
