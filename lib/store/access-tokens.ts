/**
 * Personal access tokens in the entities table. Each token is two items: the token itself under
 * the hash of its secret (so authentication is one GetItem by hash), listed under its user in
 * GSI1; and an item under the token's id that names the hash (get, revoke, disable by id), listed
 * under one GSI1 partition of all tokens for system admins. Both are written and removed together
 * in one transaction. The secret is never stored.
 *
 * Tokens written before tokens had metadata are bare pointers to their user (`target_id`). They
 * read as active, never-expiring tokens with no id, so they keep authenticating but are not listed;
 * the seed rewrites them in the new shape (lib/seed/seed.ts).
 */
import { GetCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { UserAccessToken } from '../model.js';
import { conditionHeld, queryAll } from './dynamo.js';
import type { EntityStore, ItemWrite } from './entities.js';
import { indexes, keys } from './keys.js';

const TOKEN_KIND = 'user_access_token';
const TOKEN_ID_KIND = 'user_access_token_id';

/** The items of a token: first the token under its hash, then its id item. */
export function accessTokenItems(token: UserAccessToken, tokenHash: string): ItemWrite[] {
  const order = keys.accessTokenOrder(token.create_at, token.id);
  return [
    {
      item: {
        ...keys.userToken(tokenHash),
        kind: TOKEN_KIND,
        GSI1PK: keys.accessTokensOfUser(token.user_id),
        GSI1SK: order,
        // The pointer's attribute, kept so that readers of the old shape still find the user.
        target_id: token.user_id,
        id: token.id,
        user_id: token.user_id,
        description: token.description,
        is_active: token.is_active,
        // Not `expires_at`: that attribute is the table's TTL, in seconds.
        expires_at_ms: token.expires_at,
        create_at: token.create_at,
      },
    },
    {
      item: {
        ...keys.accessTokenId(token.id),
        kind: TOKEN_ID_KIND,
        GSI1PK: keys.allAccessTokens(),
        GSI1SK: order,
        token_hash: tokenHash,
        user_id: token.user_id,
      },
    },
  ];
}

/** A stored token item (either shape) as a token; undefined for anything else. */
export function accessTokenFromItem(item: Record<string, unknown> | undefined): UserAccessToken | undefined {
  if (!item) return undefined;
  if (typeof item.id === 'string' && typeof item.user_id === 'string') {
    return {
      id: String(item.id),
      user_id: String(item.user_id),
      description: String(item.description ?? ''),
      is_active: item.is_active === true,
      expires_at: typeof item.expires_at_ms === 'number' ? item.expires_at_ms : 0,
      create_at: typeof item.create_at === 'number' ? item.create_at : 0,
    };
  }
  if (typeof item.target_id === 'string') {
    return { id: '', user_id: item.target_id, description: '', is_active: true, expires_at: 0, create_at: 0 };
  }
  return undefined;
}

/** Whether a stored token item is of the shape before tokens had metadata. */
export function isLegacyTokenItem(item: Record<string, unknown> | undefined): boolean {
  return item !== undefined && typeof item.id !== 'string' && typeof item.target_id === 'string';
}

/** A token with the hash that locates it. */
export interface LocatedAccessToken {
  token: UserAccessToken;
  tokenHash: string;
}

export class AccessTokenStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly entities: EntityStore,
  ) {}

  /** The token whose secret has this hash; `consistent` for management, eventually consistent for authentication. */
  async byHash(tokenHash: string, consistent = false): Promise<UserAccessToken | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.userToken(tokenHash), ConsistentRead: consistent }));
    return accessTokenFromItem(result.Item);
  }

  /** A token by its id (two strongly consistent GetItems). */
  async byId(tokenId: string): Promise<LocatedAccessToken | undefined> {
    const result = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.accessTokenId(tokenId), ConsistentRead: true }));
    const tokenHash = result.Item?.token_hash;
    if (typeof tokenHash !== 'string') return undefined;
    const token = await this.byHash(tokenHash, true);
    return token && token.id === tokenId ? { token, tokenHash } : undefined;
  }

  /** Stores a new token; both items must be new. */
  async create(token: UserAccessToken, tokenHash: string): Promise<void> {
    await this.entities.transactWrite(accessTokenItems(token, tokenHash).map((write) => ({ ...write, createOnly: true })));
  }

  /** Removes a token (Mattermost deletes revoked tokens); both items in one transaction. */
  async remove(tokenId: string, tokenHash: string): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.table, Key: keys.userToken(tokenHash) } },
          { Delete: { TableName: this.table, Key: keys.accessTokenId(tokenId) } },
        ],
      }),
    );
  }

  /** Enables or disables a token; false when it no longer exists (revoked meanwhile). */
  async setActive(tokenId: string, tokenHash: string, active: boolean): Promise<boolean> {
    return conditionHeld(
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: keys.userToken(tokenHash),
          UpdateExpression: 'SET is_active = :active',
          ConditionExpression: '#kind = :kind AND id = :id',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':active': active, ':kind': TOKEN_KIND, ':id': tokenId },
        }),
      ),
    );
  }

  /** A page of a user's tokens, oldest first. Reads `offset + limit` items at most. */
  async listOfUser(userId: string, offset: number, limit: number): Promise<UserAccessToken[]> {
    if (limit <= 0) return [];
    const items = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.byParent,
        KeyConditionExpression: 'GSI1PK = :parent',
        ExpressionAttributeValues: { ':parent': keys.accessTokensOfUser(userId) },
      },
      offset + limit,
    );
    return items.slice(offset).map((item) => accessTokenFromItem(item)!);
  }

  /**
   * A page of every token, oldest first (or newest first): the id items from GSI1, then their
   * tokens in batches. Reads `offset + limit` id items at most.
   */
  async listAll(offset: number, limit: number, newestFirst = false): Promise<UserAccessToken[]> {
    if (limit <= 0) return [];
    const idItems = await queryAll(
      this.db,
      {
        TableName: this.table,
        IndexName: indexes.byParent,
        KeyConditionExpression: 'GSI1PK = :parent',
        ExpressionAttributeValues: { ':parent': keys.allAccessTokens() },
        ScanIndexForward: !newestFirst,
      },
      offset + limit,
    );
    const hashes = idItems.slice(offset).map((item) => String(item.token_hash));
    const tokens = await this.entities.getMany<Record<string, unknown>>(hashes.map((hash) => keys.userToken(hash)));
    return tokens.map((item) => accessTokenFromItem(item)).filter((token) => token !== undefined);
  }
}
