/** Registers conformance cases with the caller's test framework; one fresh fixture per case. */
import type { ConformanceSuiteOptions, ConformanceTestFn } from "./types.js";

/** One conformance check. `requires` names the optional capability it needs, if any. */
export interface ConformanceCase<TFixture, TCapability extends string = never> {
  name: string;
  requires?: TCapability;
  run(fixture: TFixture): Promise<void>;
}

/** Cases shown together under one `describe`. */
export interface ConformanceGroup<TFixture, TCapability extends string = never> {
  name: string;
  cases: readonly ConformanceCase<TFixture, TCapability>[];
}

/** Anything a fixture factory returns: the adapter plus an optional cleanup. */
export interface FixtureWithCleanup {
  cleanup?: () => void | Promise<void>;
}

export interface RegisterSuiteInput<TFixture extends FixtureWithCleanup, TCapability extends string> {
  title: string;
  options: ConformanceSuiteOptions;
  groups: readonly ConformanceGroup<TFixture, TCapability>[];
  create: () => Promise<TFixture>;
  /** Whether the adapter in this fixture has a capability. */
  supports: (fixture: TFixture, capability: TCapability) => boolean;
}

export function registerSuite<TFixture extends FixtureWithCleanup, TCapability extends string>(
  input: RegisterSuiteInput<TFixture, TCapability>,
): void {
  const { title, options, groups } = input;
  const excluded = new Set(options.exclude ?? []);
  const { describe, it } = options;

  describe(`${title}: ${options.name}`, () => {
    for (const group of groups) {
      describe(group.name, () => {
        for (const testCase of group.cases) {
          const body: ConformanceTestFn = (context) => runCase(input, testCase, context);
          if (!excluded.has(testCase.name)) it(testCase.name, body);
          else if (it.skip) it.skip(testCase.name, body);
        }
      });
    }
  });
}

async function runCase<TFixture extends FixtureWithCleanup, TCapability extends string>(
  input: RegisterSuiteInput<TFixture, TCapability>,
  testCase: ConformanceCase<TFixture, TCapability>,
  context: unknown,
): Promise<void> {
  const fixture = await input.create();
  let unsupported = false;
  try {
    unsupported = testCase.requires !== undefined && !input.supports(fixture, testCase.requires);
    if (!unsupported) await testCase.run(fixture);
  } finally {
    await fixture.cleanup?.();
  }
  if (unsupported) skipDynamically(context);
}

/** vitest's and node:test's test context both have `skip()`; elsewhere the case just passes. */
function skipDynamically(context: unknown): void {
  // vitest 4's context is a function object, node:test's a plain object.
  if ((typeof context !== "object" && typeof context !== "function") || context === null || !("skip" in context)) return;
  const skip: unknown = context.skip;
  if (typeof skip === "function") skip.call(context);
}
