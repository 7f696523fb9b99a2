import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { actionRequestSchema, decodeActionResponse } from '../../lib/actions/perform.js';
import { prepareActions } from '../../lib/posts/attachments.js';
import { commandArgsSchema } from '../../lib/commands/execute.js';
import { CommandResponseError, decodeCommandResponse } from '../../lib/commands/response.js';
import { AppError } from '../../lib/errors.js';
import { parseJsonBody } from '../../lib/http/body.js';
import { decodeGoJsonObject, GoJsonError, goBool, goProps, goString, type GoJsonOptions } from '../../lib/http/go-json.js';
import * as z from '../../lib/zod.js';
import { parseChannelPostsQuery } from '../../lib/posts/service.js';
import { splitWebhookPost } from '../../lib/posts/webhook-post.js';
import { decodePathSegment, matchPath, routes } from '../../lib/routes.js';
import { decodeAttachments, SlackDecodeError } from '../../lib/slack.js';
import { decodeIncomingWebhookBody, escapeControlCharacters } from '../../lib/webhooks/incoming-request.js';
import { decodeOutgoingResponse } from '../../lib/webhooks/outgoing-deliver.js';
import { attachment, bytes, jsonText, oddNumberText, oddString, value } from '../support/fuzz-inputs.js';

/**
 * Every decoder of outside input, fed arbitrary input (deep nesting, huge arrays, odd unicode,
 * numbers out of range, `__proto__` keys, invalid UTF-8): it returns a value or throws a refusal
 * its callers turn into a 4xx (an AppError below 500, or the decoder's own typed error), never
 * anything else; and its work stays linear in the input, measured as the characters JSON.parse is
 * given (each decoder parses at most twice its input) and, for the splitter, its size computations.
 */

// --- the linear-work proxy: characters handed to JSON.parse --------------------------------------

let parsedCharacters = 0;
beforeEach(() => {
  const parse = JSON.parse.bind(JSON);
  parsedCharacters = 0;
  vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    parsedCharacters += String(text).length;
    return parse(text, reviver);
  });
});
afterEach(() => vi.restoreAllMocks());

type Refusal = new (...args: never[]) => Error;

/** A thrown error must be a refusal: an AppError below 500, or one of the decoder's typed errors. */
function expectRefusal(error: unknown, refusals: Refusal[]): void {
  if (error instanceof AppError) {
    expect(error.statusCode, `${error.id}: ${error.message}`).toBeGreaterThanOrEqual(400);
    expect(error.statusCode, `${error.id}: ${error.message}`).toBeLessThan(500);
    return;
  }
  if (!refusals.some((kind) => error instanceof kind)) throw error;
}

/** Runs a decoder: a value, or a refusal of the expected kinds; anything else fails the property. */
function refusalOrValue(decode: () => unknown, refusals: Refusal[] = []): void {
  try {
    decode();
  } catch (error) {
    expectRefusal(error, refusals);
  }
}

async function refusalOrValueAsync(decode: () => Promise<unknown>, refusals: Refusal[] = []): Promise<void> {
  try {
    await decode();
  } catch (error) {
    expectRefusal(error, refusals);
  }
}

function expectLinear(inputLength: number): void {
  // Twice the input (the control-character retry) plus room for a short replacement body.
  expect(parsedCharacters).toBeLessThanOrEqual(2 * inputLength + 64);
}

/** Runs per property; PROPERTY_RUNS=5000 for a longer hunt. */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 250) };

