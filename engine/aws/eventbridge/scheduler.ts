import { createHash } from "node:crypto";
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from "@aws-sdk/client-scheduler";
import type { Clock, Scheduler } from "../../kernel/ports.js";
import { SCHEDULER_DEFINITION } from "../definitions.js";
import { AwsCredentialsError, isCredentialsError } from "../dynamo/errors.js";
import { systemClock } from "../../kernel/system-clock.js";


export interface EventBridgeSchedulerOptions {
  client: SchedulerClient;
  /** ARN the schedule invokes (the maintenance Lambda, or a queue the workers read). */
  targetArn: string;
  /** Role EventBridge Scheduler assumes to invoke the target. */
  roleArn: string;
  /** @default "stageflow" */
  groupName?: string;
  /** @default system clock */
  clock?: Clock;
}

/** What the target receives: the command to dispatch. */
export interface ScheduledCommandInput {
  source: "stageflow.scheduler";
  command: { type: string } & Record<string, unknown>;
}

const hash = (value: string, length: number): string => createHash("sha256").update(value).digest("hex").slice(0, length);
const commandPart = (commandType: string): string => commandType.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 24);

/**
 * Schedule names: `<command>-<run hash>-<stage+time hash>` (≤ 64 characters, the allowed
 * alphabet), so one run's schedules share a prefix and `cancel(commandType, runId)` finds them
 * with ListSchedules(NamePrefix), and scheduling the same wake-up twice is one schedule.
 */
export function scheduleName(commandType: string, correlationId: string, detail: string): string {
  return `${commandPart(commandType)}-${hash(correlationId, 16)}-${hash(detail, 16)}`;
}

/** `at(...)` wants whole seconds in UTC without a zone suffix. */
function atExpression(runAt: Date): string {
  return `at(${runAt.toISOString().slice(0, 19)})`;
}

/**
 * Scheduler on EventBridge Scheduler: one-time `at()` schedules that delete themselves after they
 * fire and invoke the target with `{ source: "stageflow.scheduler", command: { type, ...payload } }`.
 * The maintenance tick's query of due stages stays the backstop, so a lost schedule only delays.
 *
 * @example
 * ```ts
 * const scheduler = createEventBridgeScheduler({
 *   client: new SchedulerClient({}),
 *   targetArn: process.env.STAGEFLOW_SCHEDULE_TARGET_ARN!,
 *   roleArn: process.env.STAGEFLOW_SCHEDULE_ROLE_ARN!,
 * });
 * ```
 */
export function createEventBridgeScheduler(options: EventBridgeSchedulerOptions): Scheduler {
  const groupName = options.groupName ?? SCHEDULER_DEFINITION.defaultGroupName;
  const clock = options.clock ?? systemClock;

  const wrap = (error: unknown): Error => {
    if (isCredentialsError(error)) return new AwsCredentialsError("EventBridge Scheduler", error);
    return error instanceof Error ? error : new Error(String(error));
  };

  return {
    async schedule(commandType, payload, runAt) {
      const correlationId = String(payload.workflowRunId ?? payload.correlationId ?? "");
      // A time already past (or within a second) would be rejected: fire as soon as allowed.
      const earliest = new Date(Math.ceil((clock.now().getTime() + 1000) / 1000) * 1000);
      const at = runAt.getTime() < earliest.getTime() ? earliest : runAt;
      const input: ScheduledCommandInput = { source: "stageflow.scheduler", command: { ...payload, type: commandType } };
      try {
        await options.client.send(
          new CreateScheduleCommand({
            Name: scheduleName(commandType, correlationId, `${JSON.stringify(payload)}@${runAt.toISOString()}`),
            GroupName: groupName,
            ScheduleExpression: atExpression(at),
            ScheduleExpressionTimezone: "UTC",
            FlexibleTimeWindow: { Mode: "OFF" },
            ActionAfterCompletion: SCHEDULER_DEFINITION.actionAfterCompletion,
            Target: {
              Arn: options.targetArn,
              RoleArn: options.roleArn,
              Input: JSON.stringify(input),
              RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConflictException) return; // the same wake-up is already scheduled
        throw wrap(error);
      }
    },

    async cancel(commandType, correlationId) {
      const prefix = `${commandPart(commandType)}-${hash(correlationId, 16)}-`;
      let token: string | undefined;
      try {
        do {
          const page = await options.client.send(new ListSchedulesCommand({ GroupName: groupName, NamePrefix: prefix, NextToken: token }));
          for (const schedule of page.Schedules ?? []) {
            if (!schedule.Name) continue;
            await options.client
              .send(new DeleteScheduleCommand({ Name: schedule.Name, GroupName: groupName }))
              .catch((error: unknown) => {
                if (!(error instanceof ResourceNotFoundException)) throw error;
              });
          }
          token = page.NextToken;
        } while (token);
      } catch (error) {
        throw wrap(error);
      }
    },
  };
}
