/** Delivery order: priority first, then age. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { dequeueOwn, jobInput, type JobTransportCapability, type JobTransportConformanceFixture } from "./fixture.js";

export const priorityCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "priority",
  cases: [
    {
      name: "higher priority is delivered first, then the oldest job",
      requires: "priority",
      async run({ transport, clock }) {
        const workflowRunId = jobInput().workflowRunId;
        const labels = ["low-old", "high-old", "normal", "high-new", "low-new"];
        const priorities = [1, 10, 5, 10, 1];
        for (let i = 0; i < labels.length; i++) {
          await transport.enqueue(jobInput({ workflowRunId, stageId: labels[i], priority: priorities[i] }));
          clock.advance(1000);
        }
        const order: string[] = [];
        for (let i = 0; i < labels.length; i++) {
          const job = await dequeueOwn(transport, new Set([workflowRunId]));
          assert.ok(job, `job ${i + 1} of ${labels.length} is delivered`);
          order.push(job.stageId);
          await transport.complete(job.jobId);
        }
        assert.deepEqual(order, ["high-old", "high-new", "normal", "low-old", "low-new"]);
      },
    },
  ],
};
