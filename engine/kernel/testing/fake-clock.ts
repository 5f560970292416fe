import type { Clock, Timers } from "../ports.js";

interface FakeTimer {
  id: number;
  due: number;
  intervalMs: number;
  callback: () => void;
}

/**
 * A clock that only moves when told to, with timers that fire as it moves: long waits
 * (lease expiry, retry backoff, batch polling) take no real time in tests.
 *
 * @example
 * ```ts
 * const clock = new FakeClock(new Date("2030-01-01T00:00:00Z"));
 * clock.advance(60_000); // fires any timer due within the minute
 * ```
 */
export class FakeClock implements Clock, Timers {
  private current: number;
  private timers = new Map<number, FakeTimer>();
  private nextTimerId = 1;

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves time forward, firing timers in due order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = [...this.timers.values()].filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      next.due += next.intervalMs;
      next.callback();
    }
    this.current = target;
  }

  /** Moves time forward and lets the promise callbacks that timers started settle. */
  async tick(ms: number): Promise<void> {
    this.advance(ms);
    for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  set(date: Date | number): void {
    this.current = typeof date === "number" ? date : date.getTime();
  }

  setInterval(callback: () => void, ms: number): unknown {
    const id = this.nextTimerId++;
    this.timers.set(id, { id, due: this.current + ms, intervalMs: Math.max(1, ms), callback });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Number of live timers (a stage's heartbeat, for instance). */
  get pendingTimers(): number {
    return this.timers.size;
  }
}

export { systemClock, systemTimers } from "../system-clock.js";
