import { describe, expect, it } from 'vitest';
import { newId } from '../../lib/ids.js';
import { channelMembershipsWritten } from '../../lib/live/memberships.js';
import { itemsFor } from '../../lib/store/entities.js';
import { directChannelMemberIds, directChannelName, keys } from '../../lib/store/keys.js';

describe('channelMembershipsWritten', () => {
  it('finds the channel memberships a seed writes, and nothing else', () => {
    const [channelId, userId, teamId] = [newId(), newId(), newId()];
    const transactions = [
      [{ put: itemsFor.teamMember(teamId, userId).item as never }, { put: itemsFor.channelMember(channelId, userId).item as never }],
      // A removed membership (prune) is not one to list.
      [{ delete: keys.channelMember(newId(), userId) }],
    ];
    expect(channelMembershipsWritten(transactions)).toEqual([{ channelId, userId }]);
  });
});

describe('directChannelMemberIds', () => {
  it('reads the two members from the name, and one for a channel with oneself', () => {
    const [a, b] = [newId(), newId()];
    expect(directChannelMemberIds(directChannelName(a, b)).sort()).toEqual([a, b].sort());
    expect(directChannelMemberIds(directChannelName(a, a))).toEqual([a]);
  });
});
