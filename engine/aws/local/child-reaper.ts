import { spawn, type ChildProcess } from "node:child_process";

/**
 * Kills `child` when this process dies, however it dies.
 *
 * Exit and signal handlers cover a normal exit, SIGINT and SIGTERM; a SIGKILLed parent runs no
 * handler at all, so a tiny watchdog process polls the parent and kills the child when the parent
 * is gone. Without it a killed test run leaves a Java process (DynamoDB Local) behind.
 *
 * @returns a function that kills the child now and removes the handlers.
 */
export function reapOnExit(child: ChildProcess, label: string): () => void {
  const childPid = child.pid;
  if (childPid === undefined) throw new Error(`${label} did not start (no pid)`);

  const watchdog = spawn(
    process.execPath,
    [
      "-e",
      `const [parent, child] = process.argv.slice(1).map(Number);
       const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
       const timer = setInterval(() => {
         if (!alive(child)) { clearInterval(timer); return; }
         if (!alive(parent)) { try { process.kill(child, "SIGKILL"); } catch {} clearInterval(timer); }
       }, 200);`,
      String(process.pid),
      String(childPid),
    ],
    { stdio: "ignore", detached: true },
  );
  watchdog.unref();

  const killChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killChild();
    removeHandlers();
    // Re-raise so the process still ends the way it would have without our handler.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const onExit = (): void => killChild();
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("SIGHUP", onSignal);

  function removeHandlers(): void {
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }

  return () => {
    killChild();
    removeHandlers();
    try {
      if (watchdog.pid !== undefined) process.kill(watchdog.pid, "SIGKILL");
    } catch {
      // the watchdog already left with the child
    }
  };
}
