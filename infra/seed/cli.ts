/**
 * npm run seed -- FILE [--stage NAME] [--region REGION] [--site-url URL]
 *
 * Applies a seed file (DESIGN.md's format) to the local stack started by `npm start`, or with
 * `--stage` to a deployed stage's tables using the AWS credentials of the environment. Prints the
 * JSON summary on stdout; a rejected file prints its problems on stderr, writes nothing, exits 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { documentClient } from '../../lib/store/dynamo.js';
import { EntityStore } from '../../lib/store/entities.js';
import { applySeed, parseSeedFile, SeedValidationError } from '../../lib/seed/seed.js';
import { readLocalState } from '../local/state.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { stage: { type: 'string' }, region: { type: 'string' }, 'site-url': { type: 'string' } },
});
const file = positionals[0];
if (!file) {
  console.error('usage: npm run seed -- FILE [--stage NAME] [--region REGION] [--site-url URL]');
  process.exit(2);
}

let tableName: string;
let endpoint: string | undefined;
let region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
let siteUrl = values['site-url'] ?? process.env.SITE_URL ?? '';
if (values.stage) {
  tableName = `hookline-${values.stage}-entities`;
} else {
  const local = readLocalState();
  if (!local) {
    console.error('The local stack is not running: start it with `npm start`, or pass --stage NAME for a deployed stage.');
    process.exit(2);
  }
  tableName = local.environment.TABLE_ENTITIES!;
  endpoint = local.environment.DYNAMODB_ENDPOINT;
  region = local.environment.AWS_REGION ?? region;
  siteUrl ||= local.apiUrl;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
}

try {
  const seed = parseSeedFile(file, readFileSync(file, 'utf8'));
  const store = new EntityStore(documentClient({ endpoint, region }), tableName);
  const summary = await applySeed(file, seed, { store, siteUrl });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
} catch (error) {
  if (error instanceof SeedValidationError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