describe('the Go-style JSON object decoder', () => {
  const KEYS = ['text', 'icon_url', 'props', 'skip'] as const;
  const schema = z.object({ text: goString, icon_url: goString, props: goProps, skip: goBool });
  const options = fc.record<GoJsonOptions>({
    trailing: fc.constantFrom('ignore', 'refuse'),
    empty: fc.constantFrom('absent', 'refuse'),
    null: fc.constantFrom('zero', 'absent'),
  });
  const fields = fc.record({ text: oddString, icon_url: oddString, props: fc.dictionary(fc.string({ maxLength: 5 }), value, { maxKeys: 3 }), skip: fc.boolean() }, { requiredKeys: [] });
  /** A key as a client may spell it: any mix of upper and lower case. */
  const spelled = (key: string, flips: boolean[]) => [...key].map((char, index) => (flips[index % flips.length] ? char.toUpperCase() : char)).join('');
  const decode = (text: string, chosen: GoJsonOptions) => decodeGoJsonObject(text, KEYS, schema, chosen);

  it('matches keys case-insensitively and ignores unknown keys, whatever the options', () => {
    fc.assert(
      fc.property(fields, fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 3 }), options, (object, flips, extra, chosen) => {
        const unknown = Object.fromEntries(Object.entries(extra).filter(([key]) => !KEYS.some((known) => known === key.toLowerCase())));
        const respelled = Object.fromEntries(Object.entries(object).map(([key, field]) => [spelled(key, flips), field]));
        expect(decode(JSON.stringify({ ...unknown, ...respelled }), chosen)).toEqual(decode(JSON.stringify(object), chosen));
      }),
      RUNS,
    );
  });

  it('ignores or refuses what follows the first value, as `trailing` says', () => {
    fc.assert(
      fc.property(fields, fc.string({ minLength: 1, maxLength: 20 }), options, (object, junk, chosen) => {
        const text = JSON.stringify(object);
        const withJunk = `${text} ${junk}`;
        if (chosen.trailing === 'ignore' || junk.trim() === '') expect(decode(withJunk, chosen)).toEqual(decode(text, chosen));
        else expect(() => decode(withJunk, chosen)).toThrow(GoJsonError);
      }),
      RUNS,
    );
  });

  it('reads empty input and null as `empty` and `null` say', () => {
    fc.assert(
      fc.property(fc.constantFrom('', ' ', '\n\t '), options, (blank, chosen) => {
        if (chosen.empty === 'absent') expect(decode(blank, chosen)).toBeUndefined();
        else expect(() => decode(blank, chosen)).toThrow(GoJsonError);
        expect(decode(`${blank}null`, chosen)).toEqual(chosen.null === 'absent' ? undefined : { text: '', icon_url: '', props: {}, skip: false });
      }),
      RUNS,
    );
  });

  it('refuses a field of the wrong type, and a value that is no object', () => {
    const wrong = fc.oneof(
      fc.record({ text: fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string())) }),
      fc.record({ skip: fc.oneof(fc.string(), fc.integer()) }),
      fc.record({ props: fc.oneof(fc.string(), fc.array(fc.integer())) }),
    );
    fc.assert(
      fc.property(fc.oneof(wrong, fc.integer(), fc.string(), fc.array(fc.integer())), options, (raw, chosen) => {
        expect(() => decode(JSON.stringify(raw), chosen)).toThrow(GoJsonError);
      }),
      RUNS,
    );
  });

  it('returns a value or throws GoJsonError on any bytes, in linear work', () => {
    fc.assert(
      fc.property(bytes, options, (body, chosen) => {
        parsedCharacters = 0;
        refusalOrValue(() => decode(body.toString('utf8'), chosen), [GoJsonError]);
        expectLinear(body.length);
      }),
      RUNS,
    );
  });
});

