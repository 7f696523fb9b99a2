import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../lib/routes.js';
import { httpRoutes, projectRoot, readServerlessDefinition } from '../infra/local/serverless-definition.js';
import { loadStageConfig } from '../infra/aws/stage-config.cjs';
import { loadConfig } from '../lib/config.js';

/** Runs `serverless package` (no AWS credentials needed) and reads the generated template. */
type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string; DependsOn?: string | string[] };
let outputDir: string;
let resources: Record<string, Resource>;

const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

beforeAll(async () => {
  outputDir = mkdtempSync(path.join(tmpdir(), 'hookline-package-'));
  await new Promise<void>((resolve, reject) => {
    execFile(
      'npx',
      ['serverless', 'package', '--stage', 'ci', '--package', outputDir],
      { cwd: projectRoot, env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }, timeout: 240_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve()),
    );
  });
  resources = JSON.parse(readFileSync(path.join(outputDir, 'cloudformation-template-update-stack.json'), 'utf8')).Resources;
}, 300_000);

describe('serverless package', () => {
  it('writes one zip per function', () => {
    const functions = Object.keys(readServerlessDefinition().functions);
    const zips = readdirSync(outputDir).filter((file) => file.endsWith('.zip'));
    expect(zips.sort()).toEqual(functions.map((name) => `${name}.zip`).sort());
    for (const zip of zips) expect(existsSync(path.join(outputDir, zip))).toBe(true);
  });

  it('declares every public route on the HTTP API, the same as lib/routes.ts and the local gateway', () => {
    const routeKeys = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties.RouteKey as string);
    const expected = routes.map((route) => `${route.method} ${route.path}`);
    expect(routeKeys.sort()).toEqual([...expected, '$default'].sort());
    const local = httpRoutes().filter((route) => route.method !== '*').map((route) => `${route.method} ${route.path}`);
    expect(local.sort()).toEqual(expected.sort());
    const api = ofType('AWS::ApiGatewayV2::Api');
    expect(api).toHaveLength(1);
    expect(api[0]![1].Properties.ProtocolType).toBe('HTTP');
    for (const [, integration] of ofType('AWS::ApiGatewayV2::Integration')) {
      expect(integration.Properties.PayloadFormatVersion).toBe('2.0');
    }
  });

  it('creates on-demand tables with point-in-time recovery', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables.map(([name]) => name).sort()).toEqual(['DeliveriesTable', 'EntitiesTable', 'PostsTable']);
    // The delivery log expires on its own; the posts table streams new posts to the dispatcher.
    expect(resources.DeliveriesTable!.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expires_at', Enabled: true });
    expect(resources.PostsTable!.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    for (const [, table] of tables) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      if (table.Properties.TimeToLiveSpecification) expect(table.Properties.TimeToLiveSpecification.Enabled).toBe(true);
    }
  });

  it('keeps the tables when the stack goes, except after a failed first deploy', () => {
    for (const [name, table] of ofType('AWS::DynamoDB::Table')) {
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
    expect(mappings).toHaveLength(2);
    const queue = mappings.find((mapping) => JSON.stringify(mapping.EventSourceArn).includes('OutgoingQueue'))!;
    expect(queue.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    expect(queue.FunctionName).toEqual({ 'Fn::GetAtt': ['OutgoingWorkerLambdaFunction', 'Arn'] });
    const stream = mappings.find((mapping) => JSON.stringify(mapping.EventSourceArn).includes('PostsTable'))!;
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

  it('gives each function a least-privilege role', () => {
    const actionsOf = (roleName: string) => {
      const role = resources[roleName]!;
      const statements = role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement);
      for (const statement of statements) {
        expect(statement.Resource, `${roleName} grants on *`).not.toBe('*');
        for (const action of statement.Action) expect(action, roleName).not.toMatch(/\*/);
      }
      return new Set<string>(statements.flatMap((statement: any) => statement.Action));
    };
    const roleOf = (fn: string) => resources[`${fn}LambdaFunction`]!.Properties.Role['Fn::GetAtt'][0] as string;
    const functions = ['Ping', 'IncomingWebhook', 'CreatePost', 'GetPost', 'GetChannelPosts', 'NotFound', 'OutgoingDispatcher', 'OutgoingWorker'];
    for (const fn of functions) expect(resources[roleOf(fn)]?.Type, fn).toBe('AWS::IAM::Role');

    expect([...actionsOf(roleOf('Ping'))].sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(actionsOf(roleOf('NotFound')).has('dynamodb:GetItem')).toBe(false);
    const incoming = actionsOf(roleOf('IncomingWebhook'));
    expect(incoming.has('dynamodb:PutItem')).toBe(true);
    expect(incoming.has('dynamodb:Query')).toBe(false);
    expect(incoming.has('dynamodb:DeleteItem')).toBe(false);
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
      expect(() => loadConfig({ ...settings, POWERTOOLS_LOG_LEVEL: settings.LOG_LEVEL }), stage).not.toThrow();
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
      '$context.path',
    ]) {
      expect(variables.has(variable), variable).toBe(true);
    }
    expect(stage.Properties.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
  });

  it('keeps synchronous functions under API Gateway\'s 30 s and the cheapest memory size', () => {
    for (const [name, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.MemorySize, name).toBe(128);
      if (!name.startsWith('Outgoing')) expect(fn.Properties.Timeout, name).toBeLessThan(30);
    }
  });
});
