/** Run logs. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { createRun, type PersistenceConformanceFixture } from "./fixture.js";

export const logCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "logs",
  cases: [
    {
      name: "createLogs stores logs that getLogsByRun returns with their fields, for that run only",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const run = await createRun(fixture);
        const other = await createRun(fixture);
        await persistence.createLogs([
          { workflowRunId: run.id, level: "INFO", message: "started" },
          { workflowRunId: run.id, stageId: "extract", level: "WARN", message: "slow", metadata: { ms: 1500 } },
          { workflowRunId: other.id, level: "ERROR", message: "other run" },
        ]);
        clock.advance(1000);
        await persistence.createLogs([{ workflowRunId: run.id, stageId: "extract", level: "DEBUG", message: "later" }]);

        const logs = await persistence.getLogsByRun(run.id);
        assert.deepEqual(logs.map((l) => l.message).sort(), ["later", "slow", "started"]);
        const slow = logs.find((l) => l.message === "slow");
        assert.ok(slow);
        assert.equal(typeof slow.id, "string");
        assert.equal(slow.workflowRunId, run.id);
        assert.equal(slow.stageId, "extract");
        assert.equal(slow.level, "WARN");
        assert.deepEqual(slow.metadata, { ms: 1500 });
        assert.ok(slow.createdAt instanceof Date);
        const started = logs.find((l) => l.message === "started");
        assert.equal(started?.stageId, null, "stageId defaults to null");
        assert.equal(started?.metadata, null, "metadata defaults to null");
        assert.equal(new Set(logs.map((l) => l.id)).size, 3, "log ids are unique");

        assert.equal((await persistence.getLogsByRun(run.id, { limit: 2 })).length, 2);
        assert.deepEqual((await persistence.getLogsByRun(other.id)).map((l) => l.message), ["other run"]);
      },
    },
    {
      name: "createLogs with an empty list is a no-op",
      async run(fixture) {
        const run = await createRun(fixture);
        await fixture.persistence.createLogs([]);
        assert.deepEqual(await fixture.persistence.getLogsByRun(run.id), []);
      },
    },
  ],
};