describe('the incoming-webhook body decoder', () => {
  it('decodes or refuses JSON bodies with a 4xx, in linear work', async () => {
    await fc.assert(
      fc.asyncProperty(bytes, fc.constantFrom(undefined, 'application/json', 'text/plain', 'mimetype/wrong', 'application/json; charset=utf-8'), async (body, contentType) => {
        parsedCharacters = 0;
        await refusalOrValueAsync(() => decodeIncomingWebhookBody(body, contentType, new URLSearchParams()));
        expectLinear(body.length);
      }),
      RUNS,
    );
  });

  it('decodes or refuses form bodies with a 4xx, in linear work', async () => {
    await fc.assert(
      fc.asyncProperty(jsonText, fc.string({ maxLength: 30 }), fc.boolean(), async (payload, junk, inQuery) => {
        const form = inQuery ? junk : `${new URLSearchParams({ payload }).toString()}&${junk}`;
        const query = new URLSearchParams(inQuery ? { payload } : {});
        parsedCharacters = 0;
        await refusalOrValueAsync(() => decodeIncomingWebhookBody(Buffer.from(form), 'application/x-www-form-urlencoded', query));
        expectLinear(form.length + payload.length);
      }),
      RUNS,
    );
  });

  it('decodes or refuses multipart bodies with a 4xx', async () => {
    const boundary = 'XyZ';
    const part = fc.tuple(fc.constantFrom('text', 'username', 'TEXT', 'iconurl', 'channel', 'props', 'root_id', '__proto__', ''), oddString);
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 6 }), fc.boolean(), fc.constantFrom(`multipart/form-data; boundary=${boundary}`, 'multipart/form-data', 'multipart/form-data; boundary=""', 'multipart/form-data; boundary=other'), async (parts, truncate, contentType) => {
        let body = parts.map(([name, text]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${text}\r\n`).join('') + `--${boundary}--\r\n`;
        if (truncate) body = body.slice(0, Math.floor(body.length / 2));
        await refusalOrValueAsync(() => decodeIncomingWebhookBody(Buffer.from(body), contentType, new URLSearchParams()));
      }),
      RUNS,
    );
  });

  it('escapes control characters in linear output', () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        expect(escapeControlCharacters(text).length).toBeLessThanOrEqual(2 * text.length);
      }),
      RUNS,
    );
  });
});

describe('the Slack attachment decoder', () => {
  it('decodes or refuses any attachments value with its typed error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.oneof(attachment, value), { maxLength: 6 }), value), (raw) => {
        refusalOrValue(() => prepareActions(decodeAttachments(structuredClone(raw))), [SlackDecodeError]);
      }),
      RUNS,
    );
  });

  it('refuses a list past its cap before decoding any element', () => {
    // A million elements that would each fail to decode: the count alone refuses them.
    const huge = new Array(1_000_000).fill(5);
    expect(() => decodeAttachments(huge)).toThrow(/more than 100 attachments/);
    expect(() => decodeAttachments([{ fields: new Array(1_000_000).fill(5) }])).toThrow(/fields/);
    expect(() => decodeAttachments([{ actions: new Array(1_000_000).fill(5) }])).toThrow(/actions/);
    expect(() => decodeAttachments([{ actions: [{ options: new Array(1_000_000).fill(5) }] }])).toThrow(/options/);
  });
});

describe('integration answers', () => {
  it('decodes or refuses command responses (CommandResponseError: 400 on response_url, 500 on execute as in Mattermost)', () => {
    fc.assert(
      fc.property(bytes, fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/json; charset=utf-8'), (body, contentType) => {
        parsedCharacters = 0;
        refusalOrValue(() => decodeCommandResponse(contentType, body), [CommandResponseError]);
        expectLinear(body.length);
      }),
      RUNS,
    );
  });

  it('refuses more extra_responses than the cap', () => {
    const body = Buffer.from(JSON.stringify({ text: 'x', extra_responses: new Array(21).fill({ text: 'y' }) }));
    expect(() => decodeCommandResponse('application/json', body)).toThrow(CommandResponseError);
  });

  it('decodes or refuses outgoing-webhook replies (the worker records any throw as a refused reply)', () => {
    fc.assert(
      fc.property(bytes, (body) => {
        parsedCharacters = 0;
        refusalOrValue(() => decodeOutgoingResponse(body), [SyntaxError, SlackDecodeError]);
        expectLinear(body.length);
      }),
      RUNS,
    );
  });

  it('decodes or refuses action answers with a 400', () => {
    fc.assert(
      fc.property(bytes, (body) => {
        parsedCharacters = 0;
        refusalOrValue(() => decodeActionResponse(body));
        expectLinear(body.length);
      }),
      RUNS,
    );
  });
});

describe('request bodies and parameters of the REST routes', () => {
  it('parses or refuses JSON bodies (action request, command args) with a 400', () => {
    fc.assert(
      fc.property(bytes, (body) => {
        parsedCharacters = 0;
        refusalOrValue(() => {
          const raw = parseJsonBody(body, 'action_request');
          actionRequestSchema.safeParse(raw);
          commandArgsSchema.safeParse(raw);
        });
        expectLinear(body.length);
      }),
      RUNS,
    );
  });

  it('reads or refuses paging parameters with a 400, never a read past 10 000 posts', () => {
    const number = fc.oneof(fc.nat().map(String), oddNumberText, oddString, fc.constantFrom('200', '201', '50', '10000', '-1', '0x10', ' 1'));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('page', 'per_page', 'since', 'before', 'after'), number), (query) => {
        try {
          const parsed = parseChannelPostsQuery(new URLSearchParams(query));
          expect(parsed.perPage).toBeLessThanOrEqual(200);
          expect(parsed.page * parsed.perPage).toBeLessThanOrEqual(10_000);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).statusCode).toBe(400);
        }
      }),
      RUNS,
    );
  });

  it('matches any path against every route without throwing', () => {
    const segment = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('%', '%zz', '%E0%A4%A', '%ff', '%00', 'a'.repeat(3_000), '..', ''));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 7 }), (segments) => {
        const path = `/${segments.join('/')}`;
        for (const route of routes) matchPath(route.path, path);
        for (const part of segments) decodePathSegment(part);
      }),
      RUNS,
    );
  });
});

describe('the post splitter', () => {
  it('splits or refuses (400) any text, props and attachments, with one size computation per attachment', () => {
    fc.assert(
      fc.property(oddString, fc.dictionary(oddString, value, { maxKeys: 3 }), fc.array(fc.record({ text: oddString }), { maxLength: 30 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 2_000 }), (message, props, texts, maxPost, maxProps) => {
        const attachments = decodeAttachments(texts.map((entry) => ({ ...entry }))) ?? [];
        let sizeComputations = 0;
        const counted = (measured: unknown) => {
          sizeComputations++;
          return JSON.stringify(measured).length;
        };
        try {
          splitWebhookPost(message, props, attachments, maxPost, maxProps, counted);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).statusCode).toBe(400);
        }
        // The base props once, each attachment once, and once more when its text is cut.
        expect(sizeComputations).toBeLessThanOrEqual(1 + 2 * attachments.length);
      }),
      RUNS,
    );
  });
});
