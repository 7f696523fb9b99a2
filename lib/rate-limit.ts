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
 * the total it knows plus its own posts not yet counted back reach the window's budget `B`
 * (`perSecond * window + burst`). So a hook posting well under its limit causes no extra write at
 * all, and one that is hammered costs one extra write per `syncEvery` posts.
 *
 * The bound across `k` instances is `B + (k - 1) * syncEvery` posts per window. An instance never
 * has more than one batch that the counter has not answered for: while its batch is on its way,
 * its other requests for the hook wait for the answer (a Lambda instance serves one request at a
 * time, so only a local server with concurrent requests ever waits). An instance completes a batch
 * only while the total it knows is at most `B - syncEvery`. Take the first add that lifts the
 * counter above `B - syncEvery`: it leaves the counter at most at `B`, and its instance admits no
 * more than `B` minus that total afterwards. Every other instance either adds one more batch, which
 * it started before learning of that add, and then learns a total above the budget; or holds fewer
 * than `syncEvery` posts it never adds. Hence at most `B + (k - 1) * syncEvery`. When the shared
 * counter fails, each instance falls back to its own count and the bound is lost (the local bucket
 * still holds).
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
  /** The start of the shared window the decision counted in. */
  windowStartMs: number;
}

interface HookState {
  tokens: number;
  refilledAtMs: number;
  windowStartMs: number;
  /** The window's total across instances, as of this instance's last sync. */
  syncedTotal: number;
  /** Posts this instance admitted in the window since its last sync. */
  unsynced: number;
  /** Posts on their way to the shared counter, whose total has not come back yet. */
  inFlight: number;
  /** That add, while it is on its way: requests that would pass one unanswered batch wait for it. */
  syncing: Promise<void> | undefined;
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
    // Never more than one batch unanswered: a post admitted now would count nowhere but here.
    for (let waiting = this.states.get(hookId); waiting?.syncing && waiting.inFlight + waiting.unsynced >= this.syncEvery; waiting = this.states.get(hookId)) {
      await waiting.syncing;
    }
    // From here to the add, nothing awaits: the clock, the decision and the counts agree.
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
      state.inFlight = 0;
      state.syncing = undefined;
    }
    const windowLeftSeconds = Math.max(1, Math.ceil((windowStartMs + this.windowMs - now) / 1000));
    if (this.counted(state) >= this.windowBudget) return this.decision(false, state, windowStartMs, windowLeftSeconds);
    if (state.tokens < 1) return this.decision(false, state, windowStartMs, Math.ceil((1 - state.tokens) / perSecond));
    state.tokens -= 1;
    state.unsynced += 1;
    if (state.unsynced >= this.syncEvery) {
      const syncing = this.sync(hookId, state, windowStartMs);
      state.syncing = syncing;
      await syncing;
      if (state.syncing === syncing) state.syncing = undefined;
    }
    return this.decision(true, state, windowStartMs, 0);
  }

  /** Adds the instance's unsynced posts to the shared counter and learns the window's total. */
  private async sync(hookId: string, state: HookState, windowStartMs: number): Promise<void> {
    const count = state.unsynced;
    state.unsynced = 0;
    state.inFlight += count;
    let total: number;
    try {
      total = await this.counter.add(hookId, windowStartMs, count, Math.ceil((windowStartMs + 2 * this.windowMs) / 1000));
    } catch {
      // The limit is a safeguard, not the service: without the shared counter, the local bucket still holds.
      total = state.syncedTotal + count;
    }
    // A window that has moved on keeps no count of the last one.
    if (state.windowStartMs !== windowStartMs) return;
    state.inFlight -= count;
    // The counter's total includes this batch and every add before it.
    state.syncedTotal = Math.max(state.syncedTotal + count, total);
  }

  /** The posts of the window this instance knows of: the shared total, and its own not yet in it. */
  private counted(state: HookState): number {
    return state.syncedTotal + state.inFlight + state.unsynced;
  }

  private decision(allowed: boolean, state: HookState, windowStartMs: number, retryAfterSeconds: number): RateLimitDecision {
    const { perSecond, burst } = this.settings;
    const globalLeft = this.windowBudget - this.counted(state);
    return {
      allowed,
      limit: burst,
      remaining: Math.max(0, Math.min(Math.floor(state.tokens), globalLeft)),
      resetSeconds: Math.ceil((burst - state.tokens) / perSecond),
      retryAfterSeconds: allowed ? 0 : Math.max(1, retryAfterSeconds),
      windowStartMs,
    };
  }

  private stateOf(hookId: string, now: number): HookState {
    let state = this.states.get(hookId);
    if (state) {
      // Re-inserted to keep the map in least-recently-used order.
      this.states.delete(hookId);
    } else {
      state = { tokens: this.settings.burst, refilledAtMs: now, windowStartMs: -1, syncedTotal: 0, unsynced: 0, inFlight: 0, syncing: undefined };
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
