import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { outboundRequest, OutboundError } from '../../lib/http/outbound.js';
import { AllowList } from '../../lib/http/ssrf.js';
import type { OutgoingWebhook } from '../../lib/model.js';
import { encodePayload, decodeOutgoingResponse } from '../../lib/webhooks/outgoing-deliver.js';
import { firstWord, matchOutgoingWebhooks } from '../../lib/webhooks/outgoing-match.js';

const hook = (overrides: Partial<OutgoingWebhook>): OutgoingWebhook => ({
  id: 'h', creator_id: 'u', channel_id: '', team_id: 'team', trigger_words: [], trigger_when: 0,
  callback_urls: ['http://x/'], display_name: '', description: '', content_type: '', username: '', icon_url: '', create_at: 1, update_at: 1, delete_at: 0,
  ...overrides,
});

describe('matchOutgoingWebhooks', () => {
  it('OW-04 matches exactly, case-sensitively, or by prefix', () => {
    const exact = hook({ id: 'exact', trigger_words: ['foo'] });
    const prefix = hook({ id: 'prefix', trigger_words: ['foo'], trigger_when: 1 });
    const ids = (message: string) => matchOutgoingWebhooks({ channel_id: 'c', message }, [exact, prefix]).map((match) => match.hook.id);
    expect(ids('foo bar')).toEqual(['exact', 'prefix']);
    expect(ids('foobar')).toEqual(['prefix']);
    expect(ids('barfoo')).toEqual([]);
    expect(ids('Foo')).toEqual([]);
    expect(ids('')).toEqual([]);
  });

  it('matches every post of a channel hook without trigger words, and only in that channel', () => {
    const channelHook = hook({ id: 'channel', channel_id: 'c' });
    expect(matchOutgoingWebhooks({ channel_id: 'c', message: '' }, [channelHook])).toEqual([{ hook: channelHook, triggerWord: '' }]);
    expect(matchOutgoingWebhooks({ channel_id: 'other', message: 'x' }, [channelHook])).toEqual([]);
    expect(matchOutgoingWebhooks({ channel_id: 'c', message: 'x' }, [hook({ channel_id: 'c', delete_at: 5 })])).toEqual([]);
  });

  it('OW-13 gives each match its own trigger word', () => {
    const matches = matchOutgoingWebhooks({ channel_id: 'c', message: 'deploy now' }, [
      hook({ id: 'a', trigger_words: ['deploy'] }),
      hook({ id: 'b', trigger_words: ['dep', 'deploy'], trigger_when: 1 }),
    ]);
    expect(matches.map((match) => [match.hook.id, match.triggerWord])).toEqual([['a', 'deploy'], ['b', 'dep']]);
  });

  it('takes the first word after any Unicode whitespace', () => {
    expect(firstWord('\u00a0 hello\tworld')).toBe('hello');
  });
});

describe('encodePayload', () => {
  const payload = {
    token: 'Token', team_id: 'TeamId', team_domain: 'TeamDomain', channel_id: 'ChannelId', channel_name: 'ChannelName', timestamp: 123000,
    user_id: 'UserId', user_name: 'UserName', post_id: 'PostId', text: 'Text', trigger_word: 'TriggerWord', file_ids: 'FileIds',
  };
  it('OW-01 encodes form values exactly as Mattermost does', () => {
    expect(encodePayload(payload, '').body).toBe(
      'channel_id=ChannelId&channel_name=ChannelName&file_ids=FileIds&post_id=PostId&team_domain=TeamDomain&team_id=TeamId&text=Text&timestamp=123&token=Token&trigger_word=TriggerWord&user_id=UserId&user_name=UserName',
    );
    expect(encodePayload(payload, 'garbage').contentType).toBe('application/x-www-form-urlencoded');
  });
  it('OW-02 sends JSON only for exactly application/json, with the timestamp in milliseconds', () => {
    expect(JSON.parse(encodePayload(payload, 'application/json').body).timestamp).toBe(123000);
    expect(Object.keys(JSON.parse(encodePayload(payload, 'application/json').body))).toEqual(Object.keys(payload));
  });
});

