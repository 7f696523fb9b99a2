/**
 * npx tsx infra/scripts/backfill-thread-entries.ts [--stage NAME] [--region REGION] [--from CURSOR]
 *
 * Run once after upgrading a stage from a release that stored replies without thread entries or
 * without their root's counters (lib/store/thread-backfill.ts): it lists every reply in its
 * root's thread, then counts each root's replies again (`reply_count`, `last_reply_at`). Without
 * it, the thread of an older reply shows the root alone, and older roots show too few replies.
 * It works a page (100 scanned items) at a time and prints after each the cursor to go on from,
 * should it stop (`--from CURSOR`). Safe to run again: it writes only what is missing or wrong.
 */
import { ThreadBackfill } from '../../lib/store/thread-backfill.js';
import { openPostsTable } from './posts-table.js';

const { values, table, db } = openPostsTable(['from']);
const totals = await new ThreadBackfill(db, table).run(values.from, (page) => {
  const what = page.phase === 'entries' ? 'thread entries written' : 'roots recounted';
  console.log(`${page.phase}: ${page.changed} ${what}${page.next ? `; to go on from here: --from ${page.next}` : ''}`);
});
console.log(`done (${table}): ${totals.entries} thread entries written, ${totals.counts} roots' reply counts corrected`);
