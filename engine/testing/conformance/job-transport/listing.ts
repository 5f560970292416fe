/** getJobsByWorkflowRun: what is queued and leased for a run. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { assertSameTime } from "../support.js";
import { dequeueOwn, jobInput, type JobTransportCapability, type JobTransportConformanceFixture } from "./fixture.js";

export const listingCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "listing",
  cases: [
    {
      name: "getJobsByWorkflowRun lists a run's queued and leased jobs with their status and lease",
      requires: "listing",
      async run({ transport, clock }) {
        const list = transport.getJobsByWorkflowRun?.bind(transport);
        assert.ok(list, "supports.listing is set but getJobsByWorkflowRun is missing");
        const workflowRunId = jobInput().workflowRunId;
        const first = jobInput({ workflowRunId, priority: 9 });
        const second = jobInput({ workflowRunId, priority: 1 });
        await transport.enqueue(first);
        await transport.enqueue(second);
        await transport.enqueue(jobInput());

        const queued = await list(workflowRunId);
        assert.deepEqual(queued.map((j) => j.stageId).sort(), [first.stageId, second.stageId].sort());
        for (const job of queued) {
          assert.equal(job.workflowRunId, workflowRunId);
          assert.equal(job.workflowId, first.workflowId);
          assert.equal(job.status, "PENDING");
          assert.equal(job.workerId, null);
          assert.equal(job.lockedAt, null);
          assert.ok(job.createdAt instanceof Date);
        }

        const leased = await dequeueOwn(transport, new Set([workflowRunId]), "worker-listing");
        assert.ok(leased);
        const record = (await list(workflowRunId)).find((j) => j.stageId === leased.stageId);
        assert.ok(record, "the leased job is listed");
        assert.equal(record.status, "RUNNING");
        assert.equal(record.workerId, "worker-listing");
        assertSameTime(record.lockedAt, clock.now(), "lockedAt");
        assert.equal(record.priority, leased.priority);
        assert.equal(record.attempt, leased.attempt);

        await transport.complete(leased.jobId);
        const afterComplete = (await list(workflowRunId)).find((j) => j.stageId === leased.stageId);
        assert.ok(
          afterComplete === undefined || afterComplete.status === "COMPLETED",
          `a completed job is gone or COMPLETED, got ${afterComplete?.status}`,
        );
      },
    },
  ],
};
