import type { KernelEventType } from "./events.js";
import type { EventSink, PublishedEvent } from "./ports.js";

/** Reacts to published events (notify Slack, update a search index, ...). */
export interface Plugin<T extends KernelEventType = KernelEventType> {
  id: string;
  name?: string;
  /** Event types this plugin handles. */
  on: readonly T[];
  handle(event: Extract<PublishedEvent, { type: T }>): Promise<void> | void;
}

/**
 * Defines a plugin. A plugin that throws makes the flush retry the event (delivery is at least
 * once, so handlers should de-duplicate on `event.eventId`); after the outbox's retry limit the
 * event is dead-lettered and `plugin.replayDLQ` brings it back.
 *
 * @example
 * ```ts
 * const notify = definePlugin({
 *   id: "notify",
 *   on: ["workflow:completed"],
 *   async handle(event) { console.log(event.workflowRunId, event.totalCost); },
 * });
 * ```
 */
export function definePlugin<const T extends KernelEventType>(plugin: Plugin<T>): Plugin<T> {
  if (!plugin.id) throw new Error("A plugin needs an id");
  if (!plugin.on?.length) throw new Error(`Plugin ${plugin.id} must list the event types it handles in "on"`);
  return plugin;
}

/**
 * Any plugin, whatever event types it handles. `Plugin<"a">` is not assignable to `Plugin` (the
 * event type inside `handle` makes the parameter invariant), so the runner takes this shape.
 */
export interface AnyPlugin {
  id: string;
  name?: string;
  on: readonly KernelEventType[];
  handle(event: never): Promise<void> | void;
}

export interface PluginRunnerOptions {
  plugins: readonly AnyPlugin[];
  /** Where events go before plugins see them (e.g. EventBridge). */
  sink?: EventSink;
}

/** An EventSink that forwards to `sink` and then runs every plugin subscribed to the event's type. */
export function createPluginRunner(options: PluginRunnerOptions): EventSink & { readonly plugins: readonly Plugin[] } {
  const plugins = options.plugins as readonly Plugin[];
  const byType = new Map<string, Plugin[]>();
  for (const plugin of plugins) {
    for (const type of plugin.on) {
      let list = byType.get(type);
      if (!list) byType.set(type, (list = []));
      list.push(plugin);
    }
  }
  return {
    plugins,
    async emit(event) {
      await options.sink?.emit(event);
      for (const plugin of byType.get(event.type) ?? []) {
        try {
          await plugin.handle(event as never);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new Error(`Plugin ${plugin.id} failed on ${event.type} ${event.eventId}: ${message}`);
        }
      }
    },
  };
}