describe('decodeOutgoingResponse', () => {
  it('reads replies as Go does: null text is no text, an empty body is no reply, junk is an error', () => {
    expect(decodeOutgoingResponse(Buffer.from(''))).toBeUndefined();
    expect(decodeOutgoingResponse(Buffer.from('{"TEXT":"hi","Response_Type":"comment"} trailing'))).toMatchObject({ text: 'hi', response_type: 'comment' });
    expect(decodeOutgoingResponse(Buffer.from('{"text":""}'))?.text).toBe('');
    // Mattermost's unmarshal error, the reply logged and not posted; nothing else may escape.
    expect(() => decodeOutgoingResponse(Buffer.from('aaaaaaaa'))).toThrow(/api\.unmarshal_error/);
    expect(() => decodeOutgoingResponse(Buffer.from('{"text":"unterminated'))).toThrow(/api\.unmarshal_error/);
    expect(() => decodeOutgoingResponse(Buffer.from('{"text":5}'))).toThrow(/api\.unmarshal_error/);
  });
});

describe('AllowList', () => {
  it('blocks reserved ranges, allows public addresses, and CIDR entries re-allow', () => {
    const none = new AllowList([]);
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '::1', 'fe80::1', 'fc00::1', '::ffff:127.0.0.1', '0.0.0.0']) {
      expect(none.allowsAddress(address), address).toBe(false);
    }
    expect(none.allowsAddress('8.8.8.8')).toBe(true);
    expect(none.allowsAddress('2606:4700::1111')).toBe(true);
    // Checked on the address, in process: never by connecting, since this machine routes IPv6.
    // IPv4-compatible and IPv4-translated spellings of loopback and of a public address.
    for (const address of ['::127.0.0.1', '::7f00:1', '::ffff:0:127.0.0.1', '::ffff:0:7f00:1', '::8.8.8.8', '::ffff:0:8.8.8.8']) {
      expect(none.allowsAddress(address), address).toBe(false);
      // An allowed IPv4 range does not open its IPv6 spellings.
      expect(new AllowList(['127.0.0.0/8']).allowsAddress(address), address).toBe(false);
    }
    for (const address of ['64:ff9b:1::a9fe:a9fe', 'fec0::1', '::1:127.0.0.1', '::1:7f00:1']) expect(none.allowsAddress(address), address).toBe(false);
    // The IPv4-mapped form is the IPv4 address itself, judged as such.
    expect(new AllowList(['127.0.0.0/8']).allowsAddress('::ffff:127.0.0.1')).toBe(true);
    expect(none.allowsAddress('::ffff:8.8.8.8')).toBe(true);
    const cidr = new AllowList(['127.0.0.0/8', 'localhost']);
    expect(cidr.allowsAddress('127.0.0.5')).toBe(true);
    expect(cidr.allowsAddress('10.0.0.1')).toBe(false);
    // A host name entry never whitelists an address, only a URL written with that host.
    expect(new AllowList(['localhost']).allowsAddress('127.0.0.1')).toBe(false);
    expect(cidr.allowsHost('LOCALHOST')).toBe(true);
  });
});

describe('outboundRequest', () => {
  const allowLoopback = new AllowList(['127.0.0.0/8']);

  it('refuses a host name that resolves to a private address, checking the address it would connect to', async () => {
    const request = outboundRequest({
      url: 'http://internal.example.test/hook', method: 'POST', headers: {}, body: '{}', timeoutMs: 1_000, allowList: new AllowList([]),
      resolve: async () => [{ address: '10.0.0.7', family: 4 }],
    });
    await expect(request).rejects.toMatchObject({ kind: 'forbidden' });
    const allowedByName = outboundRequest({
      url: 'http://internal.example.test:1/hook', method: 'POST', headers: {}, timeoutMs: 1_000, allowList: new AllowList(['internal.example.test']),
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    // Allowed: it gets as far as connecting (to a closed port on loopback).
    await expect(allowedByName).rejects.toMatchObject({ kind: 'network' });
  });

  it('caps the answer, times out, and refuses other schemes', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/huge') {
        response.write('x'.repeat(2 * 1024 * 1024));
        response.end();
      } // '/hang' never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const huge = await outboundRequest({ url: `${base}/huge`, method: 'GET', headers: {}, timeoutMs: 5_000, allowList: allowLoopback });
      expect(huge.truncated).toBe(true);
      expect(huge.body.length).toBe(1024 * 1024);
      await expect(outboundRequest({ url: `${base}/hang`, method: 'GET', headers: {}, timeoutMs: 300, allowList: allowLoopback })).rejects.toMatchObject({ kind: 'timeout' });
      await expect(outboundRequest({ url: 'ftp://127.0.0.1/', method: 'GET', headers: {}, timeoutMs: 300, allowList: allowLoopback })).rejects.toBeInstanceOf(OutboundError);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
