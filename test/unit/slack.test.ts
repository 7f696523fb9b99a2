import { describe, expect, it } from 'vitest';
import {
  convertAppLinks,
  convertAttachmentLinks,
  decodeAttachments,
  expandAnnouncement,
  formatGoValue,
  processSlackText,
  SlackDecodeError,
} from '../../lib/slack.js';

describe('formatGoValue (Go %v of JSON values)', () => {
  it.each([
    [42, '42'],
    [1.5, '1.5'],
    [true, 'true'],
    [[], '[]'],
    [[1, 2], '[1 2]'],
    [['a', 'b'], '[a b]'],
    [{ b: 2, a: 1 }, 'map[a:1 b:2]'],
    [100000, '100000'],
    [1000000, '1e+06'],
    [123456789, '1.23456789e+08'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [null, '<nil>'],
    ['text', 'text'],
  ])('formats %j as %s', (value, expected) => {
    expect(formatGoValue(value)).toBe(expected);
  });
});

describe('decodeAttachments', () => {
  it('drops null attachments and fields and stringifies values (IW-22, IW-39)', () => {
    const decoded = decodeAttachments([{ fields: [{ title: 'foo', value: 42, short: true }, null] }, null]);
    expect(decoded).toHaveLength(1);
    expect(decoded![0]!.fields).toEqual([{ title: 'foo', value: '42', short: true }]);
  });

  it('treats an empty or all-null list as no attachments', () => {
    expect(decodeAttachments([])).toBeNull();
    expect(decodeAttachments([null, null])).toBeNull();
    expect(decodeAttachments(null)).toBeNull();
  });

  it('matches attachment keys case-insensitively', () => {
    expect(decodeAttachments([{ TEXT: 'x', Author_Name: 'y' }])![0]).toMatchObject({ text: 'x', author_name: 'y' });
  });

  it('refuses type mismatches as Go does (IW-40)', () => {
    expect(() => decodeAttachments([{ fields: [{ short: 'yes' }] }])).toThrow(SlackDecodeError);
    expect(() => decodeAttachments([{ id: 'x' }])).toThrow(SlackDecodeError);
    expect(() => decodeAttachments([{ id: 1.5 }])).toThrow(SlackDecodeError);
    expect(() => decodeAttachments([{ text: 5 }])).toThrow(SlackDecodeError);
    expect(() => decodeAttachments({})).toThrow(SlackDecodeError);
    expect(decodeAttachments([{ fields: [{ short: 'FALSE' }] }])![0]!.fields![0]!.short).toBe(false);
  });

  it('serializes every key of the Go struct', () => {
    expect(Object.keys(decodeAttachments([{ text: 'x' }])![0]!)).toEqual([
      'id', 'fallback', 'color', 'pretext', 'author_name', 'author_link', 'author_icon', 'title', 'title_link', 'text',
      'fields', 'image_url', 'thumb_url', 'footer', 'footer_icon', 'ts',
    ]);
  });
});

describe('text processing', () => {
  it('expands announcements', () => {
    expect(expandAnnouncement('<!channel> <!here> <!all> <!other>')).toBe('@channel @here @all <!other>');
  });

  it('replaces known user ids only', async () => {
    const lookup = async (id: string) => (id === 'abc' ? 'alice' : undefined);
    expect(await processSlackText('<@abc> and <@zzz>', lookup)).toBe('@alice and <@zzz>');
  });

  it('converts app links without crossing newlines', () => {
    expect(convertAppLinks('<https://a.io|A> and <b|c>')).toBe('[A](https://a.io) and [c](b)');
    expect(convertAppLinks('< | \n|\n>')).toBe('< | \n|\n>');
    expect(convertAppLinks('<a\nb|c>')).toBe('<a\nb|c>');
  });

  it('converts attachment links with the model pattern, which allows newlines, and never in titles', () => {
    const [attachment] = convertAttachmentLinks(decodeAttachments([{ text: '<a\nb|c>', title: '<x|y>', fields: [{ value: '<u|v>' }] }])!);
    expect(attachment!.text).toBe('[c](a\nb)');
    expect(attachment!.title).toBe('<x|y>');
    expect(attachment!.fields![0]!.value).toBe('[v](u)');
  });
});
