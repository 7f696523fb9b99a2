import fc from 'fast-check';
import { MAX_ATTACHMENTS, MAX_JSON_DEPTH } from '../../lib/limits.js';

/**
 * Generators of hostile input, shared by the decoders' property tests and the HTTP fuzz run:
 * odd unicode (lone surrogates, U+2028, HTML characters), odd keys (`__proto__`, `constructor`),
 * numbers out of range, nesting just past and far past MAX_JSON_DEPTH, lists just past and far
 * past MAX_ATTACHMENTS, truncated JSON, near-JSON garbage and raw bytes.
 */

export const oddString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('<', '>', '&', '"', '\\', '\n', '\t', '\u2028', '\ud800', '😀', '本', '%', '@', '|'), maxLength: 40 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''),
);
export const oddNumberText = fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890', '-0', '0.0000001', '1E400', '9007199254740993');

/** Shallow JSON values with odd strings and odd keys. */
export const leaf = fc.oneof(oddString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null));
export const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('any'), { maxLength: 4 }),
  object: fc.dictionary(fc.oneof(oddString, fc.constantFrom('text', 'attachments', 'fields', 'actions', 'options', 'props', 'value', 'short', 'id', 'ts')), tie('any'), { maxKeys: 4 }),
})).any;

export const attachment = fc.record(
  {
    text: fc.oneof(oddString, leaf),
    title: oddString,
    id: fc.oneof(fc.integer(), leaf),
    fields: fc.oneof(fc.array(fc.oneof(fc.record({ title: oddString, value, short: fc.oneof(fc.boolean(), oddString, leaf) }, { requiredKeys: [] }), leaf), { maxLength: 5 }), leaf),
    actions: fc.oneof(
      fc.array(
        fc.oneof(
          fc.record({ id: oddString, name: oddString, type: fc.constantFrom('button', 'select', 'x'), options: fc.oneof(fc.array(fc.record({ text: oddString, value: oddString }), { maxLength: 3 }), leaf), integration: fc.oneof(fc.record({ url: fc.constantFrom('http://x.test/a', 'nope', ''), context: value }), leaf) }, { requiredKeys: [] }),
          leaf,
        ),
        { maxLength: 4 },
      ),
      leaf,
    ),
    ts: value,
  },
  { requiredKeys: [] },
);

export const requestObject = fc.record(
  {
    text: fc.oneof(oddString, leaf),
    TEXT: oddString,
    channel: oddString,
    username: oddString,
    props: fc.oneof(value, fc.constant({ __proto__: 'x' }), fc.constant(JSON.parse('{"__proto__":{"polluted":true}}'))),
    attachments: fc.oneof(fc.array(fc.oneof(attachment, leaf), { maxLength: 4 }), leaf),
    type: oddString,
    priority: value,
    root_id: oddString,
    response_type: oddString,
    extra_responses: fc.oneof(fc.array(value, { maxLength: 3 }), leaf),
    update: value,
    ephemeral_text: fc.oneof(oddString, leaf),
    selected_option: fc.oneof(oddString, leaf),
    cookie: fc.oneof(oddString, leaf),
  },
  { requiredKeys: [] },
);

export function deepText(levels: number, open: string, close: string, inner = '1'): string {
  return `${open.repeat(levels)}${inner}${close.repeat(levels)}`;
}

/** JSON-ish texts: valid objects, adversarial shapes, and near-JSON garbage. */
export const jsonText = fc.oneof(
  { weight: 5, arbitrary: requestObject.map((object) => JSON.stringify(object)) },
  { weight: 2, arbitrary: value.map((any) => JSON.stringify(any) ?? 'null') },
  { weight: 1, arbitrary: fc.integer({ min: MAX_JSON_DEPTH - 2, max: 5_000 }).chain((levels) => fc.constantFrom(deepText(levels, '[', ']'), `{"text":"x","props":${deepText(levels, '{"a":', '}')}}`, deepText(levels, '{"text":', '}', '"x"'))) },
  { weight: 1, arbitrary: fc.integer({ min: MAX_ATTACHMENTS - 1, max: 20_000 }).map((count) => `{"text":"x","attachments":[${'{},'.repeat(count)}{}]}`) },
  { weight: 1, arbitrary: fc.tuple(oddNumberText, fc.constantFrom('text', 'id', 'value', 'short', 'ts')).map(([number, key]) => `{"${key}":${number},"attachments":[{"${key}":${number},"fields":[{"value":${number}}]}]}`) },
  { weight: 1, arbitrary: fc.tuple(requestObject.map((object) => JSON.stringify(object)), fc.nat(), fc.string({ maxLength: 20 })).map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'a', '\n', '\t', ' '), maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('{"text":"line\nwith\ttab"}', '{"text":"a"} trailing', '', ' ', 'null', '"text"', '{"text":"\\ud800"}') },
);

export const bytes = fc.oneof(
  { weight: 4, arbitrary: jsonText.map((text) => Buffer.from(text, 'utf8')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)) },
);

