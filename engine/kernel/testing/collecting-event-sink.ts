import type { KernelEventType } from "../events.js";
import type { EmitBatchResult, EventSink, PublishedEvent } from "../ports.js";

/** EventSink that keeps every published event, for assertions. */
export class CollectingEventSink implements EventSink {
  readonly events: PublishedEvent[] = [];

  async emit(event: PublishedEvent): Promise<void> {
    this.events.push(event);
  }

  async emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> {
    this.events.push(...events);
    return { failed: [] };
  }

  getByType<T extends KernelEventType>(type: T): Extract<PublishedEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<PublishedEvent, { type: T }> => e.type === type);
  }

  /** Events of one run in the order they were published. */
  forRun(workflowRunId: string): PublishedEvent[] {
    return this.events.filter((e) => e.workflowRunId === workflowRunId);
  }

  clear(): void {
    this.events.length = 0;
  }
}
