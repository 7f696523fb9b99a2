/**
 * npx tsx infra/scripts/backfill-ephemeral-bundles.ts [--stage NAME] [--region REGION]
 *
 * Run once after upgrading a stage to the release that keeps each reader's ephemeral posts in a
 * bundle item (lib/store/posts.ts): it copies the unexpired ephemeral posts written before into
 * their readers' bundles, so the newest page shows them again. One Scan of the posts table; safe
 * to run again (a post already in its bundle is left alone). Without it, those posts stay
 * readable by id and in `since` reads, and leave the newest page when they expire
 * (EPHEMERAL_POST_TTL_MINUTES, an hour by default).
 */
import { openPostsTable } from './posts-table.js';

const { table, posts } = openPostsTable();
const copied = await posts.backfillEphemeralBundles(Date.now());
console.log(`copied ${copied} unexpired ephemeral posts into their readers' bundles (${table})`);
