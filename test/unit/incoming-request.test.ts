import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/errors.js';
import { firstJsonValue, MediaTypeError, parseMediaType } from '../../lib/http/body.js';
import { decodeIncomingWebhookBody, decodeIncomingWebhookJson, escapeControlCharacters } from '../../lib/webhooks/incoming-request.js';

const parseError = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof AppError ? error.id : String(error);
  }
  return 'no error';
};

describe('decodeIncomingWebhookJson', () => {
  it('reads every field, case-insensitively, last duplicate winning', () => {
    const request = decodeIncomingWebhookJson(
      '{"Text":"a","TEXT":"b","username":"u","icon_url":"i","channel":"c","props":{"k":1},"type":"t","icon_emoji":"e","root_id":"r","mrkdwn":true}',
    );
    expect(request).toMatchObject({ text: 'b', username: 'u', icon_url: 'i', channel: 'c', props: { k: 1 }, type: 't', icon_emoji: 'e', root_id: 'r' });
  });

  it('treats null like absent, and a JSON null body as an empty request', () => {
    expect(decodeIncomingWebhookJson('{"text":null,"props":null}')).toMatchObject({ text: '', props: {} });
    expect(decodeIncomingWebhookJson('null').text).toBe('');
  });

  it('refuses type mismatches and non-objects', () => {
    for (const body of ['{"text":5}', '{"props":[]}', '[]', '"text"', '', '{"priority":{"priority":5}}', '{"text":"a"']) {
      expect(parseError(() => decodeIncomingWebhookJson(body)), body).toBe('model.incoming_hook.parse_data.app_error');
    }
  });

  it('IW-23 retries with raw newlines and tabs escaped inside known keys only', () => {
    expect(decodeIncomingWebhookJson('{"text":"a\n\tb"}').text).toBe('a\n\tb');
    expect(decodeIncomingWebhookJson('{"text":"a \\"q\\"\nb"}').text).toBe('a "q"\nb');
    // Keys outside the list are not escaped, so a raw newline there stays an error.
    expect(parseError(() => decodeIncomingWebhookJson('{"username":"a\nb","text":"x"}'))).toBe('model.incoming_hook.parse_data.app_error');
    // Carriage returns are not escaped by Mattermost either.
    expect(parseError(() => decodeIncomingWebhookJson('{"text":"a\rb"}'))).toBe('model.incoming_hook.parse_data.app_error');
  });

  it('escapes without backtracking blow-up on long backslash-heavy input', () => {
    const input = `{"text":"${'\\\\'.repeat(100_000)}`;
    expect(escapeControlCharacters(input)).toBe(input);
  });
});

describe('media types and bodies', () => {
  it('parses media types as Go does', () => {
    expect(parseMediaType(undefined)).toBe('');
    expect(parseMediaType('AppLicaTion/JSON; charset=utf-8')).toBe('application/json');
    expect(parseMediaType('application/json; charset')).toBe('application/json');
    expect(() => parseMediaType('application/x-www-form-urlencoded wrongtext')).toThrow(MediaTypeError);
    expect(() => parseMediaType('a/b/c')).toThrow(MediaTypeError);
  });

  it('finds the first JSON value', () => {
    expect(firstJsonValue(' {"a":"}"} rest')).toBe('{"a":"}"}');
    expect(firstJsonValue('null x')).toBe('null');
    expect(firstJsonValue('{"a":1')).toBeUndefined();
  });

  it('reads payload from the body before the query string', async () => {
    const query = new URLSearchParams({ payload: '{"text":"from query"}' });
    const fromBody = await decodeIncomingWebhookBody(Buffer.from('payload={"text":"from body"}'), 'application/x-www-form-urlencoded', query);
    expect(fromBody.text).toBe('from body');
    const fromQuery = await decodeIncomingWebhookBody(Buffer.alloc(0), 'application/x-www-form-urlencoded', query);
    expect(fromQuery.text).toBe('from query');
  });

  it('refuses invalid UTF-8', async () => {
    await expect(decodeIncomingWebhookBody(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), 'application/json', new URLSearchParams())).rejects.toMatchObject({
      statusCode: 400,
    });
  });

  it('maps multipart Go field names and refuses unknown ones', async () => {
    const multipart = (fields: Record<string, string>) => {
      const parts = Object.entries(fields).map(([name, value]) => `--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
      return Buffer.from(`${parts.join('')}--b--\r\n`);
    };
    const decoded = await decodeIncomingWebhookBody(
      multipart({ Text: 'hi', IconURL: 'http://i', ChannelName: 'town', IconEmoji: 'smile' }),
      'multipart/form-data; boundary=b',
      new URLSearchParams(),
    );
    expect(decoded).toMatchObject({ text: 'hi', icon_url: 'http://i', channel: 'town', icon_emoji: 'smile' });
    await expect(decodeIncomingWebhookBody(multipart({ text: 'hi', bogus: 'x' }), 'multipart/form-data; boundary=b', new URLSearchParams())).rejects.toMatchObject({
      statusCode: 400,
    });
    await expect(decodeIncomingWebhookBody(Buffer.from('junk'), 'multipart/form-data', new URLSearchParams())).rejects.toMatchObject({ statusCode: 400 });
  });
});
