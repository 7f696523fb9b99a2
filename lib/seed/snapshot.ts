import type { Channel, Command, IncomingWebhook, OutgoingWebhook, Role, Team, User } from '../model.js';
import type { EntityStore } from '../store/entities.js';
import { keys, type Key } from '../store/keys.js';

/** A seed pointer (natural key or declared key) with the integration it names. */
export interface SeedPointer {
  key: Key;
  targetId: string;
  /** Only declared keys (`key:` in the file) carry these. */
  declared?: { kind: string; teamId: string; key: string };
}

/** Everything stored in some teams, as prune and export need it. */
export interface TeamsSnapshot {
  teams: Team[];
  channels: Channel[];
  users: Map<string, User>;
  incomingWebhooks: IncomingWebhook[];
  outgoingWebhooks: OutgoingWebhook[];
  commands: Command[];
  teamMembers: Array<{ key: Key; team_id: string; user_id: string; roles: string }>;
  channelMembers: Array<{ key: Key; channel_id: string; user_id: string; roles: string }>;
  /** Every custom role, whichever teams use it. */
  roles: Role[];
  seedPointers: SeedPointer[];
  /** Every item read, to spare a second read of the same item. */
  items: Record<string, unknown>[];
}

const SNAPSHOT_KINDS = ['team', 'channel', 'user', 'incoming_webhook', 'outgoing_webhook', 'command', 'team_member', 'channel_member', 'seed_key', 'role'];

function entityOf<T>(item: Record<string, unknown>): T {
  const { PK: _pk, SK: _sk, GSI1PK: _gsiPk, GSI1SK: _gsiSk, kind: _kind, ...entity } = item;
  return entity as T;
}

function keyOf(item: Record<string, unknown>): Key {
  return { PK: String(item.PK), SK: String(item.SK) };
}

/**
 * Reads the teams that `includeTeam` accepts, with their channels, integrations, memberships and
 * the seed pointers of those integrations, in one consistent Scan of the entities table (see
 * EntityStore.scanItems for why a Scan). Users come whole, whichever team they belong to.
 */
export async function snapshotTeams(store: EntityStore, includeTeam: (team: Team) => boolean): Promise<TeamsSnapshot> {
  const items = await store.scanItems(SNAPSHOT_KINDS, [keys.seedKeysPrefix()]);
  const ofKind = <T>(kind: string) => items.filter((item) => item.kind === kind).map((item) => entityOf<T>(item));
  const teams = ofKind<Team>('team').filter(includeTeam);
  const teamIds = new Set(teams.map((team) => team.id));
  const inTeams = <T extends { team_id: string }>(entities: T[]) => entities.filter((entity) => teamIds.has(entity.team_id));
  const channels = inTeams(ofKind<Channel>('channel'));
  const channelIds = new Set(channels.map((channel) => channel.id));
  const incomingWebhooks = inTeams(ofKind<IncomingWebhook>('incoming_webhook'));
  const outgoingWebhooks = inTeams(ofKind<OutgoingWebhook>('outgoing_webhook'));
  const commands = inTeams(ofKind<Command>('command'));
  const integrationIds = new Set([...incomingWebhooks, ...outgoingWebhooks, ...commands].map((integration) => integration.id));
  const seedPointers: SeedPointer[] = items
    .filter((item) => item.kind === 'seed_key' || String(item.PK).startsWith(keys.seedKeysPrefix()))
    .filter((item) => typeof item.target_id === 'string' && integrationIds.has(item.target_id))
    .map((item) => ({
      key: keyOf(item),
      targetId: item.target_id as string,
      ...(item.kind === 'seed_key' ? { declared: { kind: String(item.seed_kind), teamId: String(item.team_id), key: String(item.key) } } : {}),
    }));
  return {
    teams,
    channels,
    users: new Map(ofKind<User>('user').map((user) => [user.id, user])),
    incomingWebhooks,
    outgoingWebhooks,
    commands,
    teamMembers: items
      .filter((item) => item.kind === 'team_member' && teamIds.has(item.team_id as string))
      .map((item) => ({ key: keyOf(item), team_id: item.team_id as string, user_id: item.user_id as string, roles: String(item.roles ?? '') })),
    channelMembers: items
      .filter((item) => item.kind === 'channel_member' && channelIds.has(item.channel_id as string))
      .map((item) => ({ key: keyOf(item), channel_id: item.channel_id as string, user_id: item.user_id as string, roles: String(item.roles ?? '') })),
    roles: ofKind<Role>('role'),
    seedPointers,
    items,
  };
}
