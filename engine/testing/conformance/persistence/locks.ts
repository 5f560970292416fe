/** Named locks with expiry (e.g. the outbox flush lock). */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs, uniqueId } from "../support.js";
import type { PersistenceConformanceFixture } from "./fixture.js";

const TTL_MS = 30_000;

export const lockCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "locks",
  cases: [
    {
      name: "tryAcquireLock is exclusive until its owner releases it",
      async run({ persistence, clock }) {
        const name = uniqueId("lock");
        const options = { now: clock.now(), ttlMs: TTL_MS };
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", options), true);
        assert.equal(await persistence.tryAcquireLock(name, "owner-b", options), false);
        await persistence.releaseLock(name, "owner-a");
        assert.equal(await persistence.tryAcquireLock(name, "owner-b", options), true);
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", options), false);
      },
    },
    {
      name: "a lock is free again once its ttl has passed",
      async run({ persistence, clock }) {
        const name = uniqueId("lock");
        const t0 = clock.now();
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", { now: t0, ttlMs: TTL_MS }), true);
        clock.advance(TTL_MS - 1000);
        assert.equal(await persistence.tryAcquireLock(name, "owner-b", { now: clock.now(), ttlMs: TTL_MS }), false);
        clock.advance(2000);
        assert.equal(await persistence.tryAcquireLock(name, "owner-b", { now: clock.now(), ttlMs: TTL_MS }), true);
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", { now: clock.now(), ttlMs: TTL_MS }), false);
      },
    },
    {
      name: "tryAcquireLock is re-entrant for the owner that holds it",
      async run({ persistence, clock }) {
        const name = uniqueId("lock");
        const options = { now: clock.now(), ttlMs: TTL_MS };
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", options), true);
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", { now: addMs(clock.now(), 1000), ttlMs: TTL_MS }), true);
      },
    },
    {
      name: "releaseLock by another owner does not release the lock",
      async run({ persistence, clock }) {
        const name = uniqueId("lock");
        const options = { now: clock.now(), ttlMs: TTL_MS };
        assert.equal(await persistence.tryAcquireLock(name, "owner-a", options), true);
        await persistence.releaseLock(name, "owner-b");
        assert.equal(await persistence.tryAcquireLock(name, "owner-b", options), false);
      },
    },
    {
      name: "concurrent tryAcquireLock calls: exactly one owner wins",
      async run({ persistence, clock }) {
        const name = uniqueId("lock");
        const options = { now: clock.now(), ttlMs: TTL_MS };
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => persistence.tryAcquireLock(name, `owner-${i}`, options)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      },
    },
  ],
};
