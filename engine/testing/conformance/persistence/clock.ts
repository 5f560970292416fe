/** Adapters stamp times with the injected clock, never the wall clock. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { advanceTo, assertSameTime } from "../support.js";
import type { ConformanceClock } from "../types.js";
import { createRun, runInput, stageInput, type PersistenceConformanceFixture } from "./fixture.js";

/** A date far from the wall clock, so a wall-clock stamp cannot pass by accident. */
function moveClockFarFromWallTime(clock: ConformanceClock): void {
  const target = new Date("2030-06-15T12:34:56.789Z");
  if (clock.now().getTime() < target.getTime()) advanceTo(clock, target);
  else clock.advance(3 * 365 * 24 * 3_600_000 + 789);
}

export const clockCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "injected clock",
  cases: [
    {
      name: "createdAt and updatedAt of runs, stages and logs come from the injected clock",
      async run(fixture) {
        const { persistence, clock } = fixture;
        moveClockFarFromWallTime(clock);
        const createdAt = clock.now();
        const run = await createRun(fixture);
        assertSameTime(run.createdAt, createdAt, "run.createdAt");
        assertSameTime(run.updatedAt, createdAt, "run.updatedAt");
        const stage = await persistence.createStage(stageInput(run.id));
        assertSameTime(stage.createdAt, createdAt, "stage.createdAt");
        assertSameTime(stage.updatedAt, createdAt, "stage.updatedAt");
        await persistence.createLogs([{ workflowRunId: run.id, level: "INFO", message: "stamped" }]);
        const [log] = await persistence.getLogsByRun(run.id);
        assertSameTime(log?.createdAt, createdAt, "log.createdAt");

        clock.advance(5000);
        const updatedAt = clock.now();
        const updatedRun = await persistence.updateRun(run.id, { status: "RUNNING" });
        assertSameTime(updatedRun.updatedAt, updatedAt, "run.updatedAt after updateRun");
        assertSameTime(updatedRun.createdAt, createdAt, "run.createdAt after updateRun");
        const updatedStage = await persistence.updateStage(run.id, stage.stageId, { status: "RUNNING" });
        assertSameTime(updatedStage.updatedAt, updatedAt, "stage.updatedAt after updateStage");
        assertSameTime((await persistence.getRun(run.id))?.updatedAt, updatedAt, "stored run.updatedAt");
      },
    },
    {
      name: "writes inside a transaction are stamped from the injected clock too",
      async run(fixture) {
        const { persistence, clock } = fixture;
        moveClockFarFromWallTime(clock);
        const now = clock.now();
        const run = await persistence.withTransaction(async (tx) => {
          const created = await tx.createRun(runInput());
          await tx.createStage(stageInput(created.id));
          return created;
        });
        assertSameTime((await persistence.getRun(run.id))?.createdAt, now, "run.createdAt");
        const [stage] = await persistence.getStagesByRun(run.id);
        assertSameTime(stage?.createdAt, now, "stage.createdAt");
        assert.ok(Math.abs(now.getTime() - Date.now()) > 24 * 3_600_000, "the clock was moved away from wall time");
      },
    },
  ],
};
