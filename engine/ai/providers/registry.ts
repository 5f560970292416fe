/**
 * Loads provider adapters on first use. Each adapter module, and the SDK behind it, is imported
 * with a dynamic `import()`, so importing `stageflow` or `stageflow/ai` loads no provider SDK.
 */

import type { ProviderName } from "../types.js";
import type { Provider, ProviderContext, ProvidersConfig } from "./types.js";

let defaults: ProvidersConfig = {};

/**
 * Process-wide provider settings, used by every helper that does not override them: the place to
 * put keys read once at start-up (e.g. from AWS Secrets Manager) or a gateway's base URL.
 * Replaces the previous settings.
 *
 * @example
 * ```ts
 * configureAIProviders({
 *   openai: { apiKey: () => readSecret("stageflow/openai") },
 *   anthropic: { baseURL: "https://gateway.example.com/anthropic" },
 * });
 * ```
 */
export function configureAIProviders(config: ProvidersConfig): void {
  defaults = { ...config };
}

/** The providers one helper uses, each created once. */
export class ProviderRegistry {
  private readonly loaded = new Map<ProviderName, Promise<Provider>>();

  constructor(
    private readonly config: ProvidersConfig,
    private readonly context: ProviderContext,
  ) {}

  get(name: ProviderName): Promise<Provider> {
    let provider = this.loaded.get(name);
    if (!provider) {
      provider = this.load(name);
      this.loaded.set(name, provider);
      provider.catch(() => this.loaded.delete(name));
    }
    return provider;
  }

  private async load(name: ProviderName): Promise<Provider> {
    switch (name) {
      case "local": {
        const config = { ...defaults.local, ...this.config.local };
        const clock = config.clock;
        return (await import("./local.js")).createLocalProvider(config, clock ? { now: () => clock.now() } : this.context);
      }
      case "openai":
        return (await import("./openai.js")).createOpenAIProvider({ ...defaults.openai, ...this.config.openai });
      case "anthropic":
        return (await import("./anthropic.js")).createAnthropicProvider({ ...defaults.anthropic, ...this.config.anthropic });
      case "google":
        return (await import("./google.js")).createGoogleProvider({ ...defaults.google, ...this.config.google });
    }
  }
}
