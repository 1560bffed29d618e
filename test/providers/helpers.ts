// Test contexts for adapters: a fixed key, the fake's base URL, and an injected sleep that
// records what was asked for and returns at once (so retries and polling cost no real time).

import type { Logger, ProviderContext, StatusUpdate } from '../../src/providers/types.ts';

export interface TestCtx extends ProviderContext {
  sleeps: number[];
  logs: string[];
  /** Virtual clock in ms, advanced by every injected sleep. */
  clock: { t: number };
}

export function testCtx(baseUrl: string, key: string | undefined, extra: Partial<ProviderContext> = {}): TestCtx {
  const sleeps: number[] = [];
  const logs: string[] = [];
  const clock = { t: 1_000_000 };
  const log: Logger = { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) };
  return {
    getKey: async () => key,
    baseUrl,
    log,
    sleeps,
    logs,
    clock,
    now: () => clock.t,
    random: () => 0.5,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      sleeps.push(ms);
      clock.t += ms;
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    },
    ...extra,
  };
}

export async function collect(it: AsyncIterable<StatusUpdate>): Promise<StatusUpdate[]> {
  const out: StatusUpdate[] = [];
  for await (const u of it) out.push(u);
  return out;
}
