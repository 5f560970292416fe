/** Runs: create, read, conditional update, cost totals. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs, assertConflict, assertSameTime, uniqueId } from "../support.js";
import { createRun, runInput, type PersistenceConformanceFixture } from "./fixture.js";

export const runCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "runs",
  cases: [
    {
      name: "createRun returns the stored run and getRun reads it back, Date fields included",
      async run({ persistence, clock }) {
        const startedAt = addMs(clock.now(), -1234);
        const input = runInput({
          status: "RUNNING",
          priority: 7,
          currentGroup: 2,
          startedAt,
          metadata: { source: "conformance", tags: ["a", "b"] },
        });
        const created = await persistence.createRun(input);

        assert.equal(created.id, input.id);
        assert.equal(created.workflowId, input.workflowId);
        assert.equal(created.workflowName, input.workflowName);
        assert.equal(created.workflowType, input.workflowType);
        assert.equal(created.status, "RUNNING");
        assert.equal(created.priority, 7);
        assert.equal(created.currentGroup, 2);
        assert.deepEqual(created.input, input.input);
        assert.deepEqual(created.config, input.config);
        assert.deepEqual(created.metadata, input.metadata);
        assertSameTime(created.startedAt, startedAt, "startedAt");
        assert.ok(created.createdAt instanceof Date, "createdAt is a Date");
        assert.ok(created.updatedAt instanceof Date, "updatedAt is a Date");
        assert.equal(typeof created.version, "number");
        assert.equal(created.totalCost, 0);
        assert.equal(created.totalTokens, 0);
        assert.equal(created.lastEventSeq, 0);
        assert.equal(created.completedAt, null);
        assert.equal(created.duration, null);
        assert.equal(created.output, null);
        assert.equal(created.errorMessage, null);

        assert.deepEqual(await persistence.getRun(input.id), created);
      },
    },
    {
      name: "createRun without optional fields stores null metadata and startedAt",
      async run(fixture) {
        const created = await createRun(fixture);
        assert.equal(created.metadata, null);
        assert.equal(created.startedAt, null);
        assert.equal(typeof created.currentGroup, "number");
        assert.deepEqual(await fixture.persistence.getRun(created.id), created);
      },
    },
    {
      name: "getRun of an unknown id returns null",
      async run({ persistence }) {
        assert.equal(await persistence.getRun(uniqueId("missing-run")), null);
      },
    },
    {
      name: "run records are copies: mutating an input or a returned record, nested values included, changes nothing stored",
      async run(fixture) {
        const { persistence } = fixture;
        const input = runInput();
        const created = await persistence.createRun(input);
        (input.config as { extract: unknown }).extract = "mutated input";
        created.status = "FAILED";
        (created.input as { document: string }).document = "mutated";
        const read = await persistence.getRun(created.id);
        assert.ok(read);
        read.config.extract = "mutated";
        const again = await persistence.getRun(created.id);
        assert.equal(again?.status, "PENDING");
        assert.deepEqual(again?.input, runInput().input);
        assert.deepEqual(again?.config, runInput().config);
      },
    },
    {
      name: "createRun with an id that exists throws PersistenceConflictError and keeps the first run",
      async run(fixture) {
        const first = await createRun(fixture, { workflowName: "first" });
        await assertConflict(
          fixture.persistence.createRun(runInput({ id: first.id, workflowName: "second" })),
          "createRun with an existing id",
        );
        assert.deepEqual(await fixture.persistence.getRun(first.id), first);
      },
    },
    {
      name: "updateRun applies the patch, bumps version and leaves unpatched fields alone",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const created = await createRun(fixture, { metadata: { keep: true } });
        const startedAt = clock.now();
        const running = await persistence.updateRun(created.id, { status: "RUNNING", startedAt, currentGroup: 1 });
        assert.ok(running.version > created.version, "version bumped");
        assert.equal(running.status, "RUNNING");
        assertSameTime(running.startedAt, startedAt, "startedAt");
        assert.equal(running.currentGroup, 1);
        assert.equal(running.workflowId, created.workflowId);
        assert.equal(running.priority, created.priority);
        assert.deepEqual(running.input, created.input);
        assert.deepEqual(running.config, created.config);
        assert.deepEqual(running.metadata, created.metadata);
        assertSameTime(running.createdAt, created.createdAt, "createdAt unchanged");

        const completedAt = addMs(startedAt, 4321);
        const output = { summary: "done", items: [{ id: 1 }, { id: 2 }] };
        const failed = await persistence.updateRun(created.id, {
          status: "FAILED",
          completedAt,
          duration: 4321,
          output,
          errorMessage: "boom",
        });
        assert.ok(failed.version > running.version, "version bumped again");
        assertSameTime(failed.completedAt, completedAt, "completedAt");
        assert.equal(failed.duration, 4321);
        assert.deepEqual(failed.output, output);
        assert.equal(failed.errorMessage, "boom");
        assert.equal(failed.currentGroup, 1, "currentGroup kept");

        const cleared = await persistence.updateRun(created.id, { errorMessage: null, completedAt: null });
        assert.equal(cleared.errorMessage, null);
        assert.equal(cleared.completedAt, null);
        assert.equal(cleared.status, "FAILED");
        assert.deepEqual(await persistence.getRun(created.id), cleared);
      },
    },
    {
      name: "updateRun with a stale expectedVersion throws PersistenceConflictError and writes nothing",
      async run(fixture) {
        const { persistence } = fixture;
        const created = await createRun(fixture);
        const updated = await persistence.updateRun(created.id, { expectedVersion: created.version, status: "RUNNING" });
        await assertConflict(
          persistence.updateRun(created.id, { expectedVersion: created.version, status: "FAILED" }),
          "updateRun with a stale expectedVersion",
        );
        assert.deepEqual(await persistence.getRun(created.id), updated);
        const next = await persistence.updateRun(created.id, { expectedVersion: updated.version, status: "COMPLETED" });
        assert.equal(next.status, "COMPLETED");
      },
    },
    {
      name: "updateRun honours expectedStatus given as one status or as a list",
      async run(fixture) {
        const { persistence } = fixture;
        const created = await createRun(fixture, { status: "PENDING" });
        await assertConflict(
          persistence.updateRun(created.id, { expectedStatus: "RUNNING", status: "COMPLETED" }),
          "updateRun with a wrong expectedStatus",
        );
        await assertConflict(
          persistence.updateRun(created.id, { expectedStatus: ["RUNNING", "SUSPENDED"], status: "COMPLETED" }),
          "updateRun with expectedStatus list not containing the status",
        );
        assert.equal((await persistence.getRun(created.id))?.status, "PENDING");

        const running = await persistence.updateRun(created.id, { expectedStatus: "PENDING", status: "RUNNING" });
        assert.equal(running.status, "RUNNING");
        const cancelled = await persistence.updateRun(created.id, {
          expectedStatus: ["PENDING", "RUNNING", "SUSPENDED"],
          status: "CANCELLED",
        });
        assert.equal(cancelled.status, "CANCELLED");
      },
    },
    {
      name: "updateRun with expectedVersion and expectedStatus needs both to hold",
      async run(fixture) {
        const { persistence } = fixture;
        const created = await createRun(fixture, { status: "RUNNING" });
        await assertConflict(
          persistence.updateRun(created.id, { expectedVersion: created.version, expectedStatus: "PENDING", status: "FAILED" }),
          "right version, wrong status",
        );
        await assertConflict(
          persistence.updateRun(created.id, { expectedVersion: created.version + 1, expectedStatus: "RUNNING", status: "FAILED" }),
          "wrong version, right status",
        );
        const done = await persistence.updateRun(created.id, {
          expectedVersion: created.version,
          expectedStatus: "RUNNING",
          status: "COMPLETED",
        });
        assert.equal(done.status, "COMPLETED");
      },
    },
    {
      name: "updateRun addCost and addTokens add to the stored totals",
      async run(fixture) {
        const { persistence } = fixture;
        const created = await createRun(fixture);
        await persistence.updateRun(created.id, { addCost: 0.5, addTokens: 100 });
        const second = await persistence.updateRun(created.id, { addCost: 0.25, addTokens: 50 });
        assert.equal(second.totalCost, 0.75);
        assert.equal(second.totalTokens, 150);
        const read = await persistence.getRun(created.id);
        assert.equal(read?.totalCost, 0.75);
        assert.equal(read?.totalTokens, 150);
      },
    },
    {
      name: "concurrent addCost updates are all counted",
      async run(fixture) {
        const { persistence } = fixture;
        const created = await createRun(fixture);
        await Promise.all(
          Array.from({ length: 10 }, () => persistence.updateRun(created.id, { addCost: 0.125, addTokens: 10 })),
        );
        const read = await persistence.getRun(created.id);
        assert.equal(read?.totalCost, 1.25);
        assert.equal(read?.totalTokens, 100);
      },
    },
    {
      name: "updateRun of a run that does not exist rejects and creates nothing",
      async run({ persistence }) {
        const id = uniqueId("missing-run");
        await assert.rejects(persistence.updateRun(id, { status: "RUNNING" }));
        assert.equal(await persistence.getRun(id), null);
      },
    },
  ],
};
