import type { EmitBatchResult, EventSink, PublishedEvent } from "../kernel/ports.js";

/** Stands in for EventBridge locally: keeps every published event and tells listeners. */
export class RecordingEventSink implements EventSink {
  readonly events: PublishedEvent[] = [];
  private readonly listeners = new Set<(event: PublishedEvent) => void>();

  /** Calls `listener` with each event as it is published; returns an unsubscribe function. */
  subscribe(listener: (event: PublishedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async emit(event: PublishedEvent): Promise<void> {
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
  }

  async emitBatch(events: PublishedEvent[]): Promise<EmitBatchResult> {
    for (const event of events) await this.emit(event);
    return { failed: [] };
  }
}
