/** Stages: create, read, fenced and conditional updates, delete. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs, assertConflict, assertSameTime, uniqueId } from "../support.js";
import { createRun, stageInput, type PersistenceConformanceFixture } from "./fixture.js";

const NULL_BY_DEFAULT = [
  "leaseOwner",
  "leaseExpiresAt",
  "retryAt",
  "startedAt",
  "completedAt",
  "duration",
  "outputData",
  "suspendedState",
  "resumeData",
  "nextPollAt",
  "pollInterval",
  "maxWaitUntil",
  "metrics",
  "errorMessage",
] as const;

export const stageCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "stages",
  cases: [
    {
      name: "createStage returns the stored stage and getStage reads it back",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const input = stageInput(run.id, {
          stageNumber: 3,
          executionGroup: 2,
          config: { model: "small", retries: 2 },
          attempt: 1,
        });
        const created = await persistence.createStage(input);

        assert.equal(created.id, `${run.id}:${input.stageId}`, "stage id is <runId>:<stageId>");
        assert.equal(created.workflowRunId, run.id);
        assert.equal(created.stageId, input.stageId);
        assert.equal(created.stageName, input.stageName);
        assert.equal(created.stageNumber, 3);
        assert.equal(created.executionGroup, 2);
        assert.equal(created.status, "PENDING");
        assert.equal(created.attempt, 1);
        assert.deepEqual(created.config, input.config);
        assert.equal(typeof created.version, "number");
        assert.ok(created.createdAt instanceof Date);
        assert.ok(created.updatedAt instanceof Date);
        for (const field of NULL_BY_DEFAULT) assert.equal(created[field], null, `${field} is null on a new stage`);

        assert.deepEqual(await persistence.getStage(run.id, input.stageId), created);
      },
    },
    {
      name: "createStage without config or attempt stores null config and a numeric attempt",
      async run(fixture) {
        const run = await createRun(fixture);
        const created = await fixture.persistence.createStage(stageInput(run.id));
        assert.equal(created.config, null);
        assert.equal(typeof created.attempt, "number");
      },
    },
    {
      name: "stage records are copies: mutating an input or a returned record, nested values included, changes nothing stored",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const input = stageInput(run.id, { config: { model: "small" } });
        const created = await persistence.createStage(input);
        (input.config as { model: string }).model = "mutated input";
        (created.config as { model: string }).model = "mutated record";
        const output = { items: [1, 2] };
        const updated = await persistence.updateStage(run.id, input.stageId, { outputData: output });
        output.items.push(3);
        (updated.outputData as { items: number[] }).items.push(4);
        const read = await persistence.getStage(run.id, input.stageId);
        assert.deepEqual(read?.config, { model: "small" });
        assert.deepEqual(read?.outputData, { items: [1, 2] });
      },
    },
    {
      name: "getStage of an unknown stage returns null",
      async run(fixture) {
        const run = await createRun(fixture);
        assert.equal(await fixture.persistence.getStage(run.id, uniqueId("missing-stage")), null);
        assert.equal(await fixture.persistence.getStage(uniqueId("missing-run"), "x"), null);
      },
    },
    {
      name: "getStagesByRun returns exactly that run's stages",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const other = await createRun(fixture);
        const mine = await Promise.all(
          [1, 2, 3].map((n) => persistence.createStage(stageInput(run.id, { stageNumber: n, executionGroup: n }))),
        );
        await persistence.createStage(stageInput(other.id));

        const stages = await persistence.getStagesByRun(run.id);
        assert.deepEqual(
          stages.map((s) => s.stageId).sort(),
          mine.map((s) => s.stageId).sort(),
        );
        assert.deepEqual(await persistence.getStagesByRun(uniqueId("missing-run")), []);
      },
    },
    {
      name: "updateStage applies the patch, bumps version and leaves unpatched fields alone",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const created = await persistence.createStage(stageInput(run.id, { config: { keep: 1 } }));
        const now = clock.now();
        const patch = {
          status: "RUNNING" as const,
          attempt: 1,
          leaseOwner: "worker-a",
          leaseExpiresAt: addMs(now, 30_000),
          startedAt: now,
          metrics: { itemsProcessed: 3 },
        };
        const running = await persistence.updateStage(run.id, created.stageId, patch);
        assert.ok(running.version > created.version, "version bumped");
        assert.equal(running.status, "RUNNING");
        assert.equal(running.attempt, 1);
        assert.equal(running.leaseOwner, "worker-a");
        assertSameTime(running.leaseExpiresAt, patch.leaseExpiresAt, "leaseExpiresAt");
        assertSameTime(running.startedAt, now, "startedAt");
        assert.deepEqual(running.metrics, { itemsProcessed: 3 });
        assert.deepEqual(running.config, { keep: 1 });
        assert.equal(running.stageName, created.stageName);
        assertSameTime(running.createdAt, created.createdAt, "createdAt unchanged");

        const suspended = await persistence.updateStage(run.id, created.stageId, {
          status: "SUSPENDED",
          leaseOwner: null,
          leaseExpiresAt: null,
          suspendedState: { batchId: "b-1", pollInterval: 1000 },
          nextPollAt: addMs(now, 60_000),
          pollInterval: 1000,
          maxWaitUntil: addMs(now, 3_600_000),
          retryAt: addMs(now, 5000),
        });
        assert.equal(suspended.leaseOwner, null);
        assert.equal(suspended.leaseExpiresAt, null);
        assert.deepEqual(suspended.suspendedState, { batchId: "b-1", pollInterval: 1000 });
        assertSameTime(suspended.nextPollAt, addMs(now, 60_000), "nextPollAt");
        assert.equal(suspended.pollInterval, 1000);
        assertSameTime(suspended.maxWaitUntil, addMs(now, 3_600_000), "maxWaitUntil");
        assertSameTime(suspended.retryAt, addMs(now, 5000), "retryAt");
        assert.equal(suspended.attempt, 1, "attempt kept");

        const completed = await persistence.updateStage(run.id, created.stageId, {
          status: "COMPLETED",
          outputData: { text: "result", list: [1, 2] },
          resumeData: { done: true },
          completedAt: addMs(now, 90_000),
          duration: 90_000,
          nextPollAt: null,
          errorMessage: null,
        });
        assert.deepEqual(completed.outputData, { text: "result", list: [1, 2] });
        assert.deepEqual(completed.resumeData, { done: true });
        assert.equal(completed.duration, 90_000);
        assert.equal(completed.nextPollAt, null);
        assert.deepEqual(await persistence.getStage(run.id, created.stageId), completed);
      },
    },
    {
      name: "updateStage honours expectedAttempt (the fencing token)",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const stage = await persistence.createStage(stageInput(run.id, { attempt: 1 }));
        await persistence.updateStage(run.id, stage.stageId, { expectedAttempt: 1, attempt: 2, leaseOwner: "worker-b" });
        await assertConflict(
          persistence.updateStage(run.id, stage.stageId, { expectedAttempt: 1, status: "COMPLETED", outputData: { stale: true } }),
          "commit with a stale attempt",
        );
        const read = await persistence.getStage(run.id, stage.stageId);
        assert.equal(read?.status, "PENDING");
        assert.equal(read?.outputData, null);
        const done = await persistence.updateStage(run.id, stage.stageId, { expectedAttempt: 2, status: "COMPLETED" });
        assert.equal(done.status, "COMPLETED");
      },
    },
    {
      name: "updateStage honours expectedStatus (one or a list) and expectedVersion",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const stage = await persistence.createStage(stageInput(run.id));
        await assertConflict(
          persistence.updateStage(run.id, stage.stageId, { expectedStatus: "RUNNING", status: "COMPLETED" }),
          "updateStage with a wrong expectedStatus",
        );
        await assertConflict(
          persistence.updateStage(run.id, stage.stageId, { expectedStatus: ["RUNNING", "SUSPENDED"], status: "COMPLETED" }),
          "updateStage with an expectedStatus list not containing the status",
        );
        const running = await persistence.updateStage(run.id, stage.stageId, {
          expectedStatus: ["PENDING", "SUSPENDED"],
          expectedVersion: stage.version,
          status: "RUNNING",
        });
        await assertConflict(
          persistence.updateStage(run.id, stage.stageId, { expectedVersion: stage.version, status: "FAILED" }),
          "updateStage with a stale expectedVersion",
        );
        assert.deepEqual(await persistence.getStage(run.id, stage.stageId), running);
        const done = await persistence.updateStage(run.id, stage.stageId, {
          expectedVersion: running.version,
          expectedStatus: "RUNNING",
          status: "COMPLETED",
        });
        assert.equal(done.status, "COMPLETED");
      },
    },
    {
      name: "updateStage of a stage that does not exist rejects and creates nothing",
      async run(fixture) {
        const run = await createRun(fixture);
        const stageId = uniqueId("missing-stage");
        await assert.rejects(fixture.persistence.updateStage(run.id, stageId, { status: "RUNNING" }));
        assert.equal(await fixture.persistence.getStage(run.id, stageId), null);
      },
    },
    {
      name: "deleteStage removes the stage and leaves the run's other stages",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const doomed = await persistence.createStage(stageInput(run.id));
        const kept = await persistence.createStage(stageInput(run.id, { stageNumber: 2 }));
        await persistence.deleteStage(run.id, doomed.stageId);
        assert.equal(await persistence.getStage(run.id, doomed.stageId), null);
        assert.deepEqual(
          (await persistence.getStagesByRun(run.id)).map((s) => s.stageId),
          [kept.stageId],
        );
        assert.deepEqual(await persistence.getStage(run.id, kept.stageId), kept);
      },
    },
  ],
};
