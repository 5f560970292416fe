import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from "@aws-sdk/client-scheduler";
import { createEventBridgeScheduler, scheduleName } from "../../engine/aws/index.js";
import { FakeClock } from "../../engine/kernel/testing/fake-clock.js";

describe("EventBridge Scheduler", () => {
  const scheduler = mockClient(SchedulerClient);
  afterAll(() => scheduler.restore());
  beforeEach(() => scheduler.reset());

  const clock = new FakeClock(new Date("2025-01-01T00:00:00Z"));
  const create = () =>
    createEventBridgeScheduler({
      client: new SchedulerClient({ region: "us-east-1" }),
      targetArn: "arn:aws:lambda:us-east-1:123456789012:function:maintenance",
      roleArn: "arn:aws:iam::123456789012:role/scheduler",
      clock,
    });

  it("creates a one-time schedule at nextPollAt that deletes itself and carries the command", async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: "arn" });
    await create().schedule("stage.pollSuspended", { workflowRunId: "run-1", stageId: "batch" }, new Date("2025-01-01T01:30:00.250Z"));
    const input = scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input;
    expect(input.ScheduleExpression).toBe("at(2025-01-01T01:30:00)");
    expect(input.ScheduleExpressionTimezone).toBe("UTC");
    expect(input.ActionAfterCompletion).toBe("DELETE");
    expect(input.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    expect(input.GroupName).toBe("stageflow");
    expect(input.Name!.length).toBeLessThanOrEqual(64);
    expect(input.Name).toMatch(/^[0-9A-Za-z_.-]+$/);
    expect(JSON.parse(input.Target!.Input!)).toEqual({
      source: "stageflow.scheduler",
      command: { type: "stage.pollSuspended", workflowRunId: "run-1", stageId: "batch" },
    });
  });

  it("schedules a time already past for the next second instead of failing", async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    await create().schedule("stage.pollSuspended", { workflowRunId: "run-2", stageId: "s" }, new Date("2024-12-31T00:00:00Z"));
    expect(scheduler.commandCalls(CreateScheduleCommand)[0].args[0].input.ScheduleExpression).toBe("at(2025-01-01T00:00:01)");
  });

  it("treats scheduling the same wake-up twice as one schedule", async () => {
    scheduler.on(CreateScheduleCommand).rejects(new ConflictException({ message: "exists", Message: "exists", $metadata: {} }));
    await expect(
      create().schedule("stage.pollSuspended", { workflowRunId: "run-3", stageId: "s" }, new Date("2025-01-01T02:00:00Z")),
    ).resolves.toBeUndefined();
  });

  it("cancels every schedule of a run and only that run", async () => {
    const mine = scheduleName("stage.pollSuspended", "run-4", "a");
    const mineToo = scheduleName("stage.pollSuspended", "run-4", "b");
    scheduler.on(ListSchedulesCommand).callsFake((input: { NamePrefix?: string }) => ({
      Schedules: [mine, mineToo, scheduleName("stage.pollSuspended", "run-5", "a")]
        .filter((name) => name.startsWith(input.NamePrefix ?? ""))
        .map((Name) => ({ Name })),
    }));
    scheduler.on(DeleteScheduleCommand).resolves({});
    await create().cancel("stage.pollSuspended", "run-4");
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name).sort()).toEqual([mine, mineToo].sort());
  });
});
