/**
 * Mattermost's built-in slash commands (the providers of its `app/slashcommands` package), as
 * their `GetCommand` describes them with English texts. Hookline runs none of them; it keeps
 * their triggers reserved (no custom command may take one, case-insensitively) and lists the
 * autocompleted ones where Mattermost does (`GET /api/v4/commands`, the team's autocomplete
 * list), so clients see the same list. This is the one list: validation, listing and the seed
 * read it.
 */
import type { Command } from '../model.js';

export interface BuiltInCommand {
  trigger: string;
  display_name: string;
  auto_complete: boolean;
  auto_complete_desc: string;
  auto_complete_hint: string;
  /**
   * Whether a stock server with default settings lists it. The rest are registered but listed
   * only when a feature Hookline lacks is on (email invitations, the marketplace, shared
   * channels, mobile logs, export links): their triggers are still reserved.
   */
  listed: boolean;
}

const command = (trigger: string, display_name: string, auto_complete_desc: string, auto_complete_hint = '', extra: Partial<BuiltInCommand> = {}): BuiltInCommand => ({
  trigger,
  display_name,
  auto_complete: true,
  auto_complete_desc,
  auto_complete_hint,
  listed: true,
  ...extra,
});

/** In trigger order; Mattermost's own order comes from a Go map and changes between calls. */
export const BUILT_IN_COMMANDS: readonly BuiltInCommand[] = [
  command('away', 'away', 'Set your status away'),
  command('code', 'code', 'Display text as a code block', '[text]'),
  command('collapse', 'collapse', 'Turn on auto-collapsing of image previews'),
  command('dnd', 'dnd', 'Do not disturb disables desktop and mobile push notifications.'),
  command('echo', 'echo', 'Echo back text from your account', "'message' [delay in seconds]"),
  command('expand', 'expand', 'Turn off auto-collapsing of image previews'),
  command('exportlink', 'exportlink', '', '', { auto_complete: false, listed: false }),
  command('groupmsg', 'message', 'Sends a Group Message to the specified users', "@[username1],@[username2] 'message'"),
  command('header', 'header', 'Edit the channel header', '[text]'),
  command('help', 'help', 'Show Mattermost help message'),
  command('invite', 'invite', 'Invite a user to a channel', '@[username]... ~[channel]...'),
  command('invite_people', 'invite_people', 'Send an email invite to your Mattermost team', '[name@domain.com ...]', { listed: false }),
  command('join', 'join', 'Join the open channel', '~[channel]'),
  command('kick', 'kick', 'Remove a member from the channel', '@[username]', { auto_complete: false }),
  command('leave', 'leave', 'Leave the current channel'),
  command('logout', 'logout', 'Logout of Mattermost'),
  command('marketplace', 'marketplace', 'Open the Marketplace', '', { listed: false }),
  command('me', 'me', 'Do an action', '[message]'),
  command('mobile-logs', 'mobile-logs', 'Manage mobile app log attachment for yourself or another user.', '[on|off|status] [@username]', { listed: false }),
  command('msg', 'message', 'Send Direct Message to a user', "@[username] 'message'"),
  command('mute', 'mute', 'Turns off desktop, email and push notifications for the current channel or the [channel] specified.', '~[channel]'),
  command('offline', 'offline', 'Set your status offline'),
  command('online', 'online', 'Set your status online'),
  command('open', 'open', 'Join the open channel', '~[channel]', { auto_complete: false }),
  command('purpose', 'purpose', 'Edit the channel purpose', '[text]'),
  command('remove', 'remove', 'Remove a member from the channel', '@[username]'),
  command('rename', 'rename', 'Rename the channel', '[text]'),
  command('search', 'search', 'Search text in messages', '[text]'),
  command('secure-connection', 'secure-connection', 'Invite secure connections for communication across Mattermost instances.', '[action]', { listed: false }),
  command('settings', 'settings', 'Open the Settings dialog'),
  command('share-channel', 'share-channel', 'Shares the current channel with an external Mattermost instance.', '[action]', { listed: false }),
  command('shortcuts', 'shortcuts', 'Displays a list of keyboard shortcuts'),
  command('shrug', 'shrug', 'Adds ¯\\_(ツ)_/¯ to your message', '[message]'),
  command('status', 'status', 'Set or clear your status', '[:emoji_name:] [status_message] or clear'),
];

const RESERVED = new Set(BUILT_IN_COMMANDS.map((builtIn) => builtIn.trigger));

/** Whether a trigger is a built-in command's, compared as Mattermost does: case-insensitively. */
export function isBuiltInTrigger(trigger: string): boolean {
  return RESERVED.has(trigger.toLowerCase());
}

/** The built-ins a list shows: those a default server lists and offers for autocomplete, as `Command`s with every other field empty. */
export function listedBuiltInCommands(): Command[] {
  return BUILT_IN_COMMANDS.filter((builtIn) => builtIn.listed && builtIn.auto_complete).map((builtIn) => ({
    id: '',
    creator_id: '',
    team_id: '',
    trigger: builtIn.trigger,
    method: '' as Command['method'],
    url: '',
    username: '',
    icon_url: '',
    auto_complete: true,
    auto_complete_desc: builtIn.auto_complete_desc,
    auto_complete_hint: builtIn.auto_complete_hint,
    display_name: builtIn.display_name,
    description: '',
    create_at: 0,
    update_at: 0,
    delete_at: 0,
  }));
}
