import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { hashToken, isValidId, newId, newSigningSecret } from '../ids.js';
import type { Channel, Command, IncomingWebhook, OutgoingWebhook, Team, User } from '../model.js';
import { itemsFor, type EntityStore, type ItemWrite } from '../store/entities.js';
import { keys } from '../store/keys.js';
import {
  BUILT_IN_TRIGGERS,
  byteLength,
  isValidChannelName,
  isValidCommandTrigger,
  isValidHttpUrl,
  isValidTeamName,
  isValidUsername,
} from '../validation.js';
import { seedFileSchema, type SeedFile } from './schema.js';

/** A seed file that cannot be applied; `problems` name the file, the entry and the field. */
export class SeedValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`seed rejected, nothing written:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'SeedValidationError';
  }
}

export interface SeedSummary {
  written_items: number;
  unchanged_items: number;
  teams: Array<{ name: string; id: string }>;
  channels: Array<{ team: string; name: string; id: string; type: string; archived: boolean }>;
  users: Array<{ username: string; id: string; token: string | null }>;
  incoming_webhooks: Array<{ id: string; team: string; channel: string; display_name: string; url: string }>;
  outgoing_webhooks: Array<{ id: string; team: string; display_name: string; token: string; signing_secret: string }>;
  commands: Array<{ id: string; team: string; trigger: string; token: string; signing_secret: string }>;
  /** Signs the requests of interactive message actions (Standard Webhooks); generated once. */
  action_signing_secret: string;
}

export interface SeedOptions {
  store: EntityStore;
  /** Base of the hook URLs in the summary. */
  siteUrl: string;
  nowMs?: number;
}

/** Parses and validates the YAML text; structural problems are reported with their path. */
export function parseSeedFile(fileName: string, text: string): SeedFile {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    throw new SeedValidationError([`${fileName}: not valid YAML: ${detail}`]);
  }
  const parsed = seedFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new SeedValidationError(
      parsed.error.issues.map((issue) => {
        const [section, index, ...field] = issue.path;
        const where = typeof index === 'number' ? `${String(section)}[${index}]` : String(section ?? '(top level)');
        const fieldName = field.length ? `${field.join('.')}: ` : '';
        return `${fileName}: ${where}: ${fieldName}${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

/** Keeps an existing entity's timestamps when nothing else changed, so a rerun writes nothing. */
function withTimestamps<T extends { create_at: number; update_at: number }>(
  desired: Omit<T, 'create_at' | 'update_at'>,
  existing: Record<string, unknown> | undefined,
  nowMs: number,
): T {
  return {
    ...desired,
    create_at: typeof existing?.create_at === 'number' ? existing.create_at : nowMs,
    update_at: typeof existing?.update_at === 'number' ? existing.update_at : nowMs,
  } as T;
}

/**
 * Validates a seed file against itself and the stored entities, then writes what differs. Nothing
 * is written unless every entry is valid; an entry that matches what is stored writes nothing, so a
 * second run of the same file changes nothing. Generated ids are remembered under a natural key
 * (team/channel/display name for hooks, team/trigger for commands) and reused by later runs.
 */
export async function applySeed(fileName: string, seed: SeedFile, options: SeedOptions): Promise<SeedSummary> {
  const { store } = options;
  const nowMs = options.nowMs ?? Date.now();
  const problems: string[] = [];
  const problem = (where: string, message: string) => problems.push(`${fileName}: ${where}: ${message}`);
  const writes: ItemWrite[] = [];
  const summary: SeedSummary = {
    written_items: 0,
    unchanged_items: 0,
    teams: [],
    channels: [],
    users: [],
    incoming_webhooks: [],
    outgoing_webhooks: [],
    commands: [],
    action_signing_secret: '',
  };
  summary.action_signing_secret = (await store.getActionSigningSecret()) ?? newSigningSecret();
  writes.push(itemsFor.actionSigningSecret(summary.action_signing_secret));

  const pointerTarget = async (key: ReturnType<typeof keys.seedKey>) => {
    const item = await store.getRaw(key);
    return typeof item?.target_id === 'string' ? item.target_id : undefined;
  };
  const checkGivenId = (where: string, id: string | undefined) => {
    if (id !== undefined && !isValidId(id)) problem(where, `id: "${id}" is not a 26-character letters-and-digits id`);
  };

  // Teams.
  const teams = new Map<string, Team>();
  for (const [index, entry] of seed.teams.entries()) {
    const where = `teams[${index}] (${entry.name})`;
    if (!isValidTeamName(entry.name)) problem(where, 'name: must be 2-64 lowercase letters, digits or dashes, starting with a letter, and not reserved');
    if (teams.has(entry.name)) problem(where, `name: duplicate team name "${entry.name}"`);
    checkGivenId(where, entry.id);
    const existingId = await pointerTarget(keys.teamName(entry.name));
    const id = existingId ?? entry.id ?? newId();
    const existing = existingId ? await store.getRaw(keys.team(existingId)) : undefined;
    const team = withTimestamps<Team>(
      { id, name: entry.name, display_name: entry.display_name ?? entry.name, delete_at: 0 },
      existing,
      nowMs,
    );
    teams.set(entry.name, team);
    writes.push(...itemsFor.team(team));
    summary.teams.push({ name: team.name, id: team.id });
  }
  const findTeam = async (name: string): Promise<Team | undefined> => {
    if (!teams.has(name)) {
      const stored = await store.getTeamByName(name);
      if (stored) teams.set(name, stored);
    }
    return teams.get(name);
  };

  // Channels.
  const channels = new Map<string, Channel>();
  const archive: Channel[] = [];
  for (const [index, entry] of seed.channels.entries()) {
    const where = `channels[${index}] (${entry.team}/${entry.name})`;
    const team = await findTeam(entry.team);
    if (!team) {
      problem(where, `team: unknown team "${entry.team}"`);
      continue;
    }
    if (!isValidChannelName(entry.name)) problem(where, 'name: must be 2-64 lowercase letters, digits, dashes or underscores');
    const channelKey = `${entry.team}/${entry.name}`;
    if (channels.has(channelKey)) problem(where, `name: duplicate channel "${channelKey}"`);
    checkGivenId(where, entry.id);
    const stored = await store.getChannelByName(team.id, entry.name);
    const desired = withTimestamps<Channel>(
      {
        id: stored?.id ?? entry.id ?? newId(),
        team_id: team.id,
        name: entry.name,
        display_name: entry.display_name ?? entry.name,
        type: entry.type,
        creator_id: stored?.creator_id ?? '',
        delete_at: stored?.delete_at ?? 0,
      },
      stored as Record<string, unknown> | undefined,
      nowMs,
    );
    channels.set(channelKey, desired);
    writes.push(...itemsFor.channel(desired));
    if (entry.archived && desired.delete_at === 0) archive.push(desired);
    summary.channels.push({
      team: entry.team,
      name: entry.name,
      id: desired.id,
      type: desired.type,
      archived: entry.archived || desired.delete_at !== 0,
    });
  }
  const findChannel = async (teamName: string, channelName: string): Promise<Channel | undefined> => {
    const channelKey = `${teamName}/${channelName}`;
    if (!channels.has(channelKey)) {
      const team = await findTeam(teamName);
      const stored = team ? await store.getChannelByName(team.id, channelName) : undefined;
      if (stored) channels.set(channelKey, stored);
    }
    return channels.get(channelKey);
  };

  // Users, their tokens and memberships.
  const users = new Map<string, User>();
  const userTeams = new Map<string, Set<string>>();
  for (const [index, entry] of seed.users.entries()) {
    const where = `users[${index}] (${entry.username})`;
    if (!isValidUsername(entry.username)) problem(where, 'username: must be lowercase letters, digits, ".", "-" or "_", starting with a letter, and not reserved');
    if (users.has(entry.username)) problem(where, `username: duplicate username "${entry.username}"`);
    checkGivenId(where, entry.id);
    if (entry.token !== undefined && entry.token.length < 26) problem(where, 'token: must be at least 26 characters (128 bits)');
    const stored = await store.getUserByUsername(entry.username);
    const user = withTimestamps<User>(
      { id: stored?.id ?? entry.id ?? newId(), username: entry.username, delete_at: 0 },
      stored as Record<string, unknown> | undefined,
      nowMs,
    );
    users.set(entry.username, user);
    writes.push(...itemsFor.user(user));
    let token: string | null = entry.token ?? null;
    if (token === null && !stored) token = newId() + newId();
    if (token !== null) writes.push(itemsFor.userToken(hashToken(token), user.id));
    summary.users.push({ username: user.username, id: user.id, token });
    const memberOf = new Set<string>();
    userTeams.set(user.username, memberOf);
    for (const teamName of entry.teams) {
      const team = await findTeam(teamName);
      if (!team) problem(where, `teams: unknown team "${teamName}"`);
      else {
        memberOf.add(teamName);
        writes.push(itemsFor.teamMember(team.id, user.id));
      }
    }
    for (const reference of entry.channels) {
      const [teamName, channelName, ...rest] = reference.split('/');
      if (!teamName || !channelName || rest.length) {
        problem(where, `channels: "${reference}" is not team/channel`);
        continue;
      }
      const channel = await findChannel(teamName, channelName);
      if (!channel) problem(where, `channels: unknown channel "${reference}"`);
      else if (!memberOf.has(teamName)) problem(where, `channels: "${reference}" needs team "${teamName}" in teams`);
      else writes.push(itemsFor.channelMember(channel.id, user.id));
    }
  }
  const findUser = async (username: string): Promise<User | undefined> => {
    if (!users.has(username)) {
      const stored = await store.getUserByUsername(username);
      if (stored) users.set(username, stored);
    }
    return users.get(username);
  };
  const checkCreator = async (where: string, username: string, team: Team): Promise<User | undefined> => {
    const user = await findUser(username);
    if (!user) problem(where, `creator: unknown user "${username}"`);
    else if (!userTeams.get(username)?.has(team.name) && !(await store.isTeamMember(team.id, user.id))) {
      problem(where, `creator: "${username}" is not a member of team "${team.name}"`);
    }
    return user;
  };
  const seededId = async (where: string, kind: string, naturalKey: string, given: string | undefined, seen: Set<string>) => {
    if (seen.has(naturalKey)) problem(where, `duplicate entry "${naturalKey}"`);
    seen.add(naturalKey);
    checkGivenId(where, given);
    const id = given ?? (await pointerTarget(keys.seedKey(kind, naturalKey))) ?? newId();
    writes.push(itemsFor.seedKey(kind, naturalKey, id));
    return id;
  };
  const checkLength = (where: string, field: string, value: string, max: number) => {
    if (byteLength(value) > max) problem(where, `${field}: longer than ${max} bytes`);
  };

  // Incoming webhooks.
  const incomingKeys = new Set<string>();
  for (const [index, entry] of seed.incoming_webhooks.entries()) {
    const where = `incoming_webhooks[${index}] (${entry.display_name || `${entry.team}/${entry.channel}`})`;
    const team = await findTeam(entry.team);
    if (!team) {
      problem(where, `team: unknown team "${entry.team}"`);
      continue;
    }
    const channel = await findChannel(entry.team, entry.channel);
    if (!channel) problem(where, `channel: unknown channel "${entry.team}/${entry.channel}"`);
    const creator = await checkCreator(where, entry.creator, team);
    checkLength(where, 'display_name', entry.display_name, 64);
    checkLength(where, 'description', entry.description, 500);
    checkLength(where, 'username', entry.username, 64);
    checkLength(where, 'icon_url', entry.icon_url, 1024);
    if (entry.username && !isValidUsername(entry.username)) problem(where, `username: "${entry.username}" is not a valid username`);
    const id = await seededId(where, 'incoming', `${entry.team}/${entry.channel}/${entry.display_name}`, entry.id, incomingKeys);
    if (!channel || !creator) continue;
    const existing = await store.getRaw(keys.incomingWebhook(id));
    const hook = withTimestamps<IncomingWebhook>(
      {
        id,
        channel_id: channel.id,
        team_id: team.id,
        user_id: creator.id,
        display_name: entry.display_name,
        description: entry.description,
        username: entry.username,
        icon_url: entry.icon_url,
        channel_locked: entry.channel_locked,
        delete_at: typeof existing?.delete_at === 'number' ? existing.delete_at : 0,
      },
      existing,
      nowMs,
    );
    writes.push(...itemsFor.incomingWebhook(hook));
    summary.incoming_webhooks.push({
      id,
      team: entry.team,
      channel: entry.channel,
      display_name: entry.display_name,
      url: `${options.siteUrl}/hooks/${id}`,
    });
  }

  // Outgoing webhooks.
  const outgoingKeys = new Set<string>();
  for (const [index, entry] of seed.outgoing_webhooks.entries()) {
    const label = entry.display_name || `${entry.channel}:${entry.trigger_words.join(',')}`;
    const where = `outgoing_webhooks[${index}] (${label})`;
    const team = await findTeam(entry.team);
    if (!team) {
      problem(where, `team: unknown team "${entry.team}"`);
      continue;
    }
    let channelId = '';
    if (entry.channel) {
      const channel = await findChannel(entry.team, entry.channel);
      if (!channel) problem(where, `channel: unknown channel "${entry.team}/${entry.channel}"`);
      else if (channel.type !== 'O') problem(where, `channel: outgoing webhooks work only in public channels`);
      else channelId = channel.id;
    } else if (entry.trigger_words.length === 0) {
      problem(where, 'trigger_words: either trigger_words or channel must be set');
    }
    if (entry.trigger_words.some((word) => word === '' || /\s/.test(word))) problem(where, 'trigger_words: empty or contains whitespace');
    if (entry.callback_urls.length === 0) problem(where, 'callback_urls: at least one URL is required');
    for (const url of entry.callback_urls) if (!isValidHttpUrl(url)) problem(where, `callback_urls: "${url}" is not an http(s) URL`);
    checkLength(where, 'display_name', entry.display_name, 64);
    checkLength(where, 'description', entry.description, 500);
    checkLength(where, 'content_type', entry.content_type, 128);
    if (entry.token !== undefined && entry.token.length !== 26) problem(where, 'token: must be 26 characters');
    const creator = await checkCreator(where, entry.creator, team);
    const id = await seededId(where, 'outgoing', `${entry.team}/${label}`, entry.id, outgoingKeys);
    if (!creator) continue;
    const existing = await store.getRaw(keys.outgoingWebhook(id));
    const existingSecrets = await store.getIntegrationSecrets('OUTHOOK', id);
    const secrets = {
      token: entry.token ?? existingSecrets?.token ?? newId(),
      signing_secret: entry.signing_secret ?? existingSecrets?.signing_secret ?? newSigningSecret(),
    };
    const hook = withTimestamps<OutgoingWebhook>(
      {
        id,
        creator_id: creator.id,
        channel_id: channelId,
        team_id: team.id,
        trigger_words: entry.trigger_words,
        trigger_when: entry.trigger_when,
        callback_urls: entry.callback_urls,
        display_name: entry.display_name,
        description: entry.description,
        content_type: entry.content_type,
        username: entry.username,
        icon_url: entry.icon_url,
        delete_at: 0,
      },
      existing,
      nowMs,
    );
    writes.push(...itemsFor.outgoingWebhook(hook, secrets));
    summary.outgoing_webhooks.push({
      id,
      team: entry.team,
      display_name: entry.display_name,
      token: secrets.token,
      signing_secret: secrets.signing_secret,
    });
  }

  // Slash commands.
  const commandKeys = new Set<string>();
  for (const [index, entry] of seed.commands.entries()) {
    const where = `commands[${index}] (/${entry.trigger})`;
    const team = await findTeam(entry.team);
    if (!team) {
      problem(where, `team: unknown team "${entry.team}"`);
      continue;
    }
    const trigger = entry.trigger.toLowerCase();
    if (!isValidCommandTrigger(entry.trigger)) problem(where, `trigger: "${entry.trigger}" must be 1-128 of A-Z a-z 0-9 _ - . / without a leading slash`);
    if (BUILT_IN_TRIGGERS.has(trigger)) problem(where, `trigger: "${trigger}" is a built-in command`);
    if (!isValidHttpUrl(entry.url) || byteLength(entry.url) > 1024) problem(where, `url: "${entry.url}" is not an http(s) URL`);
    if (entry.token !== undefined && entry.token.length !== 26) problem(where, 'token: must be 26 characters');
    checkLength(where, 'display_name', entry.display_name, 64);
    checkLength(where, 'description', entry.description, 128);
    const creator = await checkCreator(where, entry.creator, team);
    const id = await seededId(where, 'command', `${entry.team}/${trigger}`, entry.id, commandKeys);
    const claimedBy = await pointerTarget(keys.commandTrigger(team.id, trigger));
    if (claimedBy && claimedBy !== id) problem(where, `trigger: "/${trigger}" is already used by command ${claimedBy}`);
    if (!creator) continue;
    const existing = await store.getRaw(keys.command(id));
    const existingSecrets = await store.getIntegrationSecrets('COMMAND', id);
    const secrets = {
      token: entry.token ?? existingSecrets?.token ?? newId(),
      signing_secret: entry.signing_secret ?? existingSecrets?.signing_secret ?? newSigningSecret(),
    };
    const command = withTimestamps<Command>(
      {
        id,
        creator_id: creator.id,
        team_id: team.id,
        trigger,
        method: entry.method,
        url: entry.url,
        username: entry.username,
        icon_url: entry.icon_url,
        auto_complete: entry.auto_complete,
        auto_complete_desc: entry.auto_complete_desc,
        auto_complete_hint: entry.auto_complete_hint,
        display_name: entry.display_name,
        description: entry.description,
        delete_at: 0,
      },
      existing,
      nowMs,
    );
    writes.push(...itemsFor.command(command, secrets));
    summary.commands.push({ id, team: entry.team, trigger, token: secrets.token, signing_secret: secrets.signing_secret });
  }

  if (problems.length > 0) throw new SeedValidationError(problems);

  // Only what differs from the stored item is written; update_at moves only for those.
  const changed: ItemWrite[] = [];
  const seenKeys = new Set<string>();
  for (const write of writes) {
    const itemKey = `${write.item.PK}|${write.item.SK}`;
    if (seenKeys.has(itemKey)) continue;
    seenKeys.add(itemKey);
    const existing = await store.getRaw({ PK: write.item.PK, SK: write.item.SK });
    const comparable = (item: Record<string, unknown>) => {
      const { update_at: _ignored, ...rest } = item;
      return rest;
    };
    if (existing && isDeepStrictEqual(comparable(existing), comparable(write.item))) {
      summary.unchanged_items++;
      continue;
    }
    if (existing && 'update_at' in write.item) write.item.update_at = nowMs;
    changed.push(write);
  }
  await store.transactWrite(changed);
  for (const channel of archive) await store.archiveChannel(channel.id, nowMs);
  summary.written_items = changed.length + archive.length;
  return summary;
}
