/** Idempotency keys: claim, complete, release, reclaim after a crash. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs, assertSameTime, uniqueId } from "../support.js";
import type { PersistenceConformanceFixture } from "./fixture.js";

const STALE_AFTER_MS = 60_000;

export const idempotencyCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "idempotency keys",
  cases: [
    {
      name: "the first acquire gets the key; a second one while it is in progress reports in_progress since the first",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const t0 = clock.now();
        assert.deepEqual(await persistence.acquireIdempotencyKey(key, "run.create", { now: t0, staleAfterMs: STALE_AFTER_MS }), {
          status: "acquired",
        });
        clock.advance(1000);
        const second = await persistence.acquireIdempotencyKey(key, "run.create", {
          now: clock.now(),
          staleAfterMs: STALE_AFTER_MS,
        });
        assert.equal(second.status, "in_progress");
        if (second.status === "in_progress") assertSameTime(second.since, t0, "in_progress since");
      },
    },
    {
      name: "completeIdempotencyKey stores the result; acquiring again returns completed with it",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const options = { now: clock.now(), staleAfterMs: STALE_AFTER_MS };
        await persistence.acquireIdempotencyKey(key, "run.create", options);
        const result = { workflowRunId: "run-1", status: "PENDING", nested: { list: [1, 2] } };
        await persistence.completeIdempotencyKey(key, "run.create", result);
        assert.deepEqual(await persistence.acquireIdempotencyKey(key, "run.create", options), { status: "completed", result });
        // A completed key never goes stale.
        const muchLater = { now: addMs(clock.now(), STALE_AFTER_MS * 100), staleAfterMs: STALE_AFTER_MS };
        assert.deepEqual(await persistence.acquireIdempotencyKey(key, "run.create", muchLater), { status: "completed", result });
      },
    },
    {
      name: "releaseIdempotencyKey makes the key acquirable again",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const options = { now: clock.now(), staleAfterMs: STALE_AFTER_MS };
        await persistence.acquireIdempotencyKey(key, "run.cancel", options);
        await persistence.releaseIdempotencyKey(key, "run.cancel");
        assert.equal((await persistence.acquireIdempotencyKey(key, "run.cancel", options)).status, "acquired");
        assert.equal((await persistence.acquireIdempotencyKey(key, "run.cancel", options)).status, "in_progress");
      },
    },
    {
      name: "an IN_PROGRESS key older than staleAfterMs is acquired again, not before",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const t0 = clock.now();
        await persistence.acquireIdempotencyKey(key, "run.create", { now: t0, staleAfterMs: STALE_AFTER_MS });

        clock.advance(STALE_AFTER_MS - 1000);
        const early = await persistence.acquireIdempotencyKey(key, "run.create", { now: clock.now(), staleAfterMs: STALE_AFTER_MS });
        assert.equal(early.status, "in_progress", "not stale yet");

        clock.advance(2000);
        const takenOver = await persistence.acquireIdempotencyKey(key, "run.create", {
          now: clock.now(),
          staleAfterMs: STALE_AFTER_MS,
        });
        assert.equal(takenOver.status, "acquired", "a crashed holder's key is reclaimed");
        const afterTakeover = await persistence.acquireIdempotencyKey(key, "run.create", {
          now: clock.now(),
          staleAfterMs: STALE_AFTER_MS,
        });
        assert.equal(afterTakeover.status, "in_progress", "the new holder's claim is fresh");
      },
    },
    {
      name: "keys are scoped by command type",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const options = { now: clock.now(), staleAfterMs: STALE_AFTER_MS };
        await persistence.acquireIdempotencyKey(key, "run.create", options);
        await persistence.completeIdempotencyKey(key, "run.create", { a: 1 });
        assert.equal((await persistence.acquireIdempotencyKey(key, "run.cancel", options)).status, "acquired");
      },
    },
    {
      name: "concurrent acquires of one key: exactly one gets it",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const options = { now: clock.now(), staleAfterMs: STALE_AFTER_MS };
        const results = await Promise.all(
          Array.from({ length: 8 }, () => persistence.acquireIdempotencyKey(key, "run.create", options)),
        );
        assert.equal(results.filter((r) => r.status === "acquired").length, 1);
        assert.equal(results.filter((r) => r.status === "in_progress").length, 7);
      },
    },
    {
      name: "completeIdempotencyKey inside a rolled-back transaction leaves the key in progress",
      async run({ persistence, clock }) {
        const key = uniqueId("idem");
        const options = { now: clock.now(), staleAfterMs: STALE_AFTER_MS };
        await persistence.acquireIdempotencyKey(key, "run.create", options);
        await assert.rejects(
          persistence.withTransaction(async (tx) => {
            await tx.completeIdempotencyKey(key, "run.create", { never: true });
            throw new Error("roll back");
          }),
        );
        assert.equal((await persistence.acquireIdempotencyKey(key, "run.create", options)).status, "in_progress");
        await persistence.withTransaction((tx) => tx.completeIdempotencyKey(key, "run.create", { ok: true }));
        assert.deepEqual(await persistence.acquireIdempotencyKey(key, "run.create", options), {
          status: "completed",
          result: { ok: true },
        });
      },
    },
  ],
};
