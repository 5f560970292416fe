/** Leases of crashed workers go back to the queue; heartbeats keep live ones. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import {
  assertNothingDelivered,
  dequeueOwn,
  jobInput,
  jobKey,
  type JobTransportCapability,
  type JobTransportConformanceFixture,
} from "./fixture.js";

const THRESHOLD_MS = 5 * 60_000;

export const staleLeaseCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "stale leases",
  cases: [
    {
      name: "releaseStaleJobs hands back jobs leased longer than the threshold, and only those",
      requires: "staleRelease",
      async run({ transport, clock }) {
        const workflowRunId = jobInput().workflowRunId;
        const runs = new Set([workflowRunId]);
        await transport.enqueue(jobInput({ workflowRunId, stageId: "crashed" }));
        const crashed = await dequeueOwn(transport, runs, "worker-crashed");
        assert.ok(crashed);
        clock.advance(THRESHOLD_MS + 60_000);
        await transport.enqueue(jobInput({ workflowRunId, stageId: "alive" }));
        const alive = await dequeueOwn(transport, runs, "worker-alive");
        assert.ok(alive);

        const released = await transport.releaseStaleJobs(THRESHOLD_MS);
        assert.ok(released >= 1, `releaseStaleJobs returned ${released}`);
        const again = await dequeueOwn(transport, runs, "worker-new");
        assert.ok(again, "the stale job is delivered again");
        assert.equal(jobKey(again), jobKey(crashed));
        await assertNothingDelivered(transport, runs, "a job with a fresh lease was released");
        await transport.complete(again.jobId);
        await transport.complete(alive.jobId);
      },
    },
    {
      name: "touchJob keeps a job from being released as stale",
      requires: "staleRelease",
      async run({ transport, clock }) {
        const input = jobInput();
        const runs = new Set([input.workflowRunId]);
        await transport.enqueue(input);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        clock.advance(THRESHOLD_MS - 60_000);
        await transport.touchJob(job.jobId);
        clock.advance(THRESHOLD_MS - 60_000);
        await transport.releaseStaleJobs(THRESHOLD_MS);
        await assertNothingDelivered(transport, runs, "a job touched within the threshold was released");
        await transport.complete(job.jobId);
      },
    },
  ],
};
