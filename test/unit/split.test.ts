import fc from 'fast-check';
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

/** Mattermost's algorithm as written (quadratic): what the linear packing must equal. */
function mattermostSplit(message: string, props: Record<string, unknown>, attachments: SlackAttachment[], maxPost: number, maxProps: number) {
  const baseProps = { ...props };
  delete baseProps.attachments;
  if (goJsonRunes(baseProps) > maxProps) throw new Error('split_props_length');
  const splits: Array<{ message: string; props: Record<string, unknown> }> = [];
  let remaining = message;
  while (countRunes(remaining) > maxPost) {
    const chunk = takeRunes(remaining, maxPost);
    splits.push({ message: chunk, props: { ...baseProps } });
    remaining = remaining.slice(chunk.length);
  }
  splits.push({ message: remaining, props: { ...baseProps } });
  for (const attachment of attachments) {
    for (;;) {
      const last = splits[splits.length - 1]!;
      const existing = (last.props.attachments as SlackAttachment[] | undefined) ?? [];
      const copy = structuredClone(attachment);
      const candidate = { ...last.props, attachments: [...existing, copy] };
      const size = goJsonRunes(candidate);
      if (size <= maxProps) {
        last.props = candidate;
        break;
      }
      if (existing.length > 0) {
        splits.push({ message: '', props: { ...baseProps } });
        continue;
      }
      const excess = size - maxProps;
      const textRunes = countRunes(copy.text);
      if (textRunes < excess) throw new Error('split_props_length');
      copy.text = takeRunes(copy.text, textRunes - excess);
      last.props = candidate;
      break;
    }
  }
  return splits;
}

describe('splitWebhookPost packs attachments in linear work', () => {
  const emptyAttachment = (decodeAttachments([{}]) ?? [])[0]!;
  const empty = () => emptyAttachment;

  it('packs 3 000 attachments with one size computation each, into the same posts as Mattermost', () => {
    const attachments = Array.from({ length: 3_000 }, (_, index) => ({ ...empty(), text: `<${index}>` }));
    let sizeComputations = 0;
    const counted = (value: unknown) => {
      sizeComputations++;
      return goJsonRunes(value);
    };
    // A small props limit forces many posts, so both packing and splitting are exercised.
    const splits = splitWebhookPost('m', { k: 'v' }, attachments, MAX_POST, 20_000, counted);
    expect(sizeComputations).toBeLessThanOrEqual(attachments.length + 1);
    expect(splits.length).toBeGreaterThan(10);
    expect(splits).toEqual(mattermostSplit('m', { k: 'v' }, attachments, MAX_POST, 20_000));
    expect(splits.flatMap((split) => (split.props.attachments as SlackAttachment[] | undefined) ?? [])).toHaveLength(3_000);
    for (const split of splits) expect(goJsonRunes(split.props)).toBeLessThanOrEqual(20_000);
  });

  it('gives the same posts as the quadratic algorithm for arbitrary texts, props and limits', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '本', '😀', '<', '"', '\\n'), maxLength: 300 });
    fc.assert(
      fc.property(
        text,
        fc.dictionary(fc.constantFrom('a', 'b', 'attachments', '<&>'), text, { maxKeys: 3 }),
        fc.array(text, { maxLength: 12 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 1_200 }),
        (message, props, texts, maxPost, maxProps) => {
          const attachments = texts.map((attachmentText) => ({ ...empty(), text: attachmentText }));
          let expected: unknown;
          try {
            expected = mattermostSplit(message, props, attachments, maxPost, maxProps);
          } catch {
            expect(() => splitWebhookPost(message, props, attachments, maxPost, maxProps)).toThrow(/split/);
            return;
          }
          expect(splitWebhookPost(message, props, attachments, maxPost, maxProps)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
