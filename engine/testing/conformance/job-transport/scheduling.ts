/** Jobs hidden until a time on the injected clock: scheduledFor and suspend. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs } from "../support.js";
import {
  assertNothingDelivered,
  dequeueOwn,
  jobInput,
  type JobTransportCapability,
  type JobTransportConformanceFixture,
} from "./fixture.js";

export const schedulingCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "scheduling",
  cases: [
    {
      name: "a job with scheduledFor in the future is not delivered before then",
      requires: "scheduling",
      async run({ transport, clock }) {
        const input = jobInput({ scheduledFor: addMs(clock.now(), 60_000) });
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        await assertNothingDelivered(transport, runs, "delivered before scheduledFor");
        clock.advance(59_000);
        await assertNothingDelivered(transport, runs, "delivered 1 s before scheduledFor");
        clock.advance(1_000);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job, "delivered at scheduledFor");
        await transport.complete(job.jobId);
      },
    },
    {
      name: "suspend(jobId, at) hides the leased job until at",
      requires: "scheduling",
      async run({ transport, clock }) {
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        await transport.suspend(job.jobId, addMs(clock.now(), 120_000));
        await assertNothingDelivered(transport, runs, "a suspended job was delivered at once");
        clock.advance(119_000);
        await assertNothingDelivered(transport, runs, "a suspended job was delivered 1 s early");
        clock.advance(1_000);
        const resumed = await dequeueOwn(transport, runs);
        assert.ok(resumed, "a suspended job is delivered at its nextPollAt");
        assert.equal(resumed.stageId, input.stageId);
        assert.equal(resumed.workflowRunId, input.workflowRunId);
        await transport.complete(resumed.jobId);
      },
    },
  ],
};
