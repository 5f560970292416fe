import type { PublishedEvent } from "../../engine/kernel/index.js";

const colour = (code: number) => (text: string) => (process.stdout.isTTY ? `\u001b[${code}m${text}\u001b[0m` : text);
export const dim = colour(2);
export const green = colour(32);
export const red = colour(31);
export const yellow = colour(33);
export const cyan = colour(36);
export const bold = colour(1);

const money = (usd: number) => `$${usd.toFixed(6)}`;

/** One terminal line per event, as a run moves. */
export function describeEvent(event: PublishedEvent, startedAt: number): string | undefined {
  const at = dim(`+${String(Date.parse(event.timestamp) - startedAt).padStart(5)}ms`);
  switch (event.type) {
    case "workflow:started":
      return `${at} ${bold("run started")}`;
    case "stage:started":
      return `${at} ${cyan("▶")} ${event.stageName}${event.attempt > 1 ? yellow(` (attempt ${event.attempt})`) : ""}`;
    case "stage:progress":
      return `${at}   ${dim(`${event.stageId}: ${Math.round(event.progress * 100)}% ${event.message ?? ""}`)}`;
    case "stage:completed":
      return `${at} ${green("✔")} ${event.stageName} ${dim(`${event.duration} ms, ${event.tokens} tokens, ${money(event.cost)}`)}`;
    case "stage:failed":
      return `${at} ${red("✘")} ${event.stageName}: ${event.error}${event.willRetry ? yellow(" — will retry") : ""}`;
    case "stage:suspended":
      return `${at} ${yellow("⏸")} ${event.stageName} suspended, next check ${event.nextPollAt}`;
    case "stage:resumed":
      return `${at} ${cyan("⏵")} ${event.stageId} resumed`;
    case "workflow:suspended":
      return `${at} ${yellow("run suspended")} waiting on ${event.stageIds.join(", ")}`;
    case "workflow:resumed":
      return `${at} ${cyan("run resumed")}`;
    case "workflow:completed":
      return `${at} ${green(bold("run completed"))} in ${event.duration} ms, ${event.totalTokens} tokens, ${money(event.totalCost)}`;
    case "workflow:failed":
      return `${at} ${red(bold("run failed"))}: ${event.error}`;
    case "workflow:cancelled":
      return `${at} ${yellow("run cancelled")}`;
    default:
      return undefined;
  }
}

export function formatMoney(usd: number): string {
  return money(usd);
}
