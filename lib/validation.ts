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

/** Byte length, as Go's `len`, for Mattermost's field limits. */
export function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}
