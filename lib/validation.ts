/** Mattermost's name and URL rules, shared by the seed and the use cases. */

const RESERVED_TEAM_NAMES = new Set([
  'admin', 'api', 'channel', 'claim', 'error', 'files', 'help', 'landing', 'login', 'mfa', 'oauth', 'plug',
  'plugins', 'post', 'signup', 'boards', 'playbooks',
]);
const RESERVED_USERNAMES = new Set(['all', 'channel', 'here', 'matterbot', 'system']);

export function isValidTeamName(name: string): boolean {
  return name.length >= 2 && name.length <= 64 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(name) && !RESERVED_TEAM_NAMES.has(name);
}

export function isValidChannelName(name: string): boolean {
  return name.length >= 2 && name.length <= 64 && /^[a-z0-9][a-z0-9_-]*[a-z0-9]$/.test(name);
}

export function isValidUsername(name: string): boolean {
  return name.length >= 1 && name.length <= 64 && /^[a-z][a-z0-9._-]*$/.test(name) && !RESERVED_USERNAMES.has(name);
}

/** Mattermost's `IsValidHTTPURL`: http or https, with a host. */
export function isValidHttpUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    const url = new URL(value);
    return url.hostname !== '' && !/^https?:\/\/\/+/i.test(value);
  } catch {
    return false;
  }
}

/** Slash command triggers: ASCII letters, digits, `_ - . /`, no leading slash, 1 to 128 characters. */
export function isValidCommandTrigger(trigger: string): boolean {
  return trigger.length >= 1 && trigger.length <= 128 && /^[A-Za-z0-9_.\-][A-Za-z0-9_.\-/]*$/.test(trigger);
}

/** Triggers Mattermost reserves for its built-in commands; a custom command may not take them. */
export const BUILT_IN_TRIGGERS = new Set([
  'echo', 'shrug', 'me', 'msg', 'groupmsg', 'join', 'open', 'leave', 'kick', 'remove', 'header', 'purpose', 'rename',
  'invite', 'invite_people', 'mute', 'away', 'online', 'offline', 'dnd', 'status', 'code', 'collapse', 'expand', 'help',
  'logout', 'search', 'settings', 'shortcuts', 'share-channel', 'secure-connection', 'marketplace', 'exportlink',
  'mobile-logs',
]);

/** Byte length, as Go's `len`, for Mattermost's field limits. */
export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
