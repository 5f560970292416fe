/** withTransaction: atomic commit, rollback on throw, read-your-writes, conflicts. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { assertConflict, isConflict, settleAll, uniqueId, describeError } from "../support.js";
import { createRun, eventInputs, runInput, stageInput, type PersistenceConformanceFixture } from "./fixture.js";

export const transactionCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "withTransaction",
  cases: [
    {
      name: "commits every write together and returns the callback's result",
      async run(fixture) {
        const { persistence } = fixture;
        const existing = await createRun(fixture);
        const newRun = runInput();
        const stageOfNew = stageInput(newRun.id);
        const result = await persistence.withTransaction(async (tx) => {
          await tx.createRun(newRun);
          await tx.createStage(stageOfNew);
          await tx.appendOutboxEvents(eventInputs(fixture, newRun.id, "created", 2));
          await tx.updateRun(existing.id, { expectedVersion: existing.version, status: "RUNNING" });
          return "committed";
        });
        assert.equal(result, "committed");
        assert.equal((await persistence.getRun(newRun.id))?.workflowId, newRun.workflowId);
        assert.equal((await persistence.getStage(newRun.id, stageOfNew.stageId))?.stageName, stageOfNew.stageName);
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(newRun.id)).map((e) => e.sequence),
          [1, 2],
        );
        assert.equal((await persistence.getRun(existing.id))?.status, "RUNNING");
      },
    },
    {
      name: "a throw inside rolls back every write (runs, stages, outbox events, idempotency completion) and rethrows",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const existing = await createRun(fixture, { status: "RUNNING" });
        await persistence.appendOutboxEvents(eventInputs(fixture, existing.id, "before", 1));
        const runBefore = await persistence.getRun(existing.id);
        const updatedStage = await persistence.createStage(stageInput(existing.id, { stageNumber: 1 }));
        const deletedStage = await persistence.createStage(stageInput(existing.id, { stageNumber: 2 }));
        const idempotencyKey = uniqueId("idem");
        await persistence.acquireIdempotencyKey(idempotencyKey, "run.create", { now: clock.now(), staleAfterMs: 60_000 });
        const newRun = runInput();
        const newStage = stageInput(existing.id, { stageNumber: 3 });
        const boom = new Error("boom inside the transaction");

        await assert.rejects(
          persistence.withTransaction(async (tx) => {
            await tx.createRun(newRun);
            await tx.appendOutboxEvents(eventInputs(fixture, newRun.id, "new", 1));
            await tx.updateRun(existing.id, { status: "COMPLETED", addCost: 1, addTokens: 10, errorMessage: "x" });
            await tx.createStage(newStage);
            await tx.updateStage(existing.id, updatedStage.stageId, { status: "COMPLETED", outputData: { lost: true } });
            await tx.deleteStage(existing.id, deletedStage.stageId);
            await tx.appendOutboxEvents(eventInputs(fixture, existing.id, "rolled-back", 2));
            await tx.completeIdempotencyKey(idempotencyKey, "run.create", { runId: newRun.id });
            throw boom;
          }),
          (error: unknown) => {
            assert.equal(error, boom, `withTransaction rethrows the callback's error, got ${describeError(error)}`);
            return true;
          },
        );

        assert.equal(await persistence.getRun(newRun.id), null, "created run rolled back");
        assert.deepEqual(await persistence.getOutboxEventsByRun(newRun.id), [], "new run's events rolled back");
        assert.deepEqual(await persistence.getRun(existing.id), runBefore, "run update rolled back");
        assert.equal(await persistence.getStage(existing.id, newStage.stageId), null, "created stage rolled back");
        assert.deepEqual(await persistence.getStage(existing.id, updatedStage.stageId), updatedStage, "stage update rolled back");
        assert.deepEqual(await persistence.getStage(existing.id, deletedStage.stageId), deletedStage, "stage delete rolled back");
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(existing.id)).map((e) => e.sequence),
          [1],
          "outbox events rolled back",
        );
        const again = await persistence.acquireIdempotencyKey(idempotencyKey, "run.create", {
          now: clock.now(),
          staleAfterMs: 60_000,
        });
        assert.equal(again.status, "in_progress", "idempotency completion rolled back");
        // Nothing half-written blocks a retry of the same work.
        await persistence.createRun(newRun);
      },
    },
    {
      name: "createLogs inside a rolled-back transaction writes nothing",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        await assert.rejects(
          persistence.withTransaction(async (tx) => {
            await tx.createLogs([{ workflowRunId: run.id, level: "INFO", message: "never" }]);
            throw new Error("roll back");
          }),
        );
        assert.deepEqual(await persistence.getLogsByRun(run.id), []);
      },
    },
    {
      name: "reads inside a transaction see its own writes",
      async run(fixture) {
        const { persistence } = fixture;
        const existing = await createRun(fixture);
        const newRun = runInput();
        await persistence.withTransaction(async (tx) => {
          await tx.createRun(newRun);
          assert.equal((await tx.getRun(newRun.id))?.id, newRun.id, "created run visible inside");

          const updated = await tx.updateRun(existing.id, { status: "RUNNING", addCost: 0.5 });
          const read = await tx.getRun(existing.id);
          assert.equal(read?.status, "RUNNING", "updated status visible inside");
          assert.equal(read?.totalCost, 0.5, "added cost visible inside");
          assert.equal(read?.version, updated.version, "bumped version visible inside");

          const stage = stageInput(existing.id);
          await tx.createStage(stage);
          assert.equal((await tx.getStage(existing.id, stage.stageId))?.stageName, stage.stageName, "created stage visible inside");
          await tx.updateStage(existing.id, stage.stageId, { status: "RUNNING", attempt: 1 });
          assert.equal((await tx.getStage(existing.id, stage.stageId))?.attempt, 1, "updated stage visible inside");
          assert.deepEqual(
            (await tx.getStagesByRun(existing.id)).map((s) => s.stageId),
            [stage.stageId],
            "getStagesByRun sees the created stage",
          );
          // A conditional write on a version produced inside the transaction holds.
          await tx.updateRun(existing.id, { expectedVersion: updated.version, status: "COMPLETED" });
        });
        assert.equal((await persistence.getRun(existing.id))?.status, "COMPLETED");
      },
    },
    {
      name: "appendOutboxEvents twice in one transaction continues the numbering",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "before", 1));
        const inside = await persistence.withTransaction(async (tx) => {
          const first = await tx.appendOutboxEvents(eventInputs(fixture, run.id, "a", 2));
          const second = await tx.appendOutboxEvents(eventInputs(fixture, run.id, "b", 1));
          return [...first, ...second].map((e) => e.sequence);
        });
        assert.deepEqual(inside, [2, 3, 4]);
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(run.id)).map((e) => e.sequence),
          [1, 2, 3, 4],
        );
      },
    },
    {
      name: "a failed condition inside a transaction throws PersistenceConflictError and writes nothing",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const stage = stageInput(run.id);
        const newRun = runInput();
        await assertConflict(
          persistence.withTransaction(async (tx) => {
            await tx.createRun(newRun);
            await tx.createStage(stage);
            await tx.appendOutboxEvents(eventInputs(fixture, run.id, "lost", 1));
            await tx.updateRun(run.id, { expectedVersion: run.version + 100, status: "RUNNING" });
          }),
          "transaction with a failing expectedVersion",
        );
        assert.equal(await persistence.getRun(newRun.id), null);
        assert.equal(await persistence.getStage(run.id, stage.stageId), null);
        assert.deepEqual(await persistence.getOutboxEventsByRun(run.id), []);
        assert.deepEqual(await persistence.getRun(run.id), run);
      },
    },
    {
      name: "of two concurrent transactions updating with the same expectedVersion exactly one commits",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        const version = run.version;
        const stages = [stageInput(run.id), stageInput(run.id)];
        const results = await settleAll(
          stages.map((stage, i) => () =>
            persistence.withTransaction(async (tx) => {
              await tx.getRun(run.id);
              await tx.createStage(stage);
              await tx.appendOutboxEvents(eventInputs(fixture, run.id, `tx${i}`, 1));
              await tx.updateRun(run.id, { expectedVersion: version, currentGroup: i + 10 });
              return i;
            }),
          ),
        );
        const winners = results.filter((r) => r.status === "fulfilled");
        const losers = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        assert.equal(winners.length, 1, "exactly one transaction commits");
        assert.ok(isConflict(losers[0]?.reason), `the loser fails with PersistenceConflictError, got ${describeError(losers[0]?.reason)}`);
        const winner = (winners[0] as PromiseFulfilledResult<number>).value;
        const loser = 1 - winner;

        const after = await persistence.getRun(run.id);
        assert.equal(after?.currentGroup, winner + 10);
        assert.ok((await persistence.getStage(run.id, stages[winner].stageId)) !== null, "winner's stage committed");
        assert.equal(await persistence.getStage(run.id, stages[loser].stageId), null, "loser's stage not written");
        const events = await persistence.getOutboxEventsByRun(run.id);
        assert.deepEqual(events.map((e) => e.payload.label), [`tx${winner}-1`], "only the winner's event");
        assert.deepEqual(events.map((e) => e.sequence), [1]);
      },
    },
    {
      name: "appendOutboxEvents does not bump the run's version: a transaction can append and then update with the version it read",
      async run(fixture) {
        const { persistence } = fixture;
        const run = await createRun(fixture);
        await persistence.appendOutboxEvents(eventInputs(fixture, run.id, "outside", 2));
        const afterAppend = await persistence.getRun(run.id);
        assert.equal(afterAppend?.version, run.version, "appendOutboxEvents outside a transaction keeps the version");

        await persistence.withTransaction(async (tx) => {
          const read = await tx.getRun(run.id);
          assert.ok(read);
          await tx.appendOutboxEvents(eventInputs(fixture, run.id, "inside", 1));
          await tx.updateRun(run.id, { expectedVersion: read.version, status: "RUNNING" });
        });
        const final = await persistence.getRun(run.id);
        assert.equal(final?.status, "RUNNING");
        assert.deepEqual(
          (await persistence.getOutboxEventsByRun(run.id)).map((e) => e.sequence),
          [1, 2, 3],
        );
      },
    },
  ],
};
