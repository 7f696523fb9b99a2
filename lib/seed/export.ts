import { stringify } from 'yaml';
import { commandPresentation } from '../commands/for-client.js';
import { roleNames } from '../permissions.js';
import type { EntityStore } from '../store/entities.js';
import type { SeedFile } from './schema.js';
import { snapshotTeams } from './snapshot.js';

export interface ExportOptions {
  /** Team names to export; every live team when empty. */
  teams?: string[];
  /** Include integration tokens, signing secrets and the action signing secret. */
  withSecrets?: boolean;
}

/** A team name given to export that the store does not have. */
export class UnknownTeamError extends Error {
  constructor(readonly names: string[]) {
    super(`unknown team${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
    this.name = 'UnknownTeamError';
  }
}

type Exported = Partial<{ [Section in keyof SeedFile]: SeedFile[Section] }>;

const byText = <T>(text: (item: T) => string) => (a: T, b: T) => text(a).localeCompare(text(b));

/**
 * The stored state of some teams as a seed file. Every entity carries its id (and its declared key
 * when it has one), so applying the export changes nothing, and applying it elsewhere recreates the
 * same ids. User tokens are stored only as hashes and are never exported; deleted integrations and
 * deleted users are left out.
 */
export async function exportSeed(store: EntityStore, options: ExportOptions = {}): Promise<Exported> {
  const wanted = new Set(options.teams ?? []);
  const snapshot = await snapshotTeams(store, (team) => (wanted.size > 0 ? wanted.has(team.name) : team.delete_at === 0));
  const missing = [...wanted].filter((name) => !snapshot.teams.some((team) => team.name === name));
  if (missing.length > 0) throw new UnknownTeamError(missing);

  const teamName = new Map(snapshot.teams.map((team) => [team.id, team.name]));
  const channelsById = new Map(snapshot.channels.map((channel) => [channel.id, channel]));
  const liveUser = (userId: string) => {
    const user = snapshot.users.get(userId);
    return user && user.delete_at === 0 ? user : undefined;
  };
  const username = (userId: string) => liveUser(userId)?.username ?? userId;
  const declaredKey = new Map(snapshot.seedPointers.flatMap((pointer) => (pointer.declared ? [[pointer.targetId, pointer.declared.key] as const] : [])));
  const identity = (id: string) => ({ id, ...(declaredKey.has(id) ? { key: declaredKey.get(id)! } : {}) });
  const secretsOf = async (kind: 'OUTHOOK' | 'COMMAND', id: string) =>
    options.withSecrets ? ((await store.getIntegrationSecrets(kind, id)) ?? {}) : {};
  const live = <T extends { delete_at: number }>(entities: T[]) => entities.filter((entity) => entity.delete_at === 0);

  type Membership = string | { name: string; roles: string[] };
  /** A plain member is its name alone; a member with more roles than the scope's default lists them. */
  const membershipOf = (name: string, roles: string, base: string): Membership => {
    const extra = roleNames(roles).filter((role) => role !== base);
    return extra.length === 0 ? name : { name, roles: extra };
  };
  const membershipName = (membership: Membership) => (typeof membership === 'string' ? membership : membership.name);
  const memberships = new Map<string, { teams: Membership[]; channels: Membership[] }>();
  const membershipsOf = (userId: string) => {
    let entry = memberships.get(userId);
    if (!entry) memberships.set(userId, (entry = { teams: [], channels: [] }));
    return entry;
  };
  for (const member of snapshot.teamMembers) {
    if (liveUser(member.user_id)) membershipsOf(member.user_id).teams.push(membershipOf(teamName.get(member.team_id)!, member.roles, 'team_user'));
  }
  for (const member of snapshot.channelMembers) {
    const channel = channelsById.get(member.channel_id)!;
    const reference = `${teamName.get(channel.team_id)}/${channel.name}`;
    if (liveUser(member.user_id)) membershipsOf(member.user_id).channels.push(membershipOf(reference, member.roles, 'channel_user'));
  }
  const byName = byText(membershipName);

  const exported: Exported = {
    teams: snapshot.teams.sort(byText((team) => team.name)).map((team) => ({ id: team.id, name: team.name, display_name: team.display_name })),
    channels: snapshot.channels
      .sort(byText((channel) => `${teamName.get(channel.team_id)}/${channel.name}`))
      .map((channel) => ({
        id: channel.id,
        team: teamName.get(channel.team_id)!,
        name: channel.name,
        display_name: channel.display_name,
        type: channel.type as 'O' | 'P',
        archived: channel.delete_at !== 0,
      })),
    ...(snapshot.roles.length > 0
      ? { roles: snapshot.roles.sort(byText((role) => role.name)).map((role) => ({ name: role.name, permissions: role.permissions })) }
      : {}),
    users: [...memberships]
      .map(([userId, { teams, channels }]) => ({
        id: userId,
        username: username(userId),
        roles: roleNames(liveUser(userId)?.roles || 'system_user'),
        teams: teams.sort(byName),
        channels: channels.sort(byName),
      }))
      .sort(byText((user) => user.username)),
    incoming_webhooks: live(snapshot.incomingWebhooks)
      .sort(byText((hook) => `${teamName.get(hook.team_id)}/${hook.display_name}/${hook.id}`))
      .map((hook) => ({
        ...identity(hook.id),
        team: teamName.get(hook.team_id)!,
        channel: channelsById.get(hook.channel_id)?.name ?? hook.channel_id,
        creator: username(hook.user_id),
        display_name: hook.display_name,
        description: hook.description,
        username: hook.username,
        icon_url: hook.icon_url,
        channel_locked: hook.channel_locked,
      })),
    outgoing_webhooks: await Promise.all(
      live(snapshot.outgoingWebhooks)
        .sort(byText((hook) => `${teamName.get(hook.team_id)}/${hook.display_name}/${hook.id}`))
        .map(async (hook) => ({
          ...identity(hook.id),
          team: teamName.get(hook.team_id)!,
          channel: channelsById.get(hook.channel_id)?.name ?? '',
          creator: username(hook.creator_id),
          display_name: hook.display_name,
          description: hook.description,
          trigger_words: hook.trigger_words,
          trigger_when: hook.trigger_when,
          callback_urls: hook.callback_urls,
          content_type: hook.content_type,
          username: hook.username,
          icon_url: hook.icon_url,
          ...(await secretsOf('OUTHOOK', hook.id)),
        })),
    ),
    commands: await Promise.all(
      live(snapshot.commands)
        .sort(byText((command) => `${teamName.get(command.team_id)}/${command.trigger}`))
        .map(async (command) => ({
          ...identity(command.id),
          team: teamName.get(command.team_id)!,
          trigger: command.trigger,
          url: command.url,
          method: command.method,
          creator: username(command.creator_id),
          ...commandPresentation(command),
          ...(await secretsOf('COMMAND', command.id)),
        })),
    ),
  };
  if (options.withSecrets) {
    const actionSecret = await store.getActionSigningSecret();
    if (actionSecret) exported.action_signing_secret = actionSecret;
  }
  return exported;
}

/** The export as the YAML the seed command reads back. */
export function exportToYaml(exported: Exported, header: string): string {
  return `${header
    .split('\n')
    .map((line) => `# ${line}`.trimEnd())
    .join('\n')}\n${stringify(exported, { lineWidth: 0 })}`;
}
