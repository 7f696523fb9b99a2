import { describe, expect, it } from 'vitest';
import { parseCommand, possibleAtMentions, trimUsernameSpecialChar } from '../../lib/commands/execute.js';
import { decodeCommandResponse } from '../../lib/commands/response.js';

describe('decodeCommandResponse (SC-01, SC-02)', () => {
  it('reads JSON only for application/json, and plain text otherwise', () => {
    expect(decodeCommandResponse('', Buffer.from('foo')).text).toBe('foo');
    expect(decodeCommandResponse('text/plain', Buffer.from('foo')).text).toBe('foo');
    expect(decodeCommandResponse('application/json', Buffer.from('{"text": "foo"}')).text).toBe('foo');
    expect(decodeCommandResponse('application/json; charset=utf-8', Buffer.from('{"text": "foo"}')).text).toBe('foo');
    const haskell = '```haskell\nmain = do\n  x <- getLine\n  print (x | y)\n```';
    const skipped = decodeCommandResponse('application/json', Buffer.from(JSON.stringify({ text: haskell, skip_slack_parsing: true })));
    expect(skipped).toMatchObject({ text: haskell, skip_slack_parsing: true });
  });

  it('refuses what json.Unmarshal refuses', () => {
    for (const body of ['', '{"text": }', '{"text":"test","response_type":5}', '{"text":"a"} trailing']) {
      expect(() => decodeCommandResponse('application/json', Buffer.from(body)), body).toThrow();
    }
  });

  it('reads null as json.Unmarshal does: the zero answer, which posts nothing', () => {
    expect(decodeCommandResponse('application/json', Buffer.from(' null '))).toMatchObject({ text: '', response_type: '', extra_responses: null, attachments: null });
  });

  it('stringifies field values and drops null entries, in extra responses too', () => {
    const decoded = decodeCommandResponse(
      'application/json',
      Buffer.from(JSON.stringify({ attachments: [{ fields: [{ title: 'x', value: [] }, null] }, null], extra_responses: [{ text: 'e', attachments: [{ fields: [{ value: 42 }] }] }, null] })),
    );
    expect(decoded.attachments![0]!.fields).toEqual([{ title: 'x', value: '[]', short: false }]);
    expect(decoded.extra_responses).toHaveLength(1);
    expect(decoded.extra_responses![0]!.attachments![0]!.fields![0]!.value).toBe('42');
  });
});

describe('parseCommand (SC-10 rules)', () => {
  it('splits at the first whitespace and keeps the rest as typed', () => {
    expect(parseCommand('/Code happy path')).toEqual({ trigger: '/code', message: 'happy path' });
    expect(parseCommand('/code\nnewline path')).toEqual({ trigger: '/code', message: 'newline path' });
    expect(parseCommand('/code  double space')).toEqual({ trigger: '/code', message: ' double space' });
    expect(parseCommand('/code\ttab')).toEqual({ trigger: '/code', message: 'tab' });
    expect(parseCommand('/code')).toEqual({ trigger: '/code', message: '' });
  });
});

describe('mentions (SC-17, SC-18)', () => {
  it('finds @-mentions as Mattermost does', () => {
    expect(possibleAtMentions('')).toEqual([]);
    expect(possibleAtMentions('@user')).toEqual(['user']);
    expect(possibleAtMentions('@user-with_special.chars @multiple.-_chars')).toEqual(['user-with_special.chars', 'multiple.-_chars']);
    expect(possibleAtMentions('@repeated @user @repeated')).toEqual(['repeated', 'user']);
    expect(possibleAtMentions('@李')).toEqual([]);
    expect(possibleAtMentions('@withfinaldot. @withfinaldash- @withfinalunderscore_')).toEqual(['withfinaldot.', 'withfinaldash-', 'withfinalunderscore_']);
    expect(possibleAtMentions('mail@example.com')).toEqual([]);
  });

  it('trims one trailing special character at a time', () => {
    expect(trimUsernameSpecialChar('user...')).toEqual(['user..', true]);
    expect(trimUsernameSpecialChar('user.')).toEqual(['user', true]);
    expect(trimUsernameSpecialChar('user_.-')).toEqual(['user_.', true]);
    expect(trimUsernameSpecialChar('user')).toEqual(['user', false]);
    expect(trimUsernameSpecialChar('user.with-inner_chars')).toEqual(['user.with-inner_chars', false]);
  });
});
