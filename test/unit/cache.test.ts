import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../lib/cache.js';

const clock = () => {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

describe('TtlCache', () => {
  it('loads a key once per interval, and again after it', async () => {
    const time = clock();
    const cache = new TtlCache<string>(10_000, 100, time.now);
    let loads = 0;
    const load = async () => `value ${++loads}`;
    expect(await cache.get('k', load)).toBe('value 1');
    time.advance(9_999);
    expect(await cache.get('k', load)).toBe('value 1');
    time.advance(1);
    expect(await cache.get('k', load)).toBe('value 2');
  });

  it('shares one load between concurrent callers, and remembers an absent value too', async () => {
    const cache = new TtlCache<string | undefined>(10_000, 100, clock().now);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return undefined;
    };
    await Promise.all([cache.get('unknown', load), cache.get('unknown', load), cache.get('unknown', load)]);
    await cache.get('unknown', load);
    expect(loads).toBe(1);
  });

  it('forgets a failed load, so the next caller tries again', async () => {
    const cache = new TtlCache<string>(10_000, 100, clock().now);
    await expect(cache.get('k', async () => Promise.reject(new Error('throttled')))).rejects.toThrow('throttled');
    expect(await cache.get('k', async () => 'recovered')).toBe('recovered');
  });

  it('keeps at most its bound of entries, evicting the oldest, and caches nothing with a zero interval', async () => {
    const cache = new TtlCache<number>(10_000, 2, clock().now);
    let loads = 0;
    const load = (value: number) => async () => (loads++, value);
    await cache.get('a', load(1));
    await cache.get('b', load(2));
    await cache.get('c', load(3));
    await cache.get('a', load(4));
    expect(loads).toBe(4);
    const uncached = new TtlCache<number>(0, 2, clock().now);
    let calls = 0;
    await uncached.get('x', async () => ++calls);
    await uncached.get('x', async () => ++calls);
    expect(calls).toBe(2);
  });
});
