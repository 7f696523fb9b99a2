import { describe, expect, it } from 'vitest';
import { deriveId, isValidId, newId, newPostId, postIdTimeMs } from '../../lib/ids.js';
import { buildPost } from '../../lib/posts/rules.js';

const NOW_MS = Date.UTC(2027, 0, 15, 12, 0, 0, 123);
const LATEST_MS = NOW_MS + 60_000;

describe('post ids carry their creation time', () => {
  it('a post id is a Mattermost id (26 characters of the alphabet) whose time reads back', () => {
    for (const createAtMs of [NOW_MS, NOW_MS + 1, Date.UTC(2026, 10, 1), Date.UTC(2200, 0, 1)]) {
      const id = newPostId(createAtMs);
      expect(isValidId(id)).toBe(true);
      expect(id).toMatch(/^[ybndrfg8ejkmcpqxot1uwisza345h769]{26}$/);
      expect(postIdTimeMs(id, Number.MAX_SAFE_INTEGER)).toBe(createAtMs);
    }
  });

  it('ids of one millisecond differ (72 random bits each)', () => {
    const made = new Set(Array.from({ length: 10_000 }, () => newPostId(NOW_MS)));
    expect(made.size).toBe(10_000);
  });

  it('buildPost gives a new post an id of its own creation time, and keeps an id it is given', () => {
    const input = { userId: newId(), channelId: newId(), rootId: '', message: 'm', type: '', props: {} };
    const post = buildPost(input, NOW_MS);
    expect(postIdTimeMs(post.id, LATEST_MS)).toBe(post.create_at);
    const derived = deriveId('reply', 'delivery', '0');
    expect(buildPost(input, NOW_MS, derived).id).toBe(derived);
  });

  it('ids that carry no time read as none: random and derived ids (hooks, tokens, delivery replies), other alphabets, a wrong check', () => {
    // Derived ids are the same every run: none of these reads as carrying a time.
    const derived = Array.from({ length: 20_000 }, (_, index) => deriveId('reply', String(index), '0'));
    expect(derived.filter((id) => postIdTimeMs(id, LATEST_MS) !== undefined)).toEqual([]);
    // Random ids pass by chance: the check byte (1 in 256; newId's padding is always zero) and a
    // time in the 2.5 months up to LATEST_MS (about 1 in 42 000) make about 1 in 11 million. One of
    // 20 000 does so in about 1 run of 540; two in about 1 of 600 000. A broken check lets
    // thousands through.
    const random = Array.from({ length: 20_000 }, () => newId());
    expect(random.filter((id) => postIdTimeMs(id, LATEST_MS) !== undefined).length).toBeLessThanOrEqual(1);
    const id = newPostId(NOW_MS);
    expect(postIdTimeMs(id.toUpperCase(), LATEST_MS)).toBeUndefined();
    expect(postIdTimeMs(`${id.slice(0, 25)}v`, LATEST_MS)).toBeUndefined();
    // The last character's two low bits are padding, zero in every id newPostId makes.
    const alphabet = 'ybndrfg8ejkmcpqxot1uwisza345h769';
    expect(postIdTimeMs(`${id.slice(0, 25)}${alphabet[alphabet.indexOf(id[25]!) + 1]}`, LATEST_MS)).toBeUndefined();
    // Any other character in the random part breaks the check byte.
    const altered = `${id.slice(0, 15)}${id[15] === 'y' ? 'b' : 'y'}${id.slice(16)}`;
    expect(postIdTimeMs(altered, LATEST_MS)).toBeUndefined();
    expect(postIdTimeMs(id.slice(1), LATEST_MS)).toBeUndefined();
  });

  it('a time before post ids carried it, or later than the caller allows, reads as none', () => {
    expect(postIdTimeMs(newPostId(Date.UTC(2026, 9, 31)), LATEST_MS)).toBeUndefined();
    expect(postIdTimeMs(newPostId(LATEST_MS + 1), LATEST_MS)).toBeUndefined();
    expect(postIdTimeMs(newPostId(LATEST_MS), LATEST_MS)).toBe(LATEST_MS);
  });
});
