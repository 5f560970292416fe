import type { Scheduler } from "../kernel/ports.js";

/**
 * Stands in for EventBridge Scheduler locally: a timer per wake-up that delivers the same event
 * a one-time schedule delivers to the maintenance function.
 */
export class LocalScheduler implements Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deliver: (event: { source: "stageflow.scheduler"; command: { type: string } & Record<string, unknown> }) => Promise<unknown>) {}

  async schedule(commandType: string, payload: Record<string, unknown>, runAt: Date): Promise<void> {
    const key = `${commandType}|${String(payload.workflowRunId ?? "")}|${String(payload.stageId ?? "")}`;
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      // The maintenance tick is the backstop for a wake-up that fails, as on AWS.
      this.deliver({ source: "stageflow.scheduler", command: { ...payload, type: commandType } }).catch(() => undefined);
    }, Math.max(0, runAt.getTime() - Date.now()));
    this.timers.set(key, timer);
  }

  async cancel(commandType: string, correlationId: string): Promise<void> {
    for (const [key, timer] of this.timers) {
      if (key.startsWith(`${commandType}|${correlationId}|`)) {
        clearTimeout(timer);
        this.timers.delete(key);
      }
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
