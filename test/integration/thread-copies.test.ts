import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Post as ClientPost } from '@mattermost/types/posts';
import type { Post } from '../../lib/model.js';
import { documentClient } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';
import { MAX_THREAD_COPY_BYTES, postFromItem } from '../../lib/store/posts.js';
import { client4 } from '../support/client4.js';
import { withApiAndWorlds, type Api, type World } from '../support/harness.js';

/**
 * A reply's thread entry holds a copy of the reply (lib/store/posts.ts, threadEntryItem), so that
 * a thread is read from its root's partition alone. Every path that changes a reply must change
 * the copy with it: after each change here, every entry's copy equals its reply's item.
 */
let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]));

const clientOf = (user: string) => client4(api.url, world.user(user).token);

async function createPost(message: string, rootId = ''): Promise<Post> {
  const response = await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message, root_id: rootId }, { authorization: `Bearer ${world.user('creator').token}` });
  expect(response.status, response.text).toBe(201);
  return response.json();
}

/** Each reply's entry, read back as a post, against the reply's own item: both as stored, read strongly consistent. */
async function copiesAndReplies(root: Post, replies: Post[]) {
  const db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
  const table = api.runtime.config.tables.posts;
  const read = async (key: { PK: string; SK: string }) => (await db.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
  return Promise.all(
    replies.map(async (reply) => {
      const entry = (await read(keys.threadReply(root.id, reply.create_at, reply.id)))!;
      const item = (await read(keys.post(reply.id)))!;
      return { id: reply.id, hasCopy: entry.reply_copy === true, copy: entry.reply_copy === true ? postFromItem(entry) : undefined, reply: postFromItem(item) };
    }),
  );
}

async function expectCopiesInStep(root: Post, replies: Post[], step: string) {
  for (const { id, hasCopy, copy, reply } of await copiesAndReplies(root, replies)) {
    expect(hasCopy, `${step}: ${id} has a copy`).toBe(true);
    expect(copy, `${step}: ${id}`).toEqual(reply);
  }
}

describe('thread entries keep a copy of their reply', () => {
  it('in step with every change of a reply: edit, patch, reactions, an action update, a delete, its root\'s delete', async () => {
    const root = await createPost('deploy api?');
    const first = await createPost('on it', root.id);
    const second = await createPost('done', root.id);
    const replies = [first, second];
    await expectCopiesInStep(root, replies, 'created');

    const creator = clientOf('creator');
    await creator.updatePost({ ...first, message: 'on it, ETA 5 min' } as unknown as ClientPost);
    await expectCopiesInStep(root, replies, 'PUT /posts/{id}');
    await creator.patchPost({ id: second.id, message: 'done :rocket:', is_pinned: true });
    await expectCopiesInStep(root, replies, 'PUT /posts/{id}/patch');

    await clientOf('other').addReaction(world.user('other').id, first.id, 'tada');
    await creator.addReaction(world.user('creator').id, first.id, 'white_check_mark');
    await expectCopiesInStep(root, replies, 'reactions added');
    await clientOf('other').removeReaction(world.user('other').id, first.id, 'tada');
    await expectCopiesInStep(root, replies, 'one reaction removed, one left');
    await creator.removeReaction(world.user('creator').id, first.id, 'white_check_mark');
    const [unreacted] = await copiesAndReplies(root, [first]);
    expect(unreacted!.reply.has_reactions).toBe(false);
    await expectCopiesInStep(root, replies, 'last reaction removed');

    // An integration's answer to a click changes the post as edits do (lib/actions/perform.ts).
    const stored = (await api.runtime.posts.getPost(second.id))!;
    expect(await api.runtime.posts.writeEdit({ ...stored, message: 'approved by @other', props: { attachments: [] }, update_at: stored.update_at + 1 })).toBe(true);
    await expectCopiesInStep(root, replies, 'action update');

    await creator.deletePost(first.id);
    const [deleted] = await copiesAndReplies(root, [first]);
    expect(deleted!.reply.delete_at).toBeGreaterThan(0);
    await expectCopiesInStep(root, replies, 'reply deleted');
    const thread = await clientOf('other').getPostThread(root.id);
    expect(thread.order).toEqual([second.id, root.id]);
    expect(thread.posts[second.id]).toMatchObject({ message: 'approved by @other', is_pinned: true });

    await creator.deletePost(root.id);
    const [cascaded] = await copiesAndReplies(root, [second]);
    expect(cascaded!.reply.delete_at).toBeGreaterThan(0);
    await expectCopiesInStep(root, replies, 'root deleted');
  });

  it('an edit from a read older than a reaction neither waits for it nor undoes it, on the reply and its copy; a later change wins', async () => {
    const root = await createPost('rollout?');
    const reply = await createPost('rolling', root.id);
    const read = (await api.runtime.posts.getPost(reply.id, { consistent: true }))!;
    await clientOf('other').addReaction(world.user('other').id, reply.id, 'eyes');
    const edited = { ...read, message: 'rolled out', edit_at: Date.now(), update_at: Math.max(Date.now(), read.update_at + 1) + 1_000 };
    expect(await api.runtime.posts.writeEdit(edited)).toBe(true);
    const [after] = await copiesAndReplies(root, [reply]);
    expect(after!.reply).toMatchObject({ message: 'rolled out', has_reactions: true });
    await expectCopiesInStep(root, [reply], 'edited after a reaction');
    // A version no later than the stored one (a change after the read won) is refused: read again.
    expect(await api.runtime.posts.writeEdit({ ...read, message: 'stale', update_at: read.update_at + 1 })).toBe(false);
    // So is an edit from the same read as one that was written, however late its stamp: it would
    // overwrite content it never saw (a pin, a message).
    expect(await api.runtime.posts.writeEdit({ ...read, is_pinned: true, update_at: edited.update_at + 5_000 })).toBe(false);
    const fresh = (await api.runtime.posts.getPost(reply.id, { consistent: true }))!;
    expect(await api.runtime.posts.writeEdit({ ...fresh, is_pinned: true, update_at: edited.update_at + 5_000 })).toBe(true);
    expect((await api.runtime.posts.getPost(reply.id, { consistent: true }))!).toMatchObject({ message: 'rolled out', is_pinned: true, has_reactions: true });
    await expectCopiesInStep(root, [reply], 'pinned');
    // A deleted reply is never brought back by an edit that read it before the delete.
    const beforeDelete = (await api.runtime.posts.getPost(reply.id, { consistent: true }))!;
    await clientOf('creator').deletePost(reply.id);
    expect(await api.runtime.posts.writeEdit({ ...beforeDelete, message: 'back?', update_at: edited.update_at + 60_000 })).toBe(false);
    expect((await api.runtime.posts.getPost(reply.id, { consistent: true }))!.delete_at).toBeGreaterThan(0);
  });

  it('keeps has_reactions true to the reactions when removals race each other or an addition, on the reply and its copy', async () => {
    const root = await createPost('lunch?');
    const reply = await createPost('pizza', root.id);
    const posts = api.runtime.posts;
    const reaction = (userId: string, emojiName: string) => ({ user_id: userId, post_id: reply.id, emoji_name: emojiName, create_at: Date.now(), update_at: Date.now(), delete_at: 0, remote_id: '', channel_id: reply.channel_id });
    const [creatorId, otherId] = [world.user('creator').id, world.user('other').id];
    // Two removals that each read the other's reaction before either removed its own.
    expect(await posts.addReaction(reaction(creatorId, 'pizza'), reply)).toBe(true);
    expect(await posts.addReaction(reaction(otherId, 'yum'), reply)).toBe(true);
    await posts.removeReaction(reply, creatorId, 'pizza', true, Date.now());
    await posts.removeReaction(reply, otherId, 'yum', true, Date.now());
    const [none] = await copiesAndReplies(root, [reply]);
    expect(none!.reply.has_reactions).toBe(false);
    await expectCopiesInStep(root, [reply], 'both removed');
    // A removal that read no other reaction, while one was added before its transaction.
    expect(await posts.addReaction(reaction(creatorId, 'pizza'), reply)).toBe(true);
    expect(await posts.addReaction(reaction(otherId, 'yum'), reply)).toBe(true);
    await posts.removeReaction(reply, creatorId, 'pizza', false, Date.now());
    const [one] = await copiesAndReplies(root, [reply]);
    expect(one!.reply.has_reactions).toBe(true);
    await expectCopiesInStep(root, [reply], 'one left');
  });

  it('never moves update_at back: a reaction that took its time before a later-stamped change is stamped just after it', async () => {
    const root = await createPost('ship it?');
    const reply = await createPost('shipping', root.id);
    const posts = api.runtime.posts;
    // A change stamped ahead (another instance's clock, or an edit stamped seen + 1).
    const read = (await posts.getPost(reply.id, { consistent: true }))!;
    const aheadMs = Date.now() + 10_000;
    expect(await posts.writeEdit({ ...read, message: 'shipped', update_at: aheadMs })).toBe(true);
    const reaction = { user_id: world.user('other').id, post_id: reply.id, emoji_name: 'ship', create_at: Date.now(), update_at: Date.now(), delete_at: 0, remote_id: '', channel_id: reply.channel_id };
    expect(await posts.addReaction(reaction, reply)).toBe(true);
    expect((await posts.getPost(reply.id, { consistent: true }))!).toMatchObject({ update_at: aheadMs + 1, has_reactions: true });
    await posts.removeReaction(reply, world.user('other').id, 'ship', false, Date.now());
    expect((await posts.getPost(reply.id, { consistent: true }))!).toMatchObject({ update_at: aheadMs + 2, has_reactions: false });
    await expectCopiesInStep(root, [reply], 'stamped after');
    // A reaction on a deleted post is refused, not stamped after the delete.
    await clientOf('creator').deletePost(reply.id);
    expect(await posts.addReaction({ ...reaction, create_at: Date.now() }, reply)).toBe(false);
  });

  it('changes a reply whose entry is missing (stored before thread entries) without creating one', async () => {
    const root = await createPost('from an older release');
    const reply = await createPost('listed nowhere', root.id);
    const db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
    const table = api.runtime.config.tables.posts;
    const entryKey = keys.threadReply(root.id, reply.create_at, reply.id);
    await db.send(new DeleteCommand({ TableName: table, Key: entryKey }));
    await clientOf('other').addReaction(world.user('other').id, reply.id, 'eyes');
    await clientOf('other').removeReaction(world.user('other').id, reply.id, 'eyes');
    await clientOf('creator').deletePost(root.id);
    expect((await db.send(new GetCommand({ TableName: table, Key: entryKey, ConsistentRead: true }))).Item).toBeUndefined();
    const stored = (await db.send(new GetCommand({ TableName: table, Key: keys.post(reply.id), ConsistentRead: true }))).Item!;
    expect(stored).toMatchObject({ has_reactions: false });
    expect(stored.delete_at).toBe(0);
  });

  it('holds the id alone while a reply is larger than MAX_THREAD_COPY_BYTES (in UTF-8), and a copy again once an edit shrinks it', async () => {
    const root = await createPost('release notes?');
    const reply = await createPost('short', root.id);
    const creator = clientOf('creator');
    // Counted exactly: 12 000 characters of ASCII fit, though 3 bytes a character would not.
    await creator.patchPost({ id: reply.id, message: 'x'.repeat(12_000) });
    await expectCopiesInStep(root, [reply], 'long, in ASCII');
    // 3 bytes a character in UTF-8: past MAX_THREAD_COPY_BYTES, within Mattermost's 16 383 characters.
    const large = '€'.repeat(Math.ceil(MAX_THREAD_COPY_BYTES / 3) + 500);
    await creator.patchPost({ id: reply.id, message: large });
    const [grown] = await copiesAndReplies(root, [reply]);
    expect(grown!.hasCopy).toBe(false);
    // The entry keeps its keys, the reply's id and its counters: nothing of the copy is left to bill.
    const db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
    const entry = (await db.send(new GetCommand({ TableName: api.runtime.config.tables.posts, Key: keys.threadReply(root.id, reply.create_at, reply.id), ConsistentRead: true }))).Item!;
    expect(Object.keys(entry).sort()).toEqual(['PK', 'SK', 'has_reactions', 'kind', 'last_reply_at', 'post_id', 'reply_count'].sort());
    expect((await clientOf('other').getPostThread(reply.id)).posts[reply.id]!.message).toBe(large);
    await creator.patchPost({ id: reply.id, message: 'short again' });
    await expectCopiesInStep(root, [reply], 'shrunk');
    expect((await clientOf('other').getPostThread(reply.id)).posts[reply.id]!.message).toBe('short again');
  });
});
