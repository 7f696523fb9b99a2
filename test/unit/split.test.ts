import { describe, expect, it } from 'vitest';
import { countRunes, goJsonRunes, takeRunes } from '../../lib/posts/rules.js';
import { splitWebhookPost } from '../../lib/posts/webhook-post.js';
import { decodeAttachments, type SlackAttachment } from '../../lib/slack.js';

const MAX_POST = 10_000;
const MAX_PROPS = 760_000;

function attachmentsOf(...textRunes: number[]): SlackAttachment[] {
  return decodeAttachments(textRunes.map((runes) => ({ text: '那'.repeat(runes) }))) ?? [];
}

function shape(splits: ReturnType<typeof splitWebhookPost>) {
  return splits.map((split) => [
    countRunes(split.message),
    ((split.props.attachments as SlackAttachment[] | undefined) ?? []).map((attachment) => countRunes(attachment.text)),
  ]);
}

describe('splitWebhookPost (TestSplitWebhookPostAttachments)', () => {
  it('IW-33 splits text by runes', () => {
    expect(shape(splitWebhookPost('本'.repeat(15_000), {}, [], MAX_POST, MAX_PROPS))).toEqual([[10_000, []], [5_000, []]]);
  });

  it('IW-34 leaves a small post whole', () => {
    expect(shape(splitWebhookPost('a'.repeat(10), {}, attachmentsOf(100, 150, 200), MAX_POST, MAX_PROPS))).toEqual([[10, [100, 150, 200]]]);
  });

  it('IW-34 moves an attachment that does not fit into a new post', () => {
    expect(shape(splitWebhookPost('a'.repeat(9_999), {}, attachmentsOf(570_000, 190_000), MAX_POST, MAX_PROPS))).toEqual([
      [9_999, [570_000]],
      [0, [190_000]],
    ]);
  });

  it('IW-34 packs attachments onto the last text part', () => {
    for (const first of [1_000, 5_150]) {
      expect(shape(splitWebhookPost('a'.repeat(15_000), {}, attachmentsOf(first, 2_000, 759_000), MAX_POST, MAX_PROPS))).toEqual([
        [10_000, []],
        [5_000, [first, 2_000]],
        [0, [759_000]],
      ]);
    }
  });

  it('cuts the text of a lone attachment too large for one post', () => {
    const splits = splitWebhookPost('', {}, attachmentsOf(800_000), MAX_POST, MAX_PROPS);
    expect(splits).toHaveLength(1);
    expect(goJsonRunes(splits[0]!.props)).toBe(MAX_PROPS);
  });

  it('IW-35 refuses props that cannot be split', () => {
    expect(() => splitWebhookPost('x', { foo: 'x'.repeat(1_520_000) }, [], MAX_POST, MAX_PROPS)).toThrow(/split/);
  });
});

describe('rune helpers', () => {
  it('count and take code points, not UTF-16 units', () => {
    expect(countRunes('a😀本')).toBe(3);
    expect(takeRunes('😀😀😀', 2)).toBe('😀😀');
  });

  it('measure JSON as Go encodes it, with HTML characters escaped', () => {
    expect(goJsonRunes({ a: '<&>' })).toBe(JSON.stringify({ a: '<&>' }).length + 15);
  });
});
