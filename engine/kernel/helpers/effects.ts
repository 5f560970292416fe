import type { KernelDeps } from "../deps.js";
import type { EnqueueJobInput } from "../ports.js";

/** Side effects that may only happen after the transaction that made them valid has committed. */
export interface AfterCommit {
  enqueue: EnqueueJobInput[];
  schedule: { commandType: string; payload: Record<string, unknown>; runAt: Date }[];
  cancelJobsOfRuns: string[];
  deleteBlobPrefixes: string[];
}

export function noEffects(): AfterCommit {
  return { enqueue: [], schedule: [], cancelJobsOfRuns: [], deleteBlobPrefixes: [] };
}

export function mergeEffects(target: AfterCommit, source: AfterCommit): AfterCommit {
  target.enqueue.push(...source.enqueue);
  target.schedule.push(...source.schedule);
  target.cancelJobsOfRuns.push(...source.cancelJobsOfRuns);
  target.deleteBlobPrefixes.push(...source.deleteBlobPrefixes);
  return target;
}

/**
 * Carries out post-commit effects. A crash before or during this leaves the state valid: the
 * maintenance tick re-drives lost enqueues and polls suspended stages without a schedule.
 */
export async function applyEffects(deps: KernelDeps, effects: AfterCommit): Promise<string[]> {
  for (const runId of effects.cancelJobsOfRuns) await deps.jobTransport.cancelByRun(runId);
  const jobIds = effects.enqueue.length ? await deps.jobTransport.enqueueParallel(effects.enqueue) : [];
  for (const s of effects.schedule) await deps.scheduler.schedule(s.commandType, s.payload, s.runAt);
  for (const prefix of effects.deleteBlobPrefixes) {
    if (deps.blobStore.deletePrefix) await deps.blobStore.deletePrefix(prefix);
    else for (const key of await deps.blobStore.list(prefix)) await deps.blobStore.delete(key);
  }
  return jobIds;
}
