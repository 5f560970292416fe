import type { PluginReplayDLQCommand, PluginReplayDLQResult } from "../commands.js";
import type { KernelDeps } from "../deps.js";

/** `plugin.replayDLQ`: dead-lettered events become pending again (retry count reset) for the next flush. */
export async function handlePluginReplayDLQ(deps: KernelDeps, command: PluginReplayDLQCommand): Promise<PluginReplayDLQResult> {
  const events = await deps.persistence.getDLQOutboxEvents(command.maxEvents ?? 100);
  if (events.length) {
    await deps.persistence.replayDLQOutboxEvents(events.map((e) => ({ workflowRunId: e.workflowRunId, sequence: e.sequence })));
  }
  return { replayed: events.length };
}
