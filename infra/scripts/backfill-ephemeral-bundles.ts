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
import { parseArgs } from 'node:util';
import { documentClient } from '../../lib/store/dynamo.js';
import { PostStore } from '../../lib/store/posts.js';
import { readLocalState } from '../local/state.js';
import { stageResources } from '../stage-resources.js';

const { values } = parseArgs({ options: { stage: { type: 'string' }, region: { type: 'string' } } });
const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';

let table: string;
let endpoint: string | undefined;
if (values.stage) {
  table = (await stageResources(values.stage, region)).tables.posts;
} else {
  const local = readLocalState();
  if (!local?.environment.TABLE_POSTS) {
    console.error('The local stack is not running: start it with `npm start`, or pass --stage NAME.');
    process.exit(2);
  }
  table = local.environment.TABLE_POSTS;
  endpoint = local.environment.DYNAMODB_ENDPOINT;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}
const copied = await new PostStore(documentClient({ endpoint, region }), table).backfillEphemeralBundles(Date.now());
console.log(`copied ${copied} unexpired ephemeral posts into their readers' bundles (${table})`);
