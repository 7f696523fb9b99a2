import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inflateRawSync } from 'node:zlib';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../lib/routes.js';
import { httpRoutes, projectRoot, readServerlessDefinition } from '../infra/local/serverless-definition.js';
import { loadStageConfig } from '../infra/aws/stage-config.cjs';
import { loadConfig } from '../lib/config.js';

/** Runs `serverless package` (no AWS credentials needed) and reads the generated template. */
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string; DependsOn?: string | string[] };
type Template = { Resources: Record<string, Resource>; Outputs: Record<string, any>; Conditions?: Record<string, unknown>; Parameters?: Record<string, { Default?: string }> };
let outputDir: string;
let template: Template;
let resources: Record<string, Resource>;
/** A stage with a file of its own that sets everything the defaults leave out: domain, alarm email. */
let prodDir: string;
let prod: Template;

const ofType = (type: string, from: Record<string, Resource> = resources) => Object.entries(from).filter(([, resource]) => resource.Type === type);

async function packageStage(stage: string): Promise<{ dir: string; template: Template }> {
  const dir = mkdtempSync(path.join(tmpdir(), `hookline-package-${stage}-`));
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npx',
      ['serverless', 'package', '--stage', stage, '--package', dir],
      { cwd: projectRoot, env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }, timeout: 240_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve()),
    );
  });
  return { dir, template: JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) };
}

beforeAll(async () => {
  if (!cfnLintInstalled) console.warn('cfn-lint is not on the PATH: the cfn-lint check is skipped (install it with `pip install cfn-lint`).');
  // One after the other: serverless-esbuild builds in one folder of the project.
  const ci = await packageStage('ci');
  const production = await packageStage('prod');
  outputDir = ci.dir;
  template = ci.template;
  resources = template.Resources;
  prodDir = production.dir;
  prod = production.template;
}, 300_000);

/**
 * Resolves Ref, Fn::Join, Fn::GetAtt and Fn::If with made-up values, as CloudFormation would with
 * real ones; Fn::If by `of`'s conditions with its parameters' defaults, or `parameters`.
 */
