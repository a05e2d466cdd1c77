import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient, retryAfterSeconds } from './errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 200, maxDelayMs: 5_000 };

/** Retries transient API failures (429 with its Retry-After, 5xx, dropped connections) with exponential back-off. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= policy.attempts || !isTransient(e)) throw e;
      const hinted = retryAfterSeconds(e);
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(hinted !== undefined ? Math.min(hinted * 1000, policy.maxDelayMs) : backoff);
    }
  }
}
