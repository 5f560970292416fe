import type { Scheduler } from "../ports.js";

export interface ScheduledCommand {
  commandType: string;
  payload: Record<string, unknown>;
  runAt: Date;
}

/** Scheduler that schedules nothing but remembers what it was asked (the maintenance tick is the backstop). */
export class NoopScheduler implements Scheduler {
  readonly scheduled: ScheduledCommand[] = [];
  readonly cancelled: { commandType: string; correlationId: string }[] = [];

  async schedule(commandType: string, payload: Record<string, unknown>, runAt: Date): Promise<void> {
    this.scheduled.push({ commandType, payload, runAt });
  }

  async cancel(commandType: string, correlationId: string): Promise<void> {
    this.cancelled.push({ commandType, correlationId });
  }
}
