import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineStage, WorkflowBuilder } from "../../engine/index.js";
import { createServerlessHost } from "../../engine/hosts/serverless/index.js";
import { createHarness } from "../support/kernel-harness.js";

const step = defineStage({
  id: "step",
  name: "Step",
  schemas: { input: z.object({}), output: z.object({}), config: z.object({}) },
  async execute() {
    return { output: {} };
  },
});
const served = new WorkflowBuilder("served", "Served", "", z.object({}), z.object({})).pipe(step).build();

describe("the maintenance tick", () => {
  it("leaves a PENDING run of a workflow this host does not serve to other hosts, and still reaps and re-drives", async () => {
    const h = createHarness([served]);
    // A run of another deployment's workflow, waiting to be claimed.
    await h.persistence.createRun({
      id: "foreign-run",
      workflowId: "not-served-here",
      workflowName: "Other",
      workflowType: "not-served-here",
      status: "PENDING",
      input: {},
      config: {},
      priority: 5,
    });
    const runId = await h.start("served", {});
    await h.queue.cancelByRun(runId); // its job is lost
    h.clock.advance(120_000);
    const host = createServerlessHost({ kernel: h.kernel, jobTransport: h.queue, workerId: "m" });
    const tick = await host.runMaintenanceTick();
    expect(tick.errors).toEqual([]);
    expect(tick.claimed).toEqual([]);
    expect(tick.stuckRuns.redriven).toBe(1);
    expect((await h.persistence.getRun("foreign-run"))?.status).toBe("PENDING");
  });

  it("runs every step even when one throws, and reports the failure", async () => {
    const h = createHarness([served]);
    const runId = await h.start("served", {});
    await h.queue.cancelByRun(runId);
    h.clock.advance(120_000);
    h.persistence.getSuspendedStagesDue = async () => {
      throw new Error("index unavailable");
    };
    const host = createServerlessHost({ kernel: h.kernel, jobTransport: h.queue, workerId: "m" });
    const tick = await host.runMaintenanceTick();
    expect(tick.errors.map((e) => e.step)).toEqual(["stage.pollSuspended"]);
    expect(tick.stuckRuns.redriven).toBe(1);
    expect(tick.outbox.published).toBeGreaterThan(0);
  });
});
