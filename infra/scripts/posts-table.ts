/**
 * The posts table a one-off maintenance script works on: a deployed stage's (`--stage NAME`
 * [--region REGION], AWS credentials from the environment) or else the running local stack's.
 * Shared by the backfill scripts, so they name their target the same way.
 */
import { parseArgs } from 'node:util';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lib/store/dynamo.js';
import { PostStore } from '../../lib/store/posts.js';
import { readLocalState } from '../local/state.js';
import { resourceName } from '../stage-resources.js';

/**
 * Parses the script's arguments (`--stage`, `--region` and the script's own string options) and opens
 * the posts table they name. Exits with code 2 when no stage is given and no local stack runs.
 */
export function openPostsTable(ownOptions: string[] = []) {
  const names = [...ownOptions, 'stage', 'region'];
  const values = parseArgs({ options: Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])) }).values as Record<string, string | undefined>;
  const stage = values.stage;
  const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
  let table: string;
  let endpoint: string | undefined;
  if (stage) {
    table = resourceName('PostsTable', stage);
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
  const db: DynamoDBDocumentClient = documentClient({ endpoint, region });
  return { values, table, db, posts: new PostStore(db, table) };
}
