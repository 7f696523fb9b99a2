import { describe, expect, it } from 'vitest';
import { BUILT_IN_COMMANDS, isBuiltInTrigger, listedBuiltInCommands } from '../../lib/commands/built-in.js';
import {
  commandFieldProblems,
  isValidCommandTrigger,
  tokenProblem,
  validateCommand,
  type CommandFields,
} from '../../lib/integrations/command-validity.js';
import type { Command } from '../../lib/model.js';

const ID = 'a'.repeat(26);
const valid: Command = {
  id: ID,
  creator_id: 'b'.repeat(26),
  team_id: 'c'.repeat(26),
  trigger: 'deploy',
  method: 'P',
  url: 'https://ops.example.com/deploy',
  username: '',
  icon_url: '',
  auto_complete: false,
  auto_complete_desc: '',
  auto_complete_hint: '',
  display_name: '',
  description: '',
  create_at: 1,
  update_at: 1,
  delete_at: 0,
};
const TOKEN = 't'.repeat(26);

/** The error id validateCommand throws, or undefined when the command is valid. */
function errorOf(change: Partial<Command>, token = TOKEN): string | undefined {
  try {
    validateCommand({ ...valid, ...change }, token);
    return undefined;
  } catch (error) {
    return (error as { id: string }).id;
  }
}
const id = (field: string) => `model.command.is_valid.${field}.app_error`;

describe('Command.IsValid', () => {
  it('accepts a valid command', () => {
    expect(errorOf({})).toBeUndefined();
  });

  it('checks the ids, the token and the timestamps first, in Mattermost\'s order', () => {
    expect(errorOf({ id: 'short', trigger: '' })).toBe(id('id'));
    expect(errorOf({ trigger: '' }, 'short')).toBe(id('token'));
    expect(errorOf({}, 't'.repeat(27))).toBe(id('token'));
    expect(errorOf({ create_at: 0 })).toBe(id('create_at'));
    expect(errorOf({ update_at: 0 })).toBe(id('update_at'));
    expect(errorOf({ creator_id: '' })).toBe(id('user_id'));
    expect(errorOf({ team_id: 'junk' })).toBe(id('team_id'));
    // 26 bytes, not characters.
    expect(tokenProblem('é'.repeat(13))).toBeUndefined();
    expect(tokenProblem('é'.repeat(26))?.error.id).toBe(id('token'));
  });

  it('takes triggers of 1 to 128 bytes of ASCII letters, digits and _ . - /, not starting with a slash', () => {
    for (const trigger of ['a', 'abc', 'ABC', 'abc123', 'a_b-c.d/e', 'x'.repeat(128), '.hidden', '-dash']) expect(isValidCommandTrigger(trigger), trigger).toBe(true);
    for (const trigger of ['', '/abc', 'a b', 'a\tb', 'a\nb', 'a\rb', 'a\u0000b', 'a?b', 'a*b', 'é', '😀', 'x'.repeat(129)]) expect(isValidCommandTrigger(trigger), JSON.stringify(trigger)).toBe(false);
    expect(errorOf({ trigger: 'x'.repeat(129) })).toBe(id('trigger'));
  });

  it('refuses an empty or over-long URL (url) before a URL that is not http(s) (url_http)', () => {
    const base = 'https://a.example/';
    expect(errorOf({ url: '' })).toBe(id('url'));
    expect(errorOf({ url: base + 'x'.repeat(1024 - base.length) })).toBeUndefined();
    expect(errorOf({ url: base + 'x'.repeat(1025 - base.length) })).toBe(id('url'));
    expect(errorOf({ url: base + 'é'.repeat(504) })).toBe(id('url'));
    for (const url of ['1234', 'https:////example.com', 'ftp://example.com', 'example.com']) expect(errorOf({ url }), url).toBe(id('url_http'));
    expect(errorOf({ url: 'HTTP://example.com' })).toBeUndefined();
  });

  it('takes only the methods P and G', () => {
    expect(errorOf({ method: 'G' })).toBeUndefined();
    for (const method of ['', 'p', 'POST', 'Wrong']) expect(errorOf({ method: method as Command['method'] }), method).toBe(id('method'));
  });

  it('counts display name and description in bytes: 64 and 128', () => {
    expect(errorOf({ display_name: 'é'.repeat(32) })).toBeUndefined();
    expect(errorOf({ display_name: `${'é'.repeat(32)}x` })).toBe(id('display_name'));
    expect(errorOf({ description: 'd'.repeat(128) })).toBeUndefined();
    expect(errorOf({ description: 'd'.repeat(129) })).toBe(id('description'));
  });

  it('bounds the fields Mattermost leaves to its database columns: username 64, icon URL and autocomplete texts 1024', () => {
    expect(errorOf({ username: 'u'.repeat(64), icon_url: 'i'.repeat(1024), auto_complete_desc: 'd'.repeat(1024), auto_complete_hint: 'h'.repeat(1024) })).toBeUndefined();
    expect(errorOf({ username: 'u'.repeat(65) })).toBe(id('username'));
    expect(errorOf({ icon_url: 'i'.repeat(1025) })).toBe(id('icon_url'));
    expect(errorOf({ auto_complete_desc: 'd'.repeat(1025) })).toBe(id('auto_complete_desc'));
    expect(errorOf({ auto_complete_hint: 'h'.repeat(1025) })).toBe(id('auto_complete_hint'));
  });

  it('lists every failing field, for the seed', () => {
    const fields: CommandFields = { ...valid, trigger: '/x', url: 'nope', method: 'X' as Command['method'], display_name: 'n'.repeat(65), description: '' };
    expect(commandFieldProblems(fields).map((problem) => problem.field)).toEqual(['trigger', 'url', 'method', 'display_name']);
  });
});

describe('built-in commands', () => {
  it('reserves every built-in trigger, case-insensitively', () => {
    for (const trigger of ['echo', 'ECHO', 'Join', 'shrug', 'me', 'away', 'kick', 'invite_people', 'share-channel']) expect(isBuiltInTrigger(trigger), trigger).toBe(true);
    expect(isBuiltInTrigger('deploy')).toBe(false);
    expect(new Set(BUILT_IN_COMMANDS.map((command) => command.trigger)).size).toBe(BUILT_IN_COMMANDS.length);
  });

  it('lists the autocompleted ones of a default server as sanitized commands', () => {
    const listed = listedBuiltInCommands();
    const triggers = listed.map((command) => command.trigger);
    expect(triggers).toEqual(expect.arrayContaining(['echo', 'shrug', 'me', 'join', 'away', 'code']));
    for (const hidden of ['kick', 'open', 'invite_people', 'marketplace', 'share-channel', 'exportlink']) expect(triggers).not.toContain(hidden);
    expect(listed.find((command) => command.trigger === 'echo')).toMatchObject({ id: '', url: '', method: '', auto_complete: true, display_name: 'echo', auto_complete_desc: 'Echo back text from your account' });
  });
});
