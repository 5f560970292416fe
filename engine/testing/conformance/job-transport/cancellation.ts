/** cancelByRun: a cancelled run's jobs are no longer delivered; other runs' are. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs } from "../support.js";
import {
  assertNothingDelivered,
  dequeueOwn,
  jobInput,
  supports,
  type JobTransportCapability,
  type JobTransportConformanceFixture,
} from "./fixture.js";

export const cancellationCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "cancelByRun",
  cases: [
    {
      name: "cancelByRun stops delivery of that run's queued jobs and leaves other runs' jobs",
      async run({ transport }) {
        const cancelled = jobInput().workflowRunId;
        const kept = jobInput().workflowRunId;
        await transport.enqueueParallel([
          jobInput({ workflowRunId: cancelled }),
          jobInput({ workflowRunId: kept }),
          jobInput({ workflowRunId: cancelled }),
        ]);
        const count = await transport.cancelByRun(cancelled);
        assert.equal(typeof count, "number");

        const runs = new Set([cancelled, kept]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job, "the other run's job is still delivered");
        assert.equal(job.workflowRunId, kept);
        await transport.complete(job.jobId);
        await assertNothingDelivered(transport, runs, "a cancelled run's job was delivered");
      },
    },
    {
      name: "cancelByRun also drops the run's scheduled jobs",
      requires: "scheduling",
      async run(fixture) {
        const { transport, clock } = fixture;
        const input = jobInput({ scheduledFor: addMs(clock.now(), 60_000) });
        await transport.enqueue(input);
        const suspendedInput = jobInput({ workflowRunId: input.workflowRunId });
        await transport.enqueue(suspendedInput);
        const runs = new Set([input.workflowRunId]);
        const leased = await dequeueOwn(transport, runs);
        assert.ok(leased);
        await transport.suspend(leased.jobId, addMs(clock.now(), 60_000));

        await transport.cancelByRun(input.workflowRunId);
        clock.advance(120_000);
        await assertNothingDelivered(transport, runs, "a cancelled run's scheduled or suspended job was delivered");
      },
    },
  ],
};
