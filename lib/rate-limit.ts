/**
 * A per-hook rate limit in the shape of Mattermost's RateLimitSettings (a rate per second with a
 * burst; `X-RateLimit-*` headers; 429 `limit exceeded` with `Retry-After`), without a DynamoDB
 * write per post.
 *
 * Each function instance keeps a token bucket per hook (rate `perSecond`, capacity `burst`): exact
 * for one instance. Across instances, a shared counter per hook and window of `windowMs` (a minute
 * by default, so that the sustained rate across instances stays near `perSecond`) holds the
 * posts admitted by all of them. An instance adds its unsynced count to it (one UpdateItem) only
 * after admitting `syncEvery` posts in the window, and learns the total in return; it refuses once
 * the total plus its own unsynced posts reach the window's budget (`perSecond * window + burst`).
 * So a hook posting well under its limit causes no extra write at all, and one that is hammered
 * costs one extra write per `syncEvery` posts. An instance learns the total only when it syncs, so
 * each may pass the window's budget by at most one batch: with k busy instances the overshoot is
 * at most k * syncEvery, about k tenths of the budget (a unit test pins the bound).
 */
export interface RateCounter {
  /** Adds `count` to the hook's counter for the window and returns the new total. */
  add(hookId: string, windowStartMs: number, count: number, expiresAtSeconds: number): Promise<number>;
}

export interface RateLimitSettings {
  perSecond: number;
  burst: number;
  windowMs?: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** `X-RateLimit-Limit`: the burst a hook may send at once. */
  limit: number;
  /** `X-RateLimit-Remaining`. */
  remaining: number;
  /** `X-RateLimit-Reset`: seconds until the bucket is full again. */
  resetSeconds: number;
  /** `Retry-After` when refused. */
  retryAfterSeconds: number;
}

interface HookState {
  tokens: number;
  refilledAtMs: number;
  windowStartMs: number;
  /** The window's total across instances, as of this instance's last sync. */
  syncedTotal: number;
  /** Posts this instance admitted in the window since its last sync. */
  unsynced: number;
}

const DEFAULT_WINDOW_MS = 60_000;
/** Buckets kept per instance; the least recently used go first (a hook id is a credential, so few). */
const MAX_TRACKED_HOOKS = 10_000;

export class HookRateLimiter {
  private readonly states = new Map<string, HookState>();
  private readonly windowMs: number;
  private readonly windowBudget: number;
  private readonly syncEvery: number;

  constructor(
    private readonly settings: RateLimitSettings,
    private readonly counter: RateCounter,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.windowMs = settings.windowMs ?? DEFAULT_WINDOW_MS;
    this.windowBudget = Math.floor((settings.perSecond * this.windowMs) / 1000) + settings.burst;
    // About ten syncs per window at most per instance: the overshoot stays near a tenth of the budget per other instance.
    this.syncEvery = Math.max(1, Math.ceil(this.windowBudget / 10));
  }

  async take(hookId: string): Promise<RateLimitDecision> {
    const now = this.nowMs();
    const state = this.stateOf(hookId, now);
    const { perSecond, burst } = this.settings;
    state.tokens = Math.min(burst, state.tokens + ((now - state.refilledAtMs) / 1000) * perSecond);
    state.refilledAtMs = now;
    const windowStartMs = now - (now % this.windowMs);
    if (windowStartMs !== state.windowStartMs) {
      state.windowStartMs = windowStartMs;
      state.syncedTotal = 0;
      state.unsynced = 0;
    }
    const windowLeftSeconds = Math.max(1, Math.ceil((windowStartMs + this.windowMs - now) / 1000));
    if (state.syncedTotal + state.unsynced >= this.windowBudget) return this.refused(state, windowLeftSeconds);
    if (state.tokens < 1) return this.refused(state, Math.ceil((1 - state.tokens) / perSecond));
    state.tokens -= 1;
    state.unsynced += 1;
    if (state.unsynced >= this.syncEvery) {
      const count = state.unsynced;
      state.unsynced = 0;
      try {
        state.syncedTotal = await this.counter.add(hookId, windowStartMs, count, Math.ceil((windowStartMs + 2 * this.windowMs) / 1000));
      } catch {
        // The limit is a safeguard, not the service: without the shared counter, the local bucket still holds.
        state.syncedTotal += count;
      }
    }
    return this.decision(true, state, 0);
  }

  private refused(state: HookState, retryAfterSeconds: number): RateLimitDecision {
    return this.decision(false, state, Math.max(1, retryAfterSeconds));
  }

  private decision(allowed: boolean, state: HookState, retryAfterSeconds: number): RateLimitDecision {
    const { perSecond, burst } = this.settings;
    const globalLeft = this.windowBudget - state.syncedTotal - state.unsynced;
    return {
      allowed,
      limit: burst,
      remaining: Math.max(0, Math.min(Math.floor(state.tokens), globalLeft)),
      resetSeconds: Math.ceil((burst - state.tokens) / perSecond),
      retryAfterSeconds,
    };
  }

  private stateOf(hookId: string, now: number): HookState {
    let state = this.states.get(hookId);
    if (state) {
      // Re-inserted to keep the map in least-recently-used order.
      this.states.delete(hookId);
    } else {
      state = { tokens: this.settings.burst, refilledAtMs: now, windowStartMs: -1, syncedTotal: 0, unsynced: 0 };
      if (this.states.size >= MAX_TRACKED_HOOKS) this.states.delete(this.states.keys().next().value!);
    }
    this.states.set(hookId, state);
    return state;
  }
}

/** Mattermost's rate-limit headers, on every answer of a limited route. */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  return {
    'x-ratelimit-limit': String(decision.limit),
    'x-ratelimit-remaining': String(decision.remaining),
    'x-ratelimit-reset': String(decision.resetSeconds),
    ...(decision.allowed ? {} : { 'retry-after': String(decision.retryAfterSeconds) }),
  };
}
