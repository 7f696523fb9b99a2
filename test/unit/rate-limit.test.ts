import { describe, expect, it } from 'vitest';
import { HookRateLimiter, rateLimitHeaders, type RateCounter } from '../../lib/rate-limit.js';

/** The shared counter's contract in memory (DynamoDB's ADD with UPDATED_NEW), counting its writes. */
class MemoryCounter implements RateCounter {
  readonly totals = new Map<string, number>();
  writes = 0;
  async add(hookId: string, windowStartMs: number, count: number): Promise<number> {
    this.writes++;
    const key = `${hookId}/${windowStartMs}`;
    const total = (this.totals.get(key) ?? 0) + count;
    this.totals.set(key, total);
    return total;
  }
}

/**
 * Applies each add when it arrives but answers only after other requests have run, as DynamoDB does
 * for a local server serving many requests at once.
 */
class SlowCounter extends MemoryCounter {
  override async add(hookId: string, windowStartMs: number, count: number): Promise<number> {
    const total = await super.add(hookId, windowStartMs, count);
    for (let tick = 0; tick < 50; tick++) await Promise.resolve();
    return total;
  }
}

const clock = (startMs = 1_000_000) => {
  let now = startMs;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

async function takeMany(limiter: HookRateLimiter, count: number, hookId = 'hook') {
  const decisions = [];
  for (let i = 0; i < count; i++) decisions.push(await limiter.take(hookId));
  return decisions;
}

describe('HookRateLimiter on one instance', () => {
  it('admits the burst, then refuses with Retry-After, then admits again as the bucket refills', async () => {
    const time = clock();
    const limiter = new HookRateLimiter({ perSecond: 2, burst: 5 }, new MemoryCounter(), time.now);
    const burst = await takeMany(limiter, 6);
    expect(burst.map((decision) => decision.allowed)).toEqual([true, true, true, true, true, false]);
    expect(burst[4]).toMatchObject({ limit: 5, remaining: 0 });
    expect(burst[5]!.retryAfterSeconds).toBe(1);
    expect(rateLimitHeaders(burst[5]!)).toEqual({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3', 'retry-after': '1' });
    time.advance(500);
    expect((await limiter.take('hook')).allowed).toBe(true);
    expect((await limiter.take('hook')).allowed).toBe(false);
    // Other hooks have buckets of their own.
    expect((await limiter.take('other')).allowed).toBe(true);
  });

  it('writes nothing shared while a hook stays well under its limit, and one write per batch of a tenth of the budget above that', async () => {
    const time = clock(6_000_000);
    const counter = new MemoryCounter();
    // 10/s and a burst of 100 over a minute: a budget of 700 posts, synced every 70.
    const limiter = new HookRateLimiter({ perSecond: 10, burst: 100, windowMs: 60_000 }, counter, time.now);
    for (let i = 0; i < 60; i++) {
      expect((await limiter.take('calm')).allowed).toBe(true);
      time.advance(1_000);
    }
    expect(counter.writes).toBe(0);
    // 5 posts a second for the next minute: 300 posts, not 300 writes.
    for (let i = 0; i < 300; i++) {
      expect((await limiter.take('busy')).allowed).toBe(true);
      time.advance(200);
    }
    expect(counter.writes).toBe(Math.floor(300 / 70));
  });

  it('admits a burst of concurrent requests, which wait for the batch on its way instead of being refused', async () => {
    const counter = new SlowCounter();
    // A budget of 80 a minute, synced every 8: the burst of 20 spans two batches and a remainder.
    const limiter = new HookRateLimiter({ perSecond: 1, burst: 20, windowMs: 60_000 }, counter, clock(6_000_000).now);
    const decisions = await Promise.all(Array.from({ length: 21 }, () => limiter.take('burst')));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(20);
    expect(counter.writes).toBe(2);
  });
});

describe('HookRateLimiter across instances', () => {
  it('holds the window budget within one sync batch per instance, at one write per batch', async () => {
    const time = clock(5_000_000);
    const counter = new MemoryCounter();
    const settings = { perSecond: 10, burst: 100, windowMs: 5_000 };
    const instances = Array.from({ length: 4 }, () => new HookRateLimiter(settings, counter, time.now));
    let admitted = 0;
    let requests = 0;
    // Every instance hammers the hook within one window, interleaved as concurrent Lambdas would be.
    for (let round = 0; round < 200; round++) {
      for (const instance of instances) {
        requests++;
        if ((await instance.take('hot')).allowed) admitted++;
      }
      time.advance(10);
    }
    const budget = 10 * 5 + 100;
    const syncEvery = Math.ceil(budget / 10);
    expect(admitted).toBeGreaterThanOrEqual(budget);
    // After the add that lifts the counter above budget - syncEvery, each other instance adds one batch at most.
    expect(admitted).toBeLessThanOrEqual(budget + (instances.length - 1) * syncEvery);
    expect(counter.writes).toBeLessThanOrEqual(Math.ceil(admitted / syncEvery) + instances.length);
    expect(requests).toBe(800);
  });

  it('holds the same bound when each instance serves concurrent requests and the counter answers late', async () => {
    const counter = new SlowCounter();
    const time = clock(5_000_000);
    const settings = { perSecond: 10, burst: 100, windowMs: 5_000 };
    const instances = Array.from({ length: 4 }, () => new HookRateLimiter(settings, counter, time.now));
    const admittedBy = instances.map(() => 0);
    await Promise.all(
      instances.flatMap((instance, index) =>
        Array.from({ length: 4 }, async () => {
          for (let request = 0; request < 100; request++) {
            if ((await instance.take('hot')).allowed) admittedBy[index]!++;
            await Promise.resolve();
          }
        }),
      ),
    );
    const budget = 10 * 5 + 100;
    const syncEvery = Math.ceil(budget / 10);
    const admitted = admittedBy.reduce((sum, count) => sum + count, 0);
    expect(admitted).toBeGreaterThanOrEqual(budget);
    expect(admitted).toBeLessThanOrEqual(budget + (instances.length - 1) * syncEvery);
    // Every admitted post but the unsynced remainders reached the shared counter.
    expect(counter.totals.get(`hot/${5_000_000}`)).toBeGreaterThan(admitted - instances.length * syncEvery);
  });

  it('tells the window each decision counted in, also for a post admitted at the edge while its batch was on its way', async () => {
    const time = clock(5_000_000);
    let answer: (() => void) | undefined;
    // The counter answers only when the test says so, after the clock has passed into the next window.
    const counter: RateCounter = {
      add: (_hookId, _windowStartMs, count) => new Promise<number>((resolve) => (answer = () => resolve(count))),
    };
    const limiter = new HookRateLimiter({ perSecond: 1, burst: 20, windowMs: 5_000 }, counter, time.now);
    for (let i = 0; i < 2; i++) expect(await limiter.take('edge')).toMatchObject({ allowed: true, windowStartMs: 5_000_000 });
    time.advance(4_999);
    const syncing = limiter.take('edge');
    time.advance(1);
    answer!();
    expect(await syncing).toMatchObject({ allowed: true, windowStartMs: 5_000_000 });
    expect(await limiter.take('edge')).toMatchObject({ allowed: true, windowStartMs: 5_005_000 });
  });

  it('keeps the local limit when the shared counter fails', async () => {
    const broken: RateCounter = { add: async () => Promise.reject(new Error('throttled')) };
    const limiter = new HookRateLimiter({ perSecond: 1, burst: 20 }, broken, clock().now);
    const decisions = await takeMany(limiter, 25);
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(20);
  });
});
