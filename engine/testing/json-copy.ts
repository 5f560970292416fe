/**
 * Copies of stored values for the in-memory adapters: a stored value never shares an object with
 * a caller (a real database would not either), in both directions.
 *
 * A plain object is stored as an instance of a class made for its list of keys (its "shape"):
 * every property in-object (a plain object with more than four properties keeps the rest in a
 * separate array), and copying it out is one object literal of known shape instead of a spread,
 * which V8 cannot optimise once it sees objects of many shapes. Values the fast path does not
 * know (Maps, class instances, cycles, very deep nesting) go through structuredClone.
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

// Stored plain objects ----------------------------------------------------------------------------

const COPY_OUT = Symbol("copyOut");

/** A stored plain object: own properties are exactly the original's, the copy method is on the prototype. */
abstract class Packed {
  abstract [COPY_OUT](depth: number): Record<string, unknown>;
}

type PackedClass = new (source: Record<string, unknown>, depth: number) => Packed;

/** A node of the shape tree: the keys seen so far, in order. */
interface Shape {
  readonly keys: readonly string[];
  next: Map<string, Shape> | null;
  packed: PackedClass | null;
}

/** Shapes beyond these limits (objects keyed by ids, say) are stored as plain copies. */
const MAX_SHAPES = 4096;
const MAX_SHAPE_KEYS = 48;
const ROOT: Shape = { keys: [], next: null, packed: null };
let shapeCount = 0;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Writes a class for one key list: a constructor that copies those keys in, a method that copies them out. */
function compileShape(keys: readonly string[]): PackedClass {
  const member = (key: string) => (IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  const copyIn = keys
    .map((key, i) => `const v${i} = source${member(key)}; this${member(key)} = typeof v${i} === "object" && v${i} !== null ? copyInAt(v${i}, depth) : v${i};`)
    .join("\n");
  const copyOut = keys
    .map((key, i) => `${JSON.stringify(key)}: typeof v${i} === "object" && v${i} !== null ? copyOutAt(v${i}, depth) : v${i}`)
    .join(",\n");
  const reads = keys.map((key, i) => `const v${i} = this${member(key)};`).join("\n");
  // Each property is first set to null: V8 then keeps it as a tagged field, where a small integer
  // is stored inline. A field that only ever saw numbers would become a double field, which boxes
  // every value, small integers included (16 bytes each).
  const tagged = keys.map((key) => `this${member(key)} = null;`).join(" ");
  const source = `return class extends Packed {
  constructor(source, depth) {
    super();
    depth++;
    ${tagged}
    ${copyIn}
  }
  [COPY_OUT](depth) {
    depth++;
    ${reads}
    return {${copyOut}};
  }
};`;
  // Keys are embedded as JSON string literals (valid JavaScript string literals), never as code.
  return new Function("Packed", "COPY_OUT", "copyInAt", "copyOutAt", source)(Packed, COPY_OUT, copyInAt, copyOutAt) as PackedClass;
}

/** The class for an object's keys, or null if the object should be stored as a plain copy. */
function packedClassOf(value: Record<string, unknown>): PackedClass | null {
  let shape = ROOT;
  let count = 0;
  for (const key in value) {
    if (++count > MAX_SHAPE_KEYS || key === "__proto__") return null;
    let next = shape.next?.get(key);
    if (!next) {
      if (shapeCount >= MAX_SHAPES) return null;
      shapeCount++;
      next = { keys: [...shape.keys, key], next: null, packed: null };
      (shape.next ??= new Map()).set(key, next);
    }
    shape = next;
  }
  return shape.packed ?? (count === 0 ? null : (shape.packed = compileShape(shape.keys)));
}

// Copies ------------------------------------------------------------------------------------------

/** Copies a value to store: plain objects become packed, empty ones the shared instances. */
function copyInAt(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_FAST_COPY_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    const length = value.length;
    if (length === 0) return EMPTY_ARRAY;
    const copy = new Array<unknown>(length);
    for (let i = 0; i < length; i++) copy[i] = copyInAt(value[i], depth + 1);
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    const packed = packedClassOf(value as Record<string, unknown>);
    if (packed) return new packed(value as Record<string, unknown>, depth);
    let keys = 0;
    for (const _ in value) keys++;
    if (keys === 0) return EMPTY_OBJECT;
  }
  return copyPlain(value, depth);
}

/** Copies a stored value to hand out: every object in it is new and plain. */
function copyOutAt(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_FAST_COPY_DEPTH) throw NOT_PLAIN;
  if (value instanceof Packed) return value[COPY_OUT](depth);
  if (value === EMPTY_OBJECT) return {};
  if (Array.isArray(value)) {
    const length = value.length;
    const copy = new Array<unknown>(length);
    for (let i = 0; i < length; i++) copy[i] = copyOutAt(value[i], depth + 1);
    return copy;
  }
  return copyPlain(value, depth);
}

/** Copies arrays, plain objects and Dates recursively; throws NOT_PLAIN on anything else. */
function copyPlain(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_FAST_COPY_DEPTH) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyPlain(value[i], depth + 1);
    return copy;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) {
    // A spread copies own enumerable properties (an own "__proto__" included) into an object of
    // the same shape; nested objects are then replaced by copies.
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key in copy) {
      const item = copy[key];
      if (item !== null && typeof item === "object") copy[key] = copyPlain(item, depth + 1);
    }
    return copy;
  }
  if (proto === null) {
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const key in value) {
      const item = copyPlain((value as Record<string, unknown>)[key], depth + 1);
      if (key === "__proto__") Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      else copy[key] = item;
    }
    return copy;
  }
  if (value instanceof Date) return new Date(value.getTime());
  throw NOT_PLAIN;
}

/** A copy to keep: never handed out as is (only through `copyOut`). */
export function copyIn<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  try {
    return copyInAt(value, 0) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}

/** A copy to hand out: every object in it is new. */
export function copyOut<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  try {
    return copyOutAt(value, 0) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}