function resolveWith(value: unknown, values: Record<string, string>, of?: Template, parameters: Record<string, string> = {}): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, any>;
  if ('Ref' in node) {
    if (!(node.Ref in values)) throw new Error(`no value for Ref ${node.Ref}`);
    return values[node.Ref]!;
  }
  if ('Fn::If' in node) {
    if (!of) throw new Error('Fn::If needs the template');
    const [condition, then, otherwise] = node['Fn::If'] as [string, unknown, unknown];
    return resolveWith(conditionHolds(of, condition, parameters) ? then : otherwise, values, of, parameters);
  }
  if ('Fn::Join' in node) return (node['Fn::Join'][1] as unknown[]).map((part) => resolveWith(part, values, of, parameters)).join(node['Fn::Join'][0]);
  if ('Fn::GetAtt' in node) {
    const attribute = (node['Fn::GetAtt'] as string[]).join('.');
    if (!(attribute in values)) throw new Error(`no value for Fn::GetAtt ${attribute}`);
    return values[attribute]!;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/**
 * Evaluates a template's conditions with its parameters' defaults, as a deploy without parameters
 * does, or with `parameters` given at deploy time.
 */
function conditionHolds(of: Template, name: string, parameters: Record<string, string> = {}): boolean {
  const evaluate = (node: any): any => {
    if (typeof node === 'string') return node;
    if ('Ref' in node) return parameters[node.Ref] ?? of.Parameters![node.Ref]!.Default;
    if ('Condition' in node) return conditionHolds(of, node.Condition, parameters);
    if ('Fn::Not' in node) return !evaluate(node['Fn::Not'][0]);
    if ('Fn::And' in node) return node['Fn::And'].every((part: unknown) => evaluate(part));
    if ('Fn::Or' in node) return node['Fn::Or'].some((part: unknown) => evaluate(part));
    if ('Fn::Equals' in node) return evaluate(node['Fn::Equals'][0]) === evaluate(node['Fn::Equals'][1]);
    throw new Error(`cannot evaluate ${JSON.stringify(node)}`);
  };
  return Boolean(evaluate(of.Conditions![name]));
}

/** The resources a deploy of `of` creates: those without a condition, or whose condition holds. */
const created = (of: Template, parameters: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(of.Resources).filter(([, resource]) => !resource.Condition || conditionHolds(of, resource.Condition, parameters)));

/**
 * The files in a zip, read through its central directory (which holds every entry's sizes even when
 * the archiver streamed them): enough of the format for serverless' stored or deflated entries.
 */
function unzipEntries(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method !== 0 && method !== 8) throw new Error(`${name}: compression method ${method}`);
    entries.set(name, method === 8 ? inflateRawSync(data) : Buffer.from(data));
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** Issue 9: each function's bundle, minified as packaged, stays under this (docs/bundles.md). */
const MAX_BUNDLE_BYTES = 600 * 1000;

/** cfn-lint (Python) checks the template against AWS's resource specifications when it is installed. */
const cfnLintInstalled = spawnSync('cfn-lint', ['--version']).status === 0;

function cfnLint(dir: string): Array<{ Level: string; Rule: { Id: string }; Message: string; Location: { Path: unknown[] } }> {
  const result = spawnSync('cfn-lint', ['--format', 'json', path.join(dir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8', timeout: 120_000 });
  if (result.error || !result.stdout.trim().startsWith('[')) throw new Error(`cfn-lint failed: ${result.error?.message ?? ''}\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

const fakeStack = { HttpApi: 'a1b2c3d4e5', WebsocketsApi: 'w1s2', 'FrontDoor.DomainName': 'd111111abcdef8.cloudfront.net', 'AWS::Region': 'eu-west-1', 'AWS::URLSuffix': 'amazonaws.com' };

describe('serverless package', () => {
  it('writes one zip per function', () => {
    const functions = Object.keys(readServerlessDefinition().functions);
    const zips = readdirSync(outputDir).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(functions.map((name) => `${name}.zip`).sort());
    for (const zip of zips) expect(existsSync(path.join(outputDir, zip))).toBe(true);
  });

  it('packages each function as one bundle under 600 KB, with AWS credentials from the environment only', () => {
    const functions = readServerlessDefinition().functions;
    for (const [name, fn] of Object.entries(functions)) {
      const entries = unzipEntries(readFileSync(path.join(outputDir, `${name}.zip`)));
      const handlerFile = `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.mjs`;
      // The web app's function also carries the built app it serves: index.html and hashed files.
      const extra = name === 'webApp' ? [...entries.keys()].filter((entry) => entry.startsWith('web/dist/')) : [];
      if (name === 'webApp') expect(extra.filter((entry) => /^web\/dist\/(index\.html|static\/main-\w+\.(js|css))$/.test(entry))).toHaveLength(3);
      expect([...entries.keys()].filter((entry) => !extra.includes(entry)), name).toEqual([handlerFile]);
      const bundle = entries.get(handlerFile)!;
      expect(bundle.length, `${name}: ${bundle.length} bytes`).toBeLessThan(MAX_BUNDLE_BYTES);
      // The alias of serverless.yml took: the default chain's other providers are not bundled.
      const text = bundle.toString('utf8');
      for (const provider of ['credential-provider-node', 'credential-provider-ini', 'credential-provider-sso', 'credential-provider-process']) {
        expect(text, `${name} bundles ${provider}`).not.toContain(`@aws-sdk/${provider} - `);
      }
    }
  });

  it('declares every public route on the HTTP API, the same as lib/routes.ts and the local gateway', () => {
    const onHttpApi = (resource: Resource) => JSON.stringify(resource.Properties.ApiId) === JSON.stringify({ Ref: 'HttpApi' });
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').filter(([, route]) => onHttpApi(route)).map(([, route]) => route.Properties.RouteKey as string);
    const expected = routes.map((route) => `${route.method} ${route.path}`);
    expect(routeKeys.sort()).toEqual([...expected, '$default'].sort());
    const local = httpRoutes().filter((route) => route.method !== '*').map((route) => `${route.method} ${route.path}`);
    expect(local.sort()).toEqual(expected.sort());
    expect(resources.HttpApi!.Properties.ProtocolType).toBe('HTTP');
    for (const [, integration] of ofType('AWS::ApiGatewayV2::Integration').filter(([, integration]) => onHttpApi(integration))) {
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    }
  });

  it('creates on-demand tables with point-in-time recovery', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([name]) => name).sort()).toEqual(['ConnectionsTable', 'DeliveriesTable', 'EntitiesTable', 'PostsTable']);
    // Connections last two hours at most: they expire, and there is nothing in them to recover.
    expect(resources.ConnectionsTable!.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    expect(resources.ConnectionsTable!.Properties.PointInTimeRecoverySpecification).toBeUndefined();
    // The delivery log expires on its own; the posts table streams new posts to the dispatcher.
    expect(resources.DeliveriesTable!.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    expect(resources.PostsTable!.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    for (const [name, table] of tables) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      if (name === 'ConnectionsTable') continue;
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      if (table.Properties.TimeToLiveSpecification) expect(table.Properties.TimeToLiveSpecification.Enabled).toBe(true);
    }
  });

  it('keeps the tables when the stack goes, except after a failed first deploy', () => {
    for (const [name, table] of ofType('AWS::DynamoDB::Table')) {
      if (name === 'ConnectionsTable') continue;
      expect(table.DeletionPolicy, name).toBe('RetainExceptOnCreate');
      expect(table.UpdateReplacePolicy, name).toBe('Retain');
    }
  });

  it('creates the outgoing queue with a dead-letter queue and a redrive policy', () => {
    const queue = resources.OutgoingQueue!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual({ 'Fn::GetAtt': ['OutgoingDeadLetterQueue', 'Arn'] });
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThan(1);
    expect(resources.OutgoingDeadLetterQueue!.Type).toBe('AWS::SQS::Queue');
    const worker = resources.OutgoingWorkerLambdaFunction!;
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Properties.Timeout);
  });

  it('wires the worker to the queue and the dispatcher to the posts stream, both with partial batch failures', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, mapping]) => mapping.Properties);
    expect(mappings).toHaveLength(3);
    const queue = mappings.find((mapping) => JSON.stringify(mapping.EventSourceArn).includes('OutgoingQueue'))!;
    expect(queue.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(queue.FunctionName).toEqual({ 'Fn::GetAtt': ['OutgoingWorkerLambdaFunction', 'Arn'] });
    const stream = mappings.find((mapping) => JSON.stringify(mapping.FunctionName).includes('OutgoingDispatcher'))!;
    expect(stream.EventSourceArn).toEqual({ 'Fn::GetAtt': ['PostsTable', 'StreamArn'] });
    expect(stream.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(stream.StartingPosition).toBe('TRIM_HORIZON');
    expect(stream.BisectBatchOnFunctionError).toBe(true);
    expect(stream.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['DispatchFailureQueue', 'Arn'] });
    // Lambda retries until the dispatcher parks the failing post itself, or the record is an hour old.
    expect(stream.MaximumRetryAttempts).toBe(10000);
    expect(stream.MaximumRecordAgeInSeconds).toBe(3600);
    const dispatcher = resources.OutgoingDispatcherLambdaFunction!.Properties.Environment.Variables;
    expect(dispatcher.DISPATCH_FAILURE_QUEUE_URL).toEqual({ Ref: 'DispatchFailureQueue' });
    expect(dispatcher.DISPATCH_PARK_AFTER_SECONDS).toBe('300');
    expect(Number(dispatcher.DISPATCH_PARK_AFTER_SECONDS)).toBeLessThan(stream.MaximumRecordAgeInSeconds);
    // Only new posts marked as triggering reach the dispatcher.
    expect(JSON.parse(stream.FilterCriteria.Filters[0].Pattern)).toEqual({
      eventName: ['INSERT'],
      dynamodb: { NewImage: { trigger_webhooks: { BOOL: [true] } } },
    });
  });

  it('serves Mattermost\'s websocket on a WebSocket API, with the posts stream feeding the live events', () => {
    const api = resources.WebsocketsApi!;
    expect(api.Properties.ProtocolType).toBe('WEBSOCKET');
    expect(api.Properties.RouteSelectionExpression).toBe('$request.body.action');
    const onWebsocketApi = ofType('AWS::ApiGatewayV2::Route').filter(([, route]) => JSON.stringify(route.Properties.ApiId) === JSON.stringify({ Ref: 'WebsocketsApi' }));
    expect(onWebsocketApi.map(([, route]) => route.Properties.RouteKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
    const integration = ofType('AWS::ApiGatewayV2::Integration').find(([, candidate]) => JSON.stringify(candidate.Properties.ApiId) === JSON.stringify({ Ref: 'WebsocketsApi' }))!;
    expect(JSON.stringify(integration[1].Properties.IntegrationUri)).toContain('WebsocketLambdaFunction');
    // The connections table: keyed and indexed by user, expiring on its own.
    const connections = resources.ConnectionsTable!.Properties;
    expect(connections.KeySchema).toEqual([{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }]);
    expect(connections.GlobalSecondaryIndexes.map((index: any) => index.IndexName)).toEqual(['GSI1']);
    // The fan-out: a second mapping of the posts stream, from now on, only post and reaction items.
    const live = ofType('AWS::Lambda::EventSourceMapping').map(([, mapping]) => mapping.Properties).find((mapping) => JSON.stringify(mapping.FunctionName).includes('LiveEvents'))!;
    expect(live.EventSourceArn).toEqual({ 'Fn::GetAtt': ['PostsTable', 'StreamArn'] });
    expect(live.StartingPosition).toBe('LATEST');
    expect(live.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(live.FilterCriteria.Filters.map((filter: any) => JSON.parse(filter.Pattern))).toEqual([
      { dynamodb: { Keys: { SK: { S: ['#POST'] } } } },
      { dynamodb: { Keys: { SK: { S: [{ prefix: 'REACTION#' }] } } } },
    ]);
    // Every function that pushes events knows the stage's Management API and may call it.
    const endpoint = resolveWith(resources.LiveEventsLambdaFunction!.Properties.Environment.Variables.WEBSOCKET_MANAGEMENT_ENDPOINT, fakeStack);
    expect(endpoint).toBe('https://w1s2.execute-api.eu-west-1.amazonaws.com/ci');
    for (const fn of ['Websocket', 'LiveEvents', 'ExecuteCommand', 'PostAction', 'CommandWebhook', 'IncomingWebhook', 'Channels']) {
      const role = resources[resources[`${fn}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0]]!;
      const statements = role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
      const manage = statements.find((statement: any) => statement.Action.includes('execute-api:ManageConnections'));
      expect(manage, fn).toBeDefined();
      expect(JSON.stringify(manage.Resource), fn).toContain('WebsocketsApi');
    }
    expect(template.Outputs.WebSocketUrl).toBeDefined();
  });

  it('gives each function a least-privilege role', () => {
    const actionsOf = (roleName: string) => {
      const role = resources[roleName]!;
      const statements = role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
      for (const statement of statements) {
        expect(statement.Resource, `${roleName} grants on *`).not.toBe('*');
        for (const action of statement.Action) expect(action, roleName).not.toMatch(/\*/);
      }
      // What the role may do: Deny statements (the SECRET# test checks them) grant nothing.
      return new Set<string>(statements.filter((statement: any) => statement.Effect === 'Allow').flatMap((statement: any) => statement.Action));
    };
    const roleOf = (fn: string) => resources[`${fn}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0] as string;
    const functions = ['Ping', 'IncomingWebhook', 'CreatePost', 'GetPost', 'GetChannelPosts', 'PostAction', 'ExecuteCommand', 'CommandWebhook', 'CommandsAutocomplete', 'CommandsManagement', 'DeliveryLog', 'Dialogs', 'Users', 'Teams', 'Channels', 'PostEdits', 'PostThread', 'Reactions', 'NotFound', 'OutgoingDispatcher', 'OutgoingWorker'];
    for (const fn of functions) expect(resources[roleOf(fn)]?.Type, fn).toBe('AWS::IAM::Role');

    expect([...actionsOf(roleOf('Ping'))].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actionsOf(roleOf('NotFound')).has('dynamodb:GetItem')).toBe(false);
    const incoming = actionsOf(roleOf('IncomingWebhook'));
    expect(incoming.has('dynamodb:PutItem')).toBe(true);
    // Entities and posts are read by key and never deleted: Query and DeleteItem only on the
    // connections table (a new direct channel's direct_added, and forgetting a gone connection).
    const incomingStatements = resources[roleOf('IncomingWebhook')]!.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    const queryOrDelete = incomingStatements.filter((statement: any) => statement.Effect === 'Allow' && statement.Action.some((action: string) => action === 'dynamodb:Query' || action === 'dynamodb:DeleteItem'));
    expect(queryOrDelete.length).toBeGreaterThan(0);
    for (const statement of queryOrDelete) {
      expect(JSON.stringify(statement.Resource)).toContain('ConnectionsTable');
      expect(JSON.stringify(statement.Resource)).not.toMatch(/EntitiesTable|PostsTable/);
    }
    // Reactions write only the posts table, and no queue.
    const reactionStatements = resources[roleOf('Reactions')]!.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    for (const statement of reactionStatements.filter((statement: any) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource).includes('EntitiesTable'))) {
      expect(statement.Action).toEqual(['dynamodb:GetItem']);
    }
    expect([...actionsOf(roleOf('Reactions'))].some((action) => action.startsWith('sqs:'))).toBe(false);
    expect(actionsOf(roleOf('Reactions')).has('dynamodb:DeleteItem')).toBe(true);
    // A reply's change may check, in its transaction, that a missing thread entry stays missing
    // (lib/store/posts.ts, transactWithThreadEntry): DynamoDB Local does not check IAM, so this does.
    for (const fn of ['PostEdits', 'Reactions', 'PostAction', 'ExecuteCommand', 'Dialogs']) {
      expect(actionsOf(roleOf(fn)).has('dynamodb:ConditionCheckItem'), fn).toBe(true);
    }
    // A thread is read like a post: the same read-only role.
    expect(roleOf('PostThread')).toBe(roleOf('GetPost'));
    const reader = actionsOf(roleOf('GetPost'));
    expect(reader.has('dynamodb:PutItem')).toBe(false);
    expect(reader.has('dynamodb:Query')).toBe(true);
    const worker = actionsOf(roleOf('OutgoingWorker'));
    expect(worker.has('sqs:DeleteMessage')).toBe(true);
    expect(worker.has('dynamodb:Query')).toBe(false);
    const dispatcher = actionsOf(roleOf('OutgoingDispatcher'));
    expect(dispatcher.has('dynamodb:GetRecords')).toBe(true);
    expect(dispatcher.has('sqs:SendMessage')).toBe(true);
    expect(dispatcher.has('dynamodb:PutItem')).toBe(false);
    expect(actionsOf(roleOf('CreatePost')).has('sqs:SendMessage')).toBe(false);
    // The delivery log reads attempts and queues a redelivery; it writes nothing but audit records.
    const deliveryLog = actionsOf(roleOf('DeliveryLog'));
    expect(deliveryLog.has('sqs:SendMessage')).toBe(true);
    expect(deliveryLog.has('dynamodb:Query')).toBe(true);
    expect(deliveryLog.has('dynamodb:DeleteItem')).toBe(false);
    expect(deliveryLog.has('dynamodb:UpdateItem')).toBe(false);
    // The users and teams routes read entities only: no write, no posts table, no queue.
    for (const fn of ['Users', 'Teams']) {
      const role = resources[roleOf(fn)]!;
      expect([...actionsOf(roleOf(fn))].sort(), fn).toEqual(
        ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      );
      expect(JSON.stringify(role.Properties.Policies), fn).not.toContain('PostsTable');
    }
    // Channels may create a direct channel (new items only) and announce it to its members'
    // connections (direct_added): the entities table is only read and added to.
    expect([...actionsOf(roleOf('Channels'))].sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'execute-api:ManageConnections', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    );
    const channelStatements = resources[roleOf('Channels')]!.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    for (const statement of channelStatements.filter((statement: any) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource).includes('EntitiesTable'))) {
      expect(statement.Action.sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    }
    expect(JSON.stringify(resources[roleOf('Channels')]!.Properties.Policies)).not.toContain('PostsTable');
    // Post edits update posts, lower a root's count, delete a root's replies: no PutItem, no DeleteItem, no queue, no entity writes.
    expect([...actionsOf(roleOf('PostEdits'))].sort()).toEqual(
      ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    );
    const editStatements = resources[roleOf('PostEdits')]!.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
    const entityWrites = editStatements.filter((statement: any) => statement.Effect === 'Allow' && JSON.stringify(statement.Resource).includes('EntitiesTable'));
    expect(entityWrites.flatMap((statement: any) => statement.Action)).toEqual(['dynamodb:GetItem']);
  });

  it('configures every stage from config/, never from the shell of whoever deploys', () => {
    expect(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8')).not.toContain('${env:');
    // The ci stage has no file of its own: it packages on the defaults.
    expect(existsSync(path.join(projectRoot, 'config/ci.yml'))).toBe(false);
    const defaults = loadStageConfig('ci');
    const stringified = Object.fromEntries(Object.entries(defaults.settings).map(([key, value]) => [key, String(value ?? '')]));
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      for (const [key, value] of Object.entries(stringified)) {
        if (key === 'SITE_URL' || key === 'LOG_LEVEL' || key === 'DISPATCH_PARK_AFTER_SECONDS') continue;
        expect(variables[key], `${name} ${key}`).toBe(value);
      }
      expect(variables.POWERTOOLS_LOG_LEVEL, name).toBe(stringified.LOG_LEVEL);
      expect(variables.POWERTOOLS_SERVICE_NAME, name).toBe('hookline');
      expect(variables.POWERTOOLS_METRICS_NAMESPACE, name).toBe('Hookline');
    }
  });

  it('has stage files that name known keys only and settings that the functions accept', () => {
    const defaults = loadStageConfig('default');
    for (const stage of ['default', 'local', 'prod']) {
      const settings = Object.fromEntries(Object.entries(loadStageConfig(stage).settings).map(([key, value]) => [key, String(value ?? '')]));
      // The table names come from serverless.yml (the tables it creates), not from the stage files.
      const tables = { TABLE_ENTITIES: 'entities', TABLE_POSTS: 'posts', TABLE_DELIVERIES: 'deliveries' };
      expect(() => loadConfig({ ...settings, ...tables, POWERTOOLS_LOG_LEVEL: settings.LOG_LEVEL }), stage).not.toThrow();
    }
    // npm start's file spells out every setting, so it shows a developer what there is to change.
    const localText = readFileSync(path.join(projectRoot, 'config/local.yml'), 'utf8');
    for (const key of Object.keys(defaults.settings)) expect(localText, key).toMatch(new RegExp(`^  ${key}:`, 'm'));
    expect(loadStageConfig('local').settings.ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS).toBe('127.0.0.0/8');
  });

  it('logs every API request as one JSON object with what an operator needs to find it', () => {
    const stage = resources.HttpApiStage!;
    const format = JSON.parse(stage.Properties.AccessLogSettings.Format as string) as Record<string, string>;
    const variables = new Set(Object.values(format));
    for (const variable of [
      '$context.requestId',
      '$context.routeKey',
      '$context.status',
      '$context.responseLatency',
      '$context.integrationLatency',
      '$context.integration.error',
      '$context.integrationErrorMessage',
      '$context.identity.sourceIp',
      '$context.httpMethod',
    ]) {
      expect(variables.has(variable), variable).toBe(true);
    }
    // The path of /hooks/{hook_id} is a hook's posting secret: no variable that holds it is logged.
    for (const variable of variables) expect(variable, variable).not.toMatch(/^\$context\.(path|resourcePath|http\.path)$|pathParameters/);
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
  });

  it('outputs the API URL and the site URL as well-formed URLs', () => {
    const apiUrl = resolveWith(template.Outputs.HttpApiUrl.Value, fakeStack);
    expect(apiUrl).toBe('https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com');
    expect(new URL(apiUrl).origin).toBe(apiUrl);
    expect(apiUrl.match(/amazonaws\.com/g)).toHaveLength(1);
    // Without a custom domain or SITE_URL, the site is the front door's URL, and so is every
    // function's SITE_URL; the websocket is on the same origin, where Client4 looks for it.
    expect(resolveWith(template.Outputs.SiteUrl.Value, fakeStack, template)).toBe('https://d111111abcdef8.cloudfront.net');
    expect(resolveWith(template.Outputs.WebSocketUrl.Value, fakeStack, template)).toBe('wss://d111111abcdef8.cloudfront.net/api/v4/websocket');
    // Deployed with the front door turned off by its parameter: the URLs follow.
    const off = { FrontDoorEnabled: 'false' };
    expect(resolveWith(template.Outputs.SiteUrl.Value, fakeStack, template, off)).toBe(apiUrl);
    expect(resolveWith(template.Outputs.WebSocketUrl.Value, fakeStack, template, off)).toBe('wss://w1s2.execute-api.eu-west-1.amazonaws.com/ci');
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.SITE_URL, name).toEqual(template.Outputs.SiteUrl.Value);
      expect(fn.Properties.Environment.Variables.WEBSOCKET_URL, name).toEqual(template.Outputs.WebSocketUrl.Value);
    }
    // With a custom domain, hook URLs use it.
    expect(prod.Outputs.SiteUrl.Value).toBe('https://chat.example.com');
    expect(resolveWith(prod.Outputs.HttpApiUrl.Value, fakeStack)).toBe(apiUrl);
    expect(resolveWith(prod.Outputs.WebSocketUrl.Value, fakeStack, prod)).toBe('wss://chat.example.com/api/v4/websocket');
    for (const [name, fn] of ofType('AWS::Lambda::Function', prod.Resources)) {
      expect(fn.Properties.Environment.Variables.SITE_URL, name).toBe('https://chat.example.com');
    }
  });

  it('has no circular dependency: the functions may refer to the API, which depends on none of them', () => {
    const dependencies = new Map<string, Set<string>>();
    const collect = (node: unknown, into: Set<string>): void => {
      if (Array.isArray(node)) node.forEach((item) => collect(item, into));
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'Ref' && typeof value === 'string' && value in prod.Resources) into.add(value);
          else if (key === 'Fn::GetAtt') into.add((value as string[])[0]!);
          else collect(value, into);
        }
      }
    };
    for (const [name, resource] of Object.entries(prod.Resources)) {
      const into = new Set<string>([resource.DependsOn ?? []].flat());
      collect(resource.Properties ?? {}, into);
      dependencies.set(name, into);
    }
    expect(dependencies.get('HttpApi')).toEqual(new Set());
    expect(dependencies.get('WebsocketsApi')).toEqual(new Set());
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string, trail: string[]): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) throw new Error(`circular dependency: ${[...trail, name].join(' -> ')}`);
      visiting.add(name);
      for (const dependency of dependencies.get(name) ?? []) visit(dependency, [...trail, name]);
      visiting.delete(name);
      done.add(name);
    };
    for (const name of dependencies.keys()) visit(name, []);
  });

  it('throttles the API stage with the stage configuration\'s limits', () => {
    expect(resources.HttpApiStage!.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    const prodThrottling = loadStageConfig('prod').api.throttling;
    expect(prod.Resources.HttpApiStage!.Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: prodThrottling.rateLimit,
      ThrottlingBurstLimit: prodThrottling.burstLimit,
    });
    expect(prodThrottling).not.toEqual(loadStageConfig('ci').api.throttling);
  });

  it('puts both APIs behind the front door, on the custom domain when the stage configures one', () => {
    for (const [of, aliases] of [[template, undefined], [prod, ['chat.example.com']]] as const) {
      const live = created(of);
      const distribution = live.FrontDoor!;
      expect(distribution.Type).toBe('AWS::CloudFront::Distribution');
      const config = distribution.Properties.DistributionConfig;
      const [condition, withDomain] = config.Aliases['Fn::If'];
      expect(conditionHolds(of, condition) ? withDomain.map((ref: { Ref: string }) => of.Parameters![ref.Ref]!.Default) : undefined).toEqual(aliases);
      const origins = config.Origins.map((origin: any) => resolveWith(origin.DomainName, fakeStack));
      expect(origins).toEqual(['a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com', 'w1s2.execute-api.eu-west-1.amazonaws.com']);
      expect(live.FrontDoorWebsocketPath!.Properties.FunctionCode).toContain(`'/${of === prod ? 'prod' : 'ci'}'`);
      // Turned off by its parameter, the front door is not created.
      const off = created(of, { FrontDoorEnabled: 'false' });
      expect(off.FrontDoor, 'no distribution with FrontDoorEnabled=false').toBeUndefined();
      expect(off.FrontDoorWebsocketPath).toBeUndefined();
    }
    // With the front door, the domain is CloudFront's: its A record (the same resource as without
    // it, so that switching changes it in place) and an AAAA alias it there; API Gateway gets none.
    const records = ofType('AWS::Route53::RecordSet', created(prod));
    expect(records.map(([name]) => name).sort()).toEqual(['CustomDomainRecord', 'FrontDoorRecordIpv6']);
    for (const [name, record] of records) {
      const target = record.Properties.AliasTarget;
      const resolved = 'Fn::If' in target ? (conditionHolds(prod, target['Fn::If'][0]) ? target['Fn::If'][1] : target['Fn::If'][2]) : target;
      expect(resolved, name).toEqual({ DNSName: { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] }, HostedZoneId: 'Z2FDTNDATAQYW2', EvaluateTargetHealth: false });
    }
    for (const type of ['AWS::ApiGatewayV2::DomainName', 'AWS::ApiGatewayV2::ApiMapping']) {
      expect(ofType(type, created(prod)), `prod creates no ${type} behind the front door`).toEqual([]);
      expect(ofType(type, created(template)), `ci creates no ${type}`).toEqual([]);
    }
  });

  it("serves the API on API Gateway's own custom domain when the front door is off", () => {
    const domainTypes = ['AWS::ApiGatewayV2::DomainName', 'AWS::ApiGatewayV2::ApiMapping', 'AWS::Route53::RecordSet'];
    const withoutFrontDoor = created(prod, { FrontDoorEnabled: 'false' });
    for (const type of domainTypes) {
      expect(ofType(type).filter(([name, resource]) => name.startsWith('CustomDomain') && resource.Condition).length, type).toBe(1);
      expect(ofType(type, created(template, { FrontDoorEnabled: 'false' })).filter(([name]) => name.startsWith('CustomDomain')), `ci creates no ${type}`).toEqual([]);
      expect(ofType(type, withoutFrontDoor).filter(([name]) => name.startsWith('CustomDomain')), `prod creates its ${type}`).toHaveLength(1);
    }
    const [, domain] = ofType('AWS::ApiGatewayV2::DomainName', withoutFrontDoor)[0]!;
    const parameter = (ref: { Ref: string }) => prod.Parameters![ref.Ref]!.Default;
    expect(parameter(domain.Properties.DomainName)).toBe('chat.example.com');
    expect(parameter(domain.Properties.DomainNameConfigurations[0].CertificateArn)).toMatch(/^arn:aws:acm:/);
    expect(domain.Properties.DomainNameConfigurations[0].EndpointType).toBe('REGIONAL');
    const [, mapping] = ofType('AWS::ApiGatewayV2::ApiMapping', withoutFrontDoor)[0]!;
    expect(mapping.Properties).toEqual({ DomainName: { Ref: 'CustomDomain' }, ApiId: { Ref: 'HttpApi' }, Stage: '$default' });
    expect([mapping.DependsOn].flat()).toContain('HttpApiStage');
    const [, record] = ofType('AWS::Route53::RecordSet', withoutFrontDoor).find(([name]) => name === 'CustomDomainRecord')!;
    expect(parameter(record.Properties.Name)).toBe('chat.example.com');
    expect(record.Properties.Type).toBe('A');
    const [condition, , regional] = record.Properties.AliasTarget['Fn::If'];
    expect(conditionHolds(prod, condition, { FrontDoorEnabled: 'false' })).toBe(false);
    expect(regional.DNSName).toEqual({ 'Fn::GetAtt': ['CustomDomain', 'RegionalDomainName'] });
    expect(regional.HostedZoneId).toEqual({ 'Fn::GetAtt': ['CustomDomain', 'RegionalHostedZoneId'] });
    expect(ofType('AWS::Route53::RecordSet', withoutFrontDoor).map(([name]) => name)).toEqual(['CustomDomainRecord']);
    // Where a DNS record must point when Route 53 does not serve the zone.
    expect(prod.Outputs.CustomDomainTarget).toMatchObject({ Condition: 'HasCustomDomain', Value: { 'Fn::GetAtt': ['CustomDomain', 'RegionalDomainName'] } });
  });

  it('alarms on failures through one topic, mailed when the stage names an address', () => {
    for (const of of [template, prod]) {
      const topics = ofType('AWS::SNS::Topic', of.Resources);
      expect(topics).toHaveLength(1);
      const topic = { Ref: topics[0]![0] };
      for (const [name, alarm] of ofType('AWS::CloudWatch::Alarm', of.Resources)) {
        expect(alarm.Properties.AlarmActions, name).toEqual([topic]);
        expect(alarm.Properties.OKActions, name).toEqual([topic]);
        expect(alarm.Properties.TreatMissingData, name).toBe('notBreaching');
      }
      const [, subscription] = ofType('AWS::SNS::Subscription', of.Resources)[0]!;
      expect(subscription.Properties.Protocol).toBe('email');
      expect(subscription.Properties.TopicArn).toEqual(topic);
    }
    expect(ofType('AWS::SNS::Subscription', created(template))).toEqual([]);
    const [, mailed] = ofType('AWS::SNS::Subscription', created(prod))[0]!;
    expect(prod.Parameters![mailed.Properties.Endpoint.Ref]!.Default).toBe('ops@example.com');

    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const watching = (namespace: string, metricName: string, dimension: unknown) =>
      alarms.filter((alarm) => alarm.Namespace === namespace && alarm.MetricName === metricName && JSON.stringify(alarm.Dimensions[0].Value) === JSON.stringify(dimension));
    for (const queue of ['OutgoingDeadLetterQueue', 'DispatchFailureQueue']) {
      const [depth] = watching('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [queue, 'QueueName'] });
      expect(depth, queue).toMatchObject({ Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    }
    const [iteratorAge] = watching('AWS/Lambda', 'IteratorAge', { Ref: 'OutgoingDispatcherLambdaFunction' });
    expect(iteratorAge).toMatchObject({ Statistic: 'Maximum', Threshold: 300000, ComparisonOperator: 'GreaterThanThreshold' });
    // Every function, today's and tomorrow's: the alarms are generated from the functions section.
    const functions = Object.keys(readServerlessDefinition().functions);
    expect(functions.length).toBeGreaterThanOrEqual(12);
    for (const fn of functions) {
      const logicalId = { Ref: `${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction` };
      expect(resources[logicalId.Ref]?.Type, fn).toBe('AWS::Lambda::Function');
      for (const metricName of ['Errors', 'Throttles']) {
        const [alarm] = watching('AWS/Lambda', metricName, logicalId);
        expect(alarm, `${fn} ${metricName}`).toMatchObject({ Statistic: 'Sum', Period: 300, Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
      }
    }
    // The API's 5xx share over 5 minutes, once it has served enough requests to make a share.
    const rate = alarms.find((alarm) => alarm.Metrics)!;
    const byId = Object.fromEntries(rate.Metrics.map((metric: any) => [metric.Id, metric]));
    const apiMetric = (id: string) => byId[id].MetricStat.Metric;
    const [errors, requests] = rate.Metrics.filter((metric: any) => metric.MetricStat).map((metric: any) => metric.Id as string);
    expect(apiMetric(errors!)).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] });
    expect(apiMetric(requests!)).toEqual({ Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] });
    for (const id of [errors!, requests!]) expect(byId[id].MetricStat).toMatchObject({ Period: 300, Stat: 'Sum' });
    const [expression] = rate.Metrics.filter((metric: any) => metric.ReturnData);
    expect(expression.Expression).toBe(`IF(${requests} >= 20, 100 * ${errors} / ${requests}, 0)`);
    expect(rate).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it.skipIf(!cfnLintInstalled)('passes cfn-lint without errors (skipped when cfn-lint is not on the PATH)', () => {
    for (const dir of [outputDir, prodDir]) {
      const errors = cfnLint(dir).filter((finding) => finding.Level === 'Error');
      expect(errors.map((error) => `${error.Rule.Id} ${error.Location.Path.join('/')}: ${error.Message}`), dir).toEqual([]);
    }
  }, 120_000);

  it('lets only the functions that sign or manage commands read the SECRET# items of the entities table', () => {
    const entitiesTable = JSON.stringify({ 'Fn::GetAtt': ['EntitiesTable', 'Arn'] });
    const statementsOf = (role: Resource) => role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement) as any[];
    const covers = (statement: any, resource: string) => [statement.Resource].flat().some((item: unknown) => JSON.stringify(item) === resource);
    const roleOf = (fn: string) => resources[`${fn}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0] as string;
    // Hook management answers outgoing tokens to those who may manage the hook, and writes the
    // secrets it regenerates and rotates; command management shows and regenerates command tokens,
    // as Mattermost's API does.
    const signing = new Set(['ExecuteCommand', 'PostAction', 'OutgoingWorker', 'HooksManagement', 'CommandsManagement'].map(roleOf));
    expect(roleOf('CommandWebhook')).not.toBe(roleOf('ExecuteCommand'));
    expect(signing.has(roleOf('CommandWebhook'))).toBe(false);

    const readersOfEntities = ofType('AWS::IAM::Role').filter(([, role]) =>
      statementsOf(role).some((statement) => statement.Effect === 'Allow' && covers(statement, entitiesTable)),
    );
    expect(readersOfEntities.length).toBeGreaterThanOrEqual(8);
    for (const [name, role] of readersOfEntities) {
      const statements = statementsOf(role);
      const denials = statements.filter((statement) => statement.Effect === 'Deny');
      if (signing.has(name)) {
        expect(denials, name).toEqual([]);
        // An integration and its secrets in one request.
        const allowed = statements.filter((statement) => statement.Effect === 'Allow' && covers(statement, entitiesTable)).flatMap((statement) => statement.Action);
        expect(allowed, name).toContain('dynamodb:BatchGetItem');
      } else {
        const secretsDenied = denials.find((statement) => covers(statement, entitiesTable));
        expect(secretsDenied, name).toBeDefined();
        expect(secretsDenied.Action, name).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan']));
        expect(secretsDenied.Condition, name).toEqual({ 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['SECRET#*'] } });
      }
    }
    // A Scan has no leading key for the Deny's condition to test, so nothing may scan at all.
    for (const [name, role] of ofType('AWS::IAM::Role')) {
      for (const statement of statementsOf(role).filter((statement) => statement.Effect === 'Allow')) {
        expect([statement.Action].flat(), name).not.toContain('dynamodb:Scan');
      }
    }
  });

  it('keeps synchronous functions under API Gateway\'s 30 s and the cheapest memory size', () => {
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.MemorySize, name).toBe(128);
      if (!name.startsWith('Outgoing') && !name.startsWith('LiveEvents')) expect(fn.Properties.Timeout, name).toBeLessThan(30);
    }
  });
});
