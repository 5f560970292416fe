/**
 * Copies of stored values for the in-memory adapters: a stored value never shares an object with
 * a caller (a real database would not either), in both directions.
 *
 * JSON-like values (the usual case) are copied by a plain recursive walk, several times faster
 * than structuredClone; anything else (Maps, class instances, cycles, very deep nesting) goes
 * through structuredClone.
 */

/** Nesting deeper than this (or a cycle) goes to structuredClone, which handles any depth and shared references. */
const MAX_FAST_COPY_DEPTH = 64;
class NotPlainData extends Error {}
const NOT_PLAIN = new NotPlainData();

/**
 * What an empty plain object or array is stored as: one shared instance instead of one per
 * record (a workflow's per-stage config is mostly `{}`). Safe because stored values are only
 * ever handed out through `copyOut`, which copies them.
 */
const EMPTY_OBJECT: Record<string, unknown> = {};
const EMPTY_ARRAY: unknown[] = [];

/**
 * Strings that are property keys are internalised by V8 (one copy per distinct content). Using a
 * stored string once as a key turns a concatenated (cons) string into that flat, shared copy:
 * a causation id like `job.execute:<run>:<stage>:<attempt>` shrinks from a tree of four cons
 * cells (about 160 bytes) to one flat string shared by every event of that attempt.
 */
const INTERN: Record<string, undefined> = Object.create(null) as Record<string, undefined>;
export function intern(value: string): string {
  void INTERN[value];
  return value;
}

function copyPlain(value: unknown, depth: number, store: boolean): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_FAST_COPY_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    const length = value.length;
    if (length === 0 && store) return EMPTY_ARRAY;
    const copy = new Array<unknown>(length);
    for (let i = 0; i < length; i++) copy[i] = copyPlain(value[i], depth + 1, store);
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    // A spread copies own enumerable properties (an own "__proto__" included) into an object of
    // the same shape; nested objects are then replaced by copies.
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    let keys = 0;
    for (const key in copy) {
      keys++;
      const item = copy[key];
      if (item !== null && typeof item === "object") copy[key] = copyPlain(item, depth + 1, store);
    }
    return keys === 0 && store ? EMPTY_OBJECT : copy;
  }
  if (proto === null) {
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key in value) {
      const item = copyPlain((value as Record<string, unknown>)[key], depth + 1, store);
      if (key === "__proto__") Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      else copy[key] = item;
    }
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  throw NOT_PLAIN;
}

function copy<T>(value: T, store: boolean): T {
  if (value === null || typeof value !== "object") return value;
  if ((value as unknown) === EMPTY_OBJECT) return {} as T;
  if ((value as unknown) === EMPTY_ARRAY) return [] as T;
  try {
    return copyPlain(value, 0, store) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}

/** A copy to keep: empty objects and arrays become shared instances that are never handed out. */
export function copyIn<T>(value: T): T {
  return copy(value, true);
}

/** A copy to hand out: every object in it is new. */
export function copyOut<T>(value: T): T {
  return copy(value, false);
}
