/**
 * Channel memberships written outside the API (a seed run) reach the connections that were open
 * already. A connection lists its user's channels at `hello` (lib/store/connections.ts), so without
 * this a user added to a channel while connected would hear of its posts only after reconnecting.
 * The seed runs with the operator's credentials, which may write the connections table: for each
 * membership it wrote, the user's open connections are listed in the channel's partition. Nothing
 * is sent to clients here (Mattermost's `user_added` is not implemented); the first event of the
 * channel is how a client hears of it.
 */
import type { ItemChange } from '../store/entities.js';
import type { ConnectionStore } from '../store/connections.js';
import { keys } from '../store/keys.js';

export interface ChannelMembership {
  channelId: string;
  userId: string;
}

/** The channel memberships a seed's transactions write (new ones, and changed roles: listing is idempotent). */
export function channelMembershipsWritten(transactions: ItemChange[][]): ChannelMembership[] {
  const memberships: ChannelMembership[] = [];
  for (const change of transactions.flat()) {
    if (!('put' in change) || change.put.kind !== 'channel_member') continue;
    const { channel_id: channelId, user_id: userId } = change.put;
    if (typeof channelId !== 'string' || typeof userId !== 'string') continue;
    // Only the membership item itself, never another item that happens to carry the two ids.
    const key = keys.channelMember(channelId, userId);
    if (change.put.PK === key.PK && change.put.SK === key.SK) memberships.push({ channelId, userId });
  }
  return memberships;
}

/** Lists the open connections of each membership's user in its channel; answers how many were added. */
export async function addMembershipsToConnections(connections: ConnectionStore, memberships: ChannelMembership[]): Promise<number> {
  let added = 0;
  for (const { channelId, userId } of memberships) added += await connections.addToChannel(userId, channelId);
  return added;
}
