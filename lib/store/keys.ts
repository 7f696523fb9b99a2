/**
 * Every DynamoDB key in one place. The entities table holds teams, channels, users, memberships
 * and integrations, each under its own partition, plus pointer items that make names unique and
 * resolvable with one GetItem. The posts table holds posts, indexed by channel for reading.
 * Seed scripts and stores both build keys only through this module.
 */
export interface Key {
  PK: string;
  SK: string;
}

/** The partition-key prefix that IAM keeps from the functions that do not sign (serverless.yml). */
export const SECRET_PREFIX = 'SECRET#';

const entity = (kind: string, id: string): Key => ({ PK: `${kind}#${id}`, SK: `#${kind}` });
const pointer = (kind: string, ...parts: string[]): Key => ({ PK: `${kind}#${parts.join('#')}`, SK: '#POINTER' });

export const keys = {
  team: (teamId: string) => entity('TEAM', teamId),
  teamName: (name: string) => pointer('TEAMNAME', name),
  teamMember: (teamId: string, userId: string): Key => ({ PK: `TEAM#${teamId}`, SK: `MEMBER#${userId}` }),
  /** GSI1 of the entities table: a user's team memberships (sort key `TEAM#<team id>`). */
  teamsOfUser: (userId: string) => `TEAMS#USER#${userId}`,

  channel: (channelId: string) => entity('CHANNEL', channelId),
  /** Direct channels have no team; their name is the two user ids, sorted, joined by `__`. */
  channelName: (teamId: string, name: string) => pointer('CHANNELNAME', teamId, name),
  channelMember: (channelId: string, userId: string): Key => ({ PK: `CHANNEL#${channelId}`, SK: `MEMBER#${userId}` }),
  channelMembersPrefix: () => 'MEMBER#',
  /** GSI1 of the entities table: a user's channel memberships (sort key `CHANNEL#<channel id>`). */
  channelsOfUser: (userId: string) => `CHANNELS#USER#${userId}`,

  user: (userId: string) => entity('USER', userId),
  username: (username: string) => pointer('USERNAME', username),
  /**
   * A personal access token, found by the hash of its secret (one GetItem per request). Before
   * tokens had metadata this was a bare pointer to the user; such items still read (lib/store/access-tokens.ts).
   */
  userToken: (tokenHash: string) => pointer('TOKEN', tokenHash),
  /** A personal access token's id, pointing at the hash of its secret (get, revoke, disable by id). */
  accessTokenId: (tokenId: string) => pointer('ACCESSTOKEN', tokenId),
  /** GSI1 of the entities table: a user's personal access tokens (sort key: creation time, then id). */
  accessTokensOfUser: (userId: string) => `ACCESSTOKENS#USER#${userId}`,
  /** GSI1 of the entities table: every personal access token (the id items), for system admins. */
  allAccessTokens: () => 'ACCESSTOKENS#ALL',
  accessTokenOrder: (createAtMs: number, tokenId: string) => `TOKEN#${String(createAtMs).padStart(15, '0')}#${tokenId}`,
  /**
   * A dialog an integration opened for a user, by the hash of its submit URL: submissions and
   * lookups are accepted only for dialogs opened for that user (lib/integrations/dialogs.ts).
   */
  openedDialog: (userId: string, purpose: 'submit' | 'lookup', urlHash: string): Key => ({ PK: `DIALOG#${userId}#${purpose}#${urlHash}`, SK: '#DIALOG' }),
  /** A custom role defined by the seed file (Mattermost's permission schemes). */
  role: (name: string) => entity('ROLE', name),
  /**
   * One audit record of a management change; a partition per UTC day keeps the listing one Query
   * per day, and the item's `expires_at` lets DynamoDB's TTL remove it.
   */
  auditRecord: (timeMs: number, recordId: string): Key => ({
    PK: `AUDIT#${new Date(timeMs).toISOString().slice(0, 10)}`,
    SK: `${String(timeMs).padStart(15, '0')}#${recordId}`,
  }),

  incomingWebhook: (hookId: string) => entity('INHOOK', hookId),
  /** The posts admitted for a hook in one rate-limit window, by every instance (lib/rate-limit.ts). */
  hookRateWindow: (hookId: string, windowStartMs: number): Key => ({ PK: `RATE#${hookId}#${windowStartMs}`, SK: '#RATE' }),
  /**
   * An incoming hook listed in its team's partition (the hook itself is indexed by channel in
   * GSI1): the management API lists a team's hooks with one strongly consistent Query. A hook's
   * team never changes, so the listing item is written with the hook and removed when it is deleted.
   */
  incomingWebhookOfTeam: (teamId: string, hookId: string): Key => ({ PK: `INHOOKS#TEAM#${teamId}`, SK: `INHOOK#${hookId}` }),
  incomingWebhooksOfTeam: (teamId: string) => `INHOOKS#TEAM#${teamId}`,
  /** GSI1 of the entities table, on the team listings above: every live incoming hook (the unfiltered list, for system admins). */
  allIncomingWebhooks: () => 'INHOOKS#ALL',
  /**
   * Every live outgoing hook listed in one partition (the hook itself is indexed by team in GSI1),
   * for the unfiltered list: a Query, where a Scan would need a role allowed to read every item.
   */
  outgoingWebhookListing: (hookId: string): Key => ({ PK: 'OUTHOOKS#ALL', SK: `OUTHOOK#${hookId}` }),
  allOutgoingWebhooks: () => 'OUTHOOKS#ALL',
  outgoingWebhook: (hookId: string) => entity('OUTHOOK', hookId),
  command: (commandId: string) => entity('COMMAND', commandId),
  commandTrigger: (teamId: string, trigger: string) => pointer('COMMANDTRIGGER', teamId, trigger),
  /** A slash command's `response_url`: 30 minutes, 5 uses. */
  commandWebhook: (id: string) => entity('CMDHOOK', id),

  /**
   * Secrets live in partitions of their own, all starting with `SECRET#`, and in no index: IAM
   * denies every function that does not call integrations any read of a `SECRET#` partition
   * (a `dynamodb:LeadingKeys` condition in serverless.yml), so a bug or an injected read in
   * those functions cannot reach a token or a signing secret.
   */
  secrets: (kind: 'OUTHOOK' | 'COMMAND', id: string): Key => ({ PK: `${SECRET_PREFIX}${kind}#${id}`, SK: '#SECRET' }),
  /** The deployment's action signing secret, like a row of Mattermost's Systems table. */
  actionSigningSecret: (): Key => ({ PK: `${SECRET_PREFIX}SYSTEM#action_signing_secret`, SK: '#SECRET' }),
  /** Remembers which generated id a seed entry without an id received, so later runs keep it. */
  seedKey: (kind: string, naturalKey: string) => pointer('SEEDKEY', kind, naturalKey),

  /** GSI1 of the entities table: the integrations attached to a channel or a team. */
  hooksOfChannel: (channelId: string) => `HOOKS#CHANNEL#${channelId}`,
  integrationsOfTeam: (kind: 'OUTHOOK' | 'COMMAND', teamId: string) => `${kind}#TEAM#${teamId}`,

  post: (postId: string) => entity('POST', postId),
  /**
   * A reply listed in its root's partition, written with the reply: a thread is one Query of the
   * root's partition (`REPLY#` sort keys, oldest first), no index needed.
   */
  threadReply: (rootId: string, createAtMs: number, replyId: string): Key => ({ PK: `POST#${rootId}`, SK: `REPLY#${String(createAtMs).padStart(15, '0')}#${replyId}` }),
  threadRepliesPrefix: () => 'REPLY#',
  /** A thread entry's sort key back to its reply's creation time. */
  threadReplyCreateAt: (sortKey: string): number => Number(sortKey.slice('REPLY#'.length, 'REPLY#'.length + 15)),
  /** A user's reaction with one emoji, in the post's partition of the posts table. */
  reaction: (postId: string, userId: string, emojiName: string): Key => ({ PK: `POST#${postId}`, SK: `REACTION#${userId}#${emojiName}` }),
  reactionsPrefix: () => 'REACTION#',
  /** The sort key of every post item (`post(...)`), which the posts stream's consumers select on. */
  postSortKey: () => '#POST',
  /** A reaction item's sort key back to its user and emoji (a removed reaction's stream record has only its keys). */
  reactionFromSortKey: (sortKey: string): { userId: string; emojiName: string } | undefined => {
    const match = /^REACTION#([^#]+)#(.+)$/.exec(sortKey);
    return match ? { userId: match[1]!, emojiName: match[2]! } : undefined;
  },
  /** One item per attempt of an outgoing delivery, listed by hour (GSI1) for the operator command. */
  deliveryAttempt: (deliveryId: string, attempt: number, attemptedAtMs: number): Key => ({
    PK: `DELIVERY#${deliveryId}`,
    SK: `ATTEMPT#${String(attempt).padStart(4, '0')}#${attemptedAtMs}`,
  }),
  attemptsOfHour: (timeMs: number) => `ATTEMPTS#${new Date(timeMs).toISOString().slice(0, 13)}`,
  /** GSI2 of the deliveries table: one hook's attempts, sorted by time (the delivery log route). */
  attemptsOfHook: (hookId: string) => `ATTEMPTS#HOOK#${hookId}`,
  attemptOrder: (attemptedAtMs: number, deliveryId: string, attempt: number) => `${String(attemptedAtMs).padStart(15, '0')}#${deliveryId}#${attempt}`,
  /** GSI1 (by creation) and GSI2 (by last update) of the posts table. */
  postsOfChannel: (channelId: string) => `CHANNEL#${channelId}`,
  /** Ephemeral posts live in their own partition per channel and user, out of the channel's pages. */
  ephemeralPostsOf: (channelId: string, userId: string) => `EPHEMERAL#${channelId}#${userId}`,
  /**
   * A copy of a user's unexpired ephemeral posts in a channel, in one item, so that the newest page
   * fetches them by key in the BatchGetItem that fetches its thread roots (lib/store/posts.ts).
   */
  ephemeralBundle: (channelId: string, userId: string): Key => ({ PK: `EPHEMERAL#${channelId}#${userId}`, SK: '#EPHEMERAL' }),
  postOrder: (timeMs: number, postId: string) => `${String(timeMs).padStart(15, '0')}#${postId}`,
  /** A seed entry's declared `key:` (stable per kind within a team), pointing at the integration it names. */
  seedDeclaredKey: (kind: string, teamId: string, key: string) => pointer('SEEDID', kind, teamId, key),
  /**
   * The hash of the token the seed last gave a user, so that a changed token revokes the old one.
   * In no index, so the hash is never listed.
   */
  seedUserToken: (userId: string): Key => ({ PK: `SEEDTOKEN#${userId}`, SK: '#SEEDTOKEN' }),
  /** What every seedKey's PK starts with, to find them all (seed prune). */
  seedKeysPrefix: () => pointer('SEEDKEY').PK,
};

/**
 * The connections table (lib/store/connections.ts): one item per websocket connection, listed by
 * user in GSI1, and one item per (channel, connection) of the user's channels at connect time, in
 * the channel's partition, so a channel's fan-out is one Query.
 */
export const connectionKeys = {
  connection: (connectionId: string): Key => ({ PK: `CONN#${connectionId}`, SK: '#CONN' }),
  /** GSI1 of the connections table: a user's connections. */
  connectionsOfUser: (userId: string) => `USERCONNS#${userId}`,
  channelConnection: (channelId: string, connectionId: string): Key => ({ PK: `CHANNELCONNS#${channelId}`, SK: `CONN#${connectionId}` }),
  connectionsOfChannel: (channelId: string) => `CHANNELCONNS#${channelId}`,
};

export const indexes = { byParent: 'GSI1', byUpdate: 'GSI2', attemptsByHook: 'GSI2' } as const;

export function directChannelName(userA: string, userB: string): string {
  return userA < userB ? `${userA}__${userB}` : `${userB}__${userA}`;
}

/** The members of a direct channel, from its name: two user ids, or one for a user's channel with themself. */
export function directChannelMemberIds(name: string): string[] {
  return [...new Set(name.split('__').filter((id) => id !== ''))];
}
