import assert from "node:assert/strict";
import type { BlobStore } from "../../../kernel/ports.js";
import { registerSuite, type ConformanceGroup } from "../harness.js";
import { uniqueId } from "../support.js";
import type { ConformanceSuiteOptions } from "../types.js";

/** A fresh blob store for one case. */
export interface BlobStoreConformanceFixture {
  blobStore: BlobStore;
  /** Called after the case, pass or fail. */
  cleanup?: () => void | Promise<void>;
}

/** Options of {@link runBlobStoreConformanceSuite}. */
export interface BlobStoreConformanceOptions extends ConformanceSuiteOptions {
  /**
   * Builds the store for one case. Stores may share a bucket across cases: every case writes
   * under its own random prefix.
   */
  create: () => Promise<BlobStoreConformanceFixture>;
}

type BlobCapability = "deletePrefix";

/** A prefix no other case uses, shaped like the engine's keys. */
const freshPrefix = (): string => `runs/${uniqueId("conformance")}/`;

const blobCases: ConformanceGroup<BlobStoreConformanceFixture, BlobCapability> = {
  name: "blobs",
  cases: [
    {
      name: "put then get round-trips JSON values of every kind",
      async run({ blobStore }) {
        const prefix = freshPrefix();
        const values: Record<string, unknown> = {
          object: { text: "héllo", list: [1, 2.5, true, null, { deep: ["x"] }] },
          array: [{ a: 1 }, { b: 2 }],
          string: "just a string",
          number: 42.5,
          boolean: false,
          null: null,
        };
        for (const [name, value] of Object.entries(values)) await blobStore.put(`${prefix}${name}`, value);
        for (const [name, value] of Object.entries(values)) {
          assert.deepEqual(await blobStore.get(`${prefix}${name}`), value, `${name} round-trips`);
        }
        await deleteAll(blobStore, prefix);
      },
    },
    {
      name: "put overwrites, and get hands out a copy",
      async run({ blobStore }) {
        const key = `${freshPrefix()}output.json`;
        await blobStore.put(key, { version: 1 });
        const stored = { version: 2, items: ["a"] };
        await blobStore.put(key, stored);
        stored.items.push("mutated after put");
        const read = (await blobStore.get(key)) as { version: number; items: string[] };
        assert.deepEqual(read, { version: 2, items: ["a"] });
        read.items.push("mutated after get");
        assert.deepEqual(await blobStore.get(key), { version: 2, items: ["a"] });
        await blobStore.delete(key);
      },
    },
    {
      name: "has and delete: a deleted key is gone and get of it rejects",
      async run({ blobStore }) {
        const key = `${freshPrefix()}artifact.json`;
        assert.equal(await blobStore.has(key), false);
        await blobStore.put(key, { ok: true });
        assert.equal(await blobStore.has(key), true);
        await blobStore.delete(key);
        assert.equal(await blobStore.has(key), false);
        await assert.rejects(blobStore.get(key), "get of a deleted key rejects");
        await blobStore.delete(key); // deleting a missing key is not an error
      },
    },
    {
      name: "keys with spaces, unicode and punctuation work",
      async run({ blobStore }) {
        const key = `${freshPrefix()}artifacts/report ü #1 (final)+v2.json`;
        await blobStore.put(key, { name: "report" });
        assert.equal(await blobStore.has(key), true);
        assert.deepEqual(await blobStore.get(key), { name: "report" });
        assert.ok((await blobStore.list(key.slice(0, key.lastIndexOf("/") + 1))).includes(key));
        await blobStore.delete(key);
      },
    },
    {
      name: "list(prefix) returns exactly the keys under the prefix",
      async run({ blobStore }) {
        const prefix = freshPrefix();
        const sibling = `${prefix.slice(0, -1)}-sibling/`;
        const keys = Array.from({ length: 25 }, (_, i) => `${prefix}stages/s${String(i).padStart(2, "0")}/output.json`);
        await Promise.all(keys.map((key, i) => blobStore.put(key, { i })));
        await blobStore.put(`${sibling}output.json`, { other: true });

        assert.deepEqual((await blobStore.list(prefix)).sort(), [...keys].sort());
        assert.deepEqual((await blobStore.list(`${prefix}stages/s0`)).sort(), keys.slice(0, 10).sort());
        assert.deepEqual(await blobStore.list(`${prefix}nothing-here/`), []);
        await deleteAll(blobStore, prefix);
        await deleteAll(blobStore, sibling);
      },
    },
    {
      name: "a 1 MB value round-trips",
      async run({ blobStore }) {
        const key = `${freshPrefix()}large.json`;
        const value = { rows: Array.from({ length: 10_000 }, (_, i) => ({ i, text: "x".repeat(90) })) };
        await blobStore.put(key, value);
        assert.deepEqual(await blobStore.get(key), value);
        await blobStore.delete(key);
      },
    },
    {
      name: "deletePrefix removes every key under the prefix, only those, and returns how many",
      requires: "deletePrefix",
      async run({ blobStore }) {
        const prefix = freshPrefix();
        const kept = `${prefix.slice(0, -1)}-kept/output.json`;
        const keys = Array.from({ length: 12 }, (_, i) => `${prefix}artifacts/a${i}.json`);
        await Promise.all(keys.map((key) => blobStore.put(key, { key })));
        await blobStore.put(kept, { kept: true });

        assert.equal(await blobStore.deletePrefix?.(prefix), keys.length);
        assert.deepEqual(await blobStore.list(prefix), []);
        for (const key of keys) assert.equal(await blobStore.has(key), false);
        assert.equal(await blobStore.has(kept), true);
        assert.equal(await blobStore.deletePrefix?.(prefix), 0);
        await blobStore.delete(kept);
      },
    },
  ],
};

async function deleteAll(blobStore: BlobStore, prefix: string): Promise<void> {
  for (const key of await blobStore.list(prefix)) await blobStore.delete(key);
}

/**
 * Registers the conformance suite of the `BlobStore` port: JSON round trips (1 MB included),
 * overwrite, copies not references, `has` / `delete`, `list(prefix)` and, when the store has it,
 * `deletePrefix`. Every case writes under its own random `runs/<id>/` prefix, so a shared bucket
 * works.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { InMemoryBlobStore } from "stageflow/kernel/testing";
 * import { runBlobStoreConformanceSuite } from "stageflow/testing";
 *
 * runBlobStoreConformanceSuite({
 *   name: "InMemoryBlobStore",
 *   describe,
 *   it,
 *   create: async () => ({ blobStore: new InMemoryBlobStore() }),
 * });
 * ```
 */
export function runBlobStoreConformanceSuite(options: BlobStoreConformanceOptions): void {
  registerSuite<BlobStoreConformanceFixture, BlobCapability>({
    title: "BlobStore conformance",
    options,
    groups: [blobCases],
    create: options.create,
    supports: (fixture) => typeof fixture.blobStore.deletePrefix === "function",
  });
}
