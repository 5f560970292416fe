/** Enqueue, lease, complete, fail: what every transport must do. */
import assert from "node:assert/strict";
import type { ConformanceGroup } from "../harness.js";
import { addMs } from "../support.js";
import {
  assertNothingDelivered,
  dequeueEventually,
  dequeueOwn,
  jobInput,
  jobKey,
  supports,
  type JobTransportCapability,
  type JobTransportConformanceFixture,
} from "./fixture.js";

/** Far beyond any retry backoff a transport might apply on the injected clock. */
const ONE_HOUR = 3_600_000;

export const deliveryCases: ConformanceGroup<JobTransportConformanceFixture, JobTransportCapability> = {
  name: "delivery",
  cases: [
    {
      name: "dequeue returns an enqueued job with its fields",
      async run({ transport }) {
        const input = jobInput({ priority: 7, attempt: 3, payload: { documentId: "doc-1", pages: [1, 2] } });
        const jobId = await transport.enqueue(input);
        assert.equal(typeof jobId, "string");
        assert.ok(jobId.length > 0, "enqueue returns a job id");

        const job = await dequeueOwn(transport, new Set([input.workflowRunId]), "worker-1");
        assert.ok(job, "the enqueued job is delivered");
        assert.equal(typeof job.jobId, "string");
        assert.equal(job.workflowRunId, input.workflowRunId);
        assert.equal(job.workflowId, input.workflowId);
        assert.equal(job.stageId, input.stageId);
        assert.equal(job.attempt, 3);
        assert.equal(job.priority, 7);
        assert.deepEqual(job.payload, input.payload);
        assert.equal(typeof job.maxAttempts, "number");
        assert.ok(job.maxAttempts >= 1, "maxAttempts is at least 1");
        await transport.complete(job.jobId);
      },
    },
    {
      name: "a job enqueued without payload is delivered with an empty payload, also to a dequeue without workerId",
      async run({ transport }) {
        const { payload: _omitted, ...input } = jobInput();
        await transport.enqueue(input);
        let job = await transport.dequeue();
        while (job && job.workflowRunId !== input.workflowRunId) job = await transport.dequeue();
        assert.ok(job, "the job is delivered");
        assert.deepEqual(job.payload, {});
        await transport.complete(job.jobId);
      },
    },
    {
      name: "enqueueParallel enqueues every job and returns one id per job",
      async run({ transport }) {
        const workflowRunId = jobInput().workflowRunId;
        const inputs = [1, 2, 3].map(() => jobInput({ workflowRunId }));
        const ids = await transport.enqueueParallel(inputs);
        assert.equal(ids.length, 3);
        for (const id of ids) assert.equal(typeof id, "string");

        const delivered: string[] = [];
        for (let i = 0; i < 3; i++) {
          const job = await dequeueOwn(transport, new Set([workflowRunId]));
          assert.ok(job, `job ${i + 1} of 3 is delivered`);
          delivered.push(job.stageId);
          await transport.complete(job.jobId);
        }
        assert.deepEqual(delivered.sort(), inputs.map((j) => j.stageId).sort());
        await assertNothingDelivered(transport, new Set([workflowRunId]), "after all three were completed");
      },
    },
    {
      name: "enqueueing the same (run, stage, attempt) twice delivers it once",
      async run({ transport }) {
        const input = jobInput();
        await transport.enqueue(input);
        await transport.enqueue({ ...input, payload: { duplicate: true } });
        await transport.enqueueParallel([input]);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job, "delivered once");
        await transport.complete(job.jobId);
        await assertNothingDelivered(transport, runs, "a duplicate enqueue was delivered again");
      },
    },
    {
      name: "the same (run, stage) with another attempt is a separate job",
      async run({ transport }) {
        const first = jobInput({ attempt: 1 });
        await transport.enqueue(first);
        await transport.enqueue({ ...first, attempt: 2 });
        const runs = new Set([first.workflowRunId]);
        const attempts: number[] = [];
        for (let i = 0; i < 2; i++) {
          const job = await dequeueOwn(transport, runs);
          assert.ok(job, `attempt job ${i + 1} of 2 is delivered`);
          attempts.push(job.attempt);
          await transport.complete(job.jobId);
        }
        assert.deepEqual(attempts.sort(), [1, 2]);
      },
    },
    {
      name: "a leased job is not delivered to a second dequeue",
      async run({ transport }) {
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs, "worker-1");
        assert.ok(job);
        assert.equal(await dequeueOwn(transport, runs, "worker-2"), null, "a second worker got the leased job");
        await transport.complete(job.jobId);
      },
    },
    {
      name: "touchJob on a leased job resolves and keeps it leased",
      async run({ transport }) {
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        await transport.touchJob(job.jobId);
        await assertNothingDelivered(transport, runs, "a touched job was delivered to another worker");
        await transport.complete(job.jobId);
      },
    },
    {
      name: "complete removes the job for good",
      async run(fixture) {
        const { transport, clock } = fixture;
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        await transport.complete(job.jobId);
        await assertNothingDelivered(transport, runs, "a completed job was delivered again");
        clock.advance(ONE_HOUR);
        if (supports(fixture, "staleRelease")) await transport.releaseStaleJobs(1000);
        await assertNothingDelivered(transport, runs, "a completed job came back after time passed");
      },
    },
    {
      name: "fail with shouldRetry=true delivers the job again",
      async run({ transport, clock }) {
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        await transport.fail(job.jobId, "transient failure", true);
        clock.advance(ONE_HOUR);
        const again = await dequeueEventually(transport, runs, "a job failed with shouldRetry=true");
        assert.equal(jobKey(again), jobKey(job));
        await transport.complete(again.jobId);
      },
    },
    {
      name: "fail with shouldRetry=false does not deliver the job again",
      async run(fixture) {
        const { transport, clock } = fixture;
        const input = jobInput();
        await transport.enqueue(input);
        const runs = new Set([input.workflowRunId]);
        const job = await dequeueOwn(transport, runs);
        assert.ok(job);
        await transport.fail(job.jobId, "permanent failure", false);
        clock.advance(ONE_HOUR);
        if (supports(fixture, "staleRelease")) await transport.releaseStaleJobs(1000);
        await assertNothingDelivered(transport, runs, "a job failed with shouldRetry=false was delivered again");
      },
    },
    {
      name: "a job with scheduledFor in the past is delivered at once",
      async run({ transport, clock }) {
        const input = jobInput({ scheduledFor: addMs(clock.now(), -60_000) });
        await transport.enqueue(input);
        const job = await dequeueOwn(transport, new Set([input.workflowRunId]));
        assert.ok(job, "a job due in the past is delivered");
        await transport.complete(job.jobId);
      },
    },
  ],
};
