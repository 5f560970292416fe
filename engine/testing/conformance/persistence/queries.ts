/** Index-backed queries: runs by status, run listing, due suspended stages, expired leases. */
import assert from "node:assert/strict";
import type { WorkflowRunRecord, WorkflowStageRecord } from "../../../kernel/records.js";
import type { ConformanceGroup } from "../harness.js";
import { addMs, assertSameTime, only } from "../support.js";
import { createRun, stageInput, type PersistenceConformanceFixture } from "./fixture.js";

/** Generous, so rows other cases left behind on a shared table do not crowd ours out. */
const LARGE_LIMIT = 1000;

/**
 * Due-stage and lease queries take `now` as an argument, so these cases put their times in a
 * random hour of 1990: nothing any other case writes is due that early.
 */
function farPast(): Date {
  return new Date(Date.UTC(1990, 0, 1) + Math.floor(Math.random() * 300) * 3_600_000);
}

const idOfRun = (run: WorkflowRunRecord): string => run.id;
const idOfStage = (stage: WorkflowStageRecord): string => stage.id;

export const queryCases: ConformanceGroup<PersistenceConformanceFixture> = {
  name: "queries",
  cases: [
    {
      name: "getRunsByStatus returns PENDING runs by priority (high first), then oldest first",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const created: WorkflowRunRecord[] = [];
        for (const priority of [1, 10, 5, 10, 1]) {
          created.push(await createRun(fixture, { status: "PENDING", priority }));
          clock.advance(1000);
        }
        const notPending = await createRun(fixture, { status: "RUNNING", priority: 10 });
        const ours = new Set([...created, notPending].map(idOfRun));

        const pending = await persistence.getRunsByStatus("PENDING", { limit: LARGE_LIMIT });
        for (const run of pending) assert.equal(run.status, "PENDING");
        const mine = only(pending, ours, idOfRun);
        const [low1, high1, normal, high2, low2] = created;
        assert.deepEqual(
          mine.map((r) => [r.priority, r.id]),
          [high1, high2, normal, low1, low2].map((r) => [r.priority, r.id]),
        );
      },
    },
    {
      name: "getRunsByStatus returns other statuses oldest update first",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const [a, b, c] = [await createRun(fixture), await createRun(fixture), await createRun(fixture)];
        for (const run of [b, c, a]) {
          clock.advance(1000);
          await persistence.updateRun(run.id, { status: "RUNNING" });
        }
        const running = await persistence.getRunsByStatus("RUNNING", { limit: LARGE_LIMIT });
        for (const run of running) assert.equal(run.status, "RUNNING");
        assert.deepEqual(
          only(running, new Set([a.id, b.id, c.id]), idOfRun).map(idOfRun),
          [b.id, c.id, a.id],
        );
      },
    },
    {
      name: "getRunsByStatus with updatedBefore returns only runs last updated before that time",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const old = await createRun(fixture, { status: "SUSPENDED" });
        const oldPending = await createRun(fixture, { status: "PENDING" });
        clock.advance(10_000);
        const cutoff = addMs(clock.now(), -5_000);
        const fresh = await createRun(fixture, { status: "SUSPENDED" });
        const freshPending = await createRun(fixture, { status: "PENDING" });

        const suspended = await persistence.getRunsByStatus("SUSPENDED", { updatedBefore: cutoff, limit: LARGE_LIMIT });
        for (const run of suspended) assert.ok(run.updatedAt.getTime() < cutoff.getTime(), "updatedAt before the cutoff");
        assert.deepEqual(only(suspended, new Set([old.id, fresh.id]), idOfRun).map(idOfRun), [old.id]);

        const pending = await persistence.getRunsByStatus("PENDING", { updatedBefore: cutoff, limit: LARGE_LIMIT });
        assert.deepEqual(only(pending, new Set([oldPending.id, freshPending.id]), idOfRun).map(idOfRun), [oldPending.id]);
      },
    },
    {
      name: "getRunsByStatus respects limit",
      async run(fixture) {
        for (let i = 0; i < 3; i++) await createRun(fixture, { status: "PENDING" });
        const limited = await fixture.persistence.getRunsByStatus("PENDING", { limit: 2 });
        assert.equal(limited.length, 2);
      },
    },
    {
      name: "listRuns pages through a workflow's runs with a cursor, each run exactly once",
      async run(fixture) {
        const { persistence, clock } = fixture;
        const workflowId = `wf-list-${Math.random().toString(36).slice(2)}`;
        const created: WorkflowRunRecord[] = [];
        for (let i = 0; i < 7; i++) {
          created.push(await createRun(fixture, { workflowId, status: i % 2 === 0 ? "COMPLETED" : "FAILED" }));
          clock.advance(100);
        }
        await createRun(fixture); // another workflow

        const seen = await collectPages((cursor) => persistence.listRuns({ workflowId, limit: 3, cursor }), 3);
        for (const run of seen) assert.equal(run.workflowId, workflowId);
        assert.deepEqual(seen.map(idOfRun).sort(), created.map(idOfRun).sort(), "every run exactly once");
      },
    },
    {
      name: "listRuns filters by status, alone and together with workflowId",
      async run(fixture) {
        const { persistence } = fixture;
        const workflowId = `wf-list-${Math.random().toString(36).slice(2)}`;
        const cancelled = [
          await createRun(fixture, { workflowId, status: "CANCELLED" }),
          await createRun(fixture, { workflowId, status: "CANCELLED" }),
          await createRun(fixture, { workflowId, status: "CANCELLED" }),
        ];
        const otherStatus = await createRun(fixture, { workflowId, status: "COMPLETED" });
        const otherWorkflow = await createRun(fixture, { status: "CANCELLED" });

        const both = await collectPages((cursor) => persistence.listRuns({ workflowId, status: "CANCELLED", limit: 2, cursor }), 2);
        assert.deepEqual(both.map(idOfRun).sort(), cancelled.map(idOfRun).sort());

        const ours = new Set([...cancelled, otherStatus, otherWorkflow].map(idOfRun));
        const byStatus = await collectPages((cursor) => persistence.listRuns({ status: "CANCELLED", limit: 100, cursor }), 100);
        for (const run of byStatus) assert.equal(run.status, "CANCELLED");
        assert.deepEqual(
          only(byStatus, ours, idOfRun).map(idOfRun).sort(),
          [...cancelled, otherWorkflow].map(idOfRun).sort(),
        );
      },
    },
    {
      name: "getSuspendedStagesDue returns only SUSPENDED stages due at now, earliest first, within limit",
      async run(fixture) {
        const { persistence } = fixture;
        const base = farPast();
        const run = await createRun(fixture, { status: "SUSPENDED" });
        const at = (offsetMs: number) => addMs(base, offsetMs);
        const stage = async (status: "SUSPENDED" | "RUNNING" | "PENDING", nextPollAt: Date | null) => {
          const created = await persistence.createStage(stageInput(run.id));
          return persistence.updateStage(run.id, created.stageId, { status, nextPollAt });
        };
        const dueLate = await stage("SUSPENDED", at(3000));
        const dueEarly = await stage("SUSPENDED", at(1000));
        const dueExactlyNow = await stage("SUSPENDED", at(5000));
        const notYetDue = await stage("SUSPENDED", at(5001));
        await stage("RUNNING", at(0));
        await stage("PENDING", at(0));
        await stage("SUSPENDED", null);
        const now = at(5000);

        const due = await persistence.getSuspendedStagesDue(now, LARGE_LIMIT);
        for (const s of due) {
          assert.equal(s.status, "SUSPENDED");
          assert.ok(s.nextPollAt !== null && s.nextPollAt.getTime() <= now.getTime(), "nextPollAt at or before now");
        }
        assertNonDecreasing(due.map((s) => s.nextPollAt?.getTime() ?? 0), "due stages earliest first");
        const ours = new Set((await persistence.getStagesByRun(run.id)).map(idOfStage));
        assert.deepEqual(only(due, ours, idOfStage).map(idOfStage), [dueEarly.id, dueLate.id, dueExactlyNow.id]);
        assert.ok(!due.some((s) => s.id === notYetDue.id));

        const limited = await persistence.getSuspendedStagesDue(now, 2);
        assert.equal(limited.length, 2);
        assertNonDecreasing(limited.map((s) => s.nextPollAt?.getTime() ?? 0), "limited due stages earliest first");

        // Leaving the due index keeps later cases on a shared table unaffected.
        for (const s of [dueLate, dueEarly, dueExactlyNow, notYetDue]) {
          await persistence.updateStage(run.id, s.stageId, { status: "COMPLETED", nextPollAt: null });
        }
        assert.deepEqual(only(await persistence.getSuspendedStagesDue(now, LARGE_LIMIT), ours, idOfStage), []);
      },
    },
    {
      name: "getStagesWithExpiredLease returns only RUNNING stages whose lease expired at or before now",
      async run(fixture) {
        const { persistence } = fixture;
        const base = farPast();
        const run = await createRun(fixture, { status: "RUNNING" });
        const at = (offsetMs: number) => addMs(base, offsetMs);
        const stage = async (status: "RUNNING" | "COMPLETED" | "SUSPENDED", leaseExpiresAt: Date | null) => {
          const created = await persistence.createStage(stageInput(run.id));
          return persistence.updateStage(run.id, created.stageId, {
            status,
            attempt: 1,
            leaseOwner: leaseExpiresAt ? "worker" : null,
            leaseExpiresAt,
          });
        };
        const expired = await stage("RUNNING", at(1000));
        const expiringNow = await stage("RUNNING", at(5000));
        const live = await stage("RUNNING", at(5001));
        await stage("COMPLETED", at(0));
        await stage("SUSPENDED", at(0));
        await stage("RUNNING", null);
        const now = at(5000);

        const result = await persistence.getStagesWithExpiredLease(now, LARGE_LIMIT);
        for (const s of result) {
          assert.equal(s.status, "RUNNING");
          assert.ok(s.leaseExpiresAt !== null && s.leaseExpiresAt.getTime() <= now.getTime(), "lease expired");
        }
        const ours = new Set((await persistence.getStagesByRun(run.id)).map(idOfStage));
        assert.deepEqual(
          only(result, ours, idOfStage).map(idOfStage).sort(),
          [expired.id, expiringNow.id].sort(),
        );
        assert.ok(!result.some((s) => s.id === live.id));
        assert.ok((await persistence.getStagesWithExpiredLease(now, 1)).length === 1, "respects limit");

        for (const s of [expired, expiringNow, live]) {
          await persistence.updateStage(run.id, s.stageId, { status: "COMPLETED", leaseOwner: null, leaseExpiresAt: null });
        }
      },
    },
    {
      name: "a stage created already claimed (RUNNING with a lease) keeps its lease and is found once the lease expired",
      async run(fixture) {
        const { persistence } = fixture;
        const base = farPast();
        const run = await createRun(fixture, { status: "RUNNING" });
        const leaseExpiresAt = addMs(base, 1000);
        const startedAt = addMs(base, 10);
        const created = await persistence.createStage(
          stageInput(run.id, { status: "RUNNING", attempt: 1, leaseOwner: "worker-a", leaseExpiresAt, startedAt }),
        );
        assert.equal(created.status, "RUNNING");
        assert.equal(created.attempt, 1);
        assert.equal(created.leaseOwner, "worker-a");
        assertSameTime(created.leaseExpiresAt, leaseExpiresAt, "leaseExpiresAt as given");
        assertSameTime(created.startedAt, startedAt, "startedAt as given");
        const read = await persistence.getStage(run.id, created.stageId);
        assert.equal(read?.leaseOwner, "worker-a");
        assertSameTime(read?.leaseExpiresAt ?? null, leaseExpiresAt, "leaseExpiresAt read back");

        const before = await persistence.getStagesWithExpiredLease(addMs(base, 999), LARGE_LIMIT);
        assert.ok(!before.some((s) => s.id === created.id), "not reaped while the lease is live");
        const after = await persistence.getStagesWithExpiredLease(addMs(base, 1000), LARGE_LIMIT);
        assert.ok(after.some((s) => s.id === created.id), "found once the lease expired");
        await persistence.updateStage(run.id, created.stageId, { status: "COMPLETED", leaseOwner: null, leaseExpiresAt: null });
      },
    },
  ],
};

async function collectPages(
  page: (cursor: string | undefined) => Promise<{ runs: WorkflowRunRecord[]; nextCursor?: string }>,
  pageSize: number,
): Promise<WorkflowRunRecord[]> {
  const seen: WorkflowRunRecord[] = [];
  const ids = new Set<string>();
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const result = await page(cursor);
    assert.ok(result.runs.length <= pageSize, `a page holds at most limit (${pageSize}) runs, got ${result.runs.length}`);
    for (const run of result.runs) {
      assert.ok(!ids.has(run.id), `run ${run.id} listed twice across pages`);
      ids.add(run.id);
      seen.push(run);
    }
    if (!result.nextCursor) return seen;
    cursor = result.nextCursor;
  }
  assert.fail("listRuns kept returning a nextCursor after 1000 pages");
}

function assertNonDecreasing(values: readonly number[], what: string): void {
  for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] <= values[i], `${what}: ${values.join(", ")}`);
}
