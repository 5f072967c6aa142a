// Polling of an analysis in progress until it reaches a final state.
import { isFinal, type Analysis } from './ai-api';

export const POLL_INTERVAL_MS = 1500;
const MAX_BACKOFF_MS = 15_000;

export interface PollOptions {
  /** Delay between two polls (default 1.5 s). */
  intervalMs?: number;
  /** Aborting stops the polling (the promise resolves null). */
  signal?: AbortSignal;
  /** Every answer, the final one included. */
  onUpdate(analysis: Analysis): void;
  /**
   * A poll failed: return true to go on (with a growing delay, up to 15 s), false to stop (resolves null).
   * Without this hook the polling stops at the first failure.
   */
  onError?(err: unknown): boolean;
}

/** Resolves after ms, or false at once when the signal aborts. */
function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls fetchOnce every intervalMs (the first time after one interval) until the analysis it answers is final;
 * resolves with that analysis, or null when aborted or stopped by onError.
 */
export async function pollAnalysis(
  fetchOnce: (signal: AbortSignal | undefined) => Promise<Analysis>,
  opts: PollOptions,
): Promise<Analysis | null> {
  const interval = opts.intervalMs ?? POLL_INTERVAL_MS;
  let wait = interval;
  for (;;) {
    if (!(await delay(wait, opts.signal))) return null;
    let analysis: Analysis;
    try {
      analysis = await fetchOnce(opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) return null;
      if (!opts.onError?.(err)) return null;
      wait = Math.min(MAX_BACKOFF_MS, wait * 2);
      continue;
    }
    if (opts.signal?.aborted) return null;
    wait = interval;
    opts.onUpdate(analysis);
    if (isFinal(analysis.status)) return analysis;
  }
}
