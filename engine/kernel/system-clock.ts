import type { Clock, Timers } from "./ports.js";

/** The wall clock, for adapters and kernels not given one. */
export const systemClock: Clock = { now: () => new Date() };

/** Real timers that do not keep the process alive on their own. */
export const systemTimers: Timers = {
  setInterval: (callback, ms) => {
    const handle = setInterval(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};
