import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildAlarmResources } from '../../infra/aws/alarms.cjs';
import { configDir, loadStageConfig, resolveStageConfig } from '../../infra/aws/stage-config.cjs';
import { readServerlessDefinition } from '../../infra/local/serverless-definition.js';
import { localEnvironment } from '../../infra/local/stack.js';

/** A config folder with the real defaults and one stage file written by the test. */
function configWith(stage: string, yaml: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'hookline-config-'));
  copyFileSync(path.join(configDir, 'default.yml'), path.join(directory, 'default.yml'));
  writeFileSync(path.join(directory, `${stage}.yml`), yaml);
  return directory;
}

describe('stage configuration', () => {
  it('overlays the stage file on the defaults, key by key', () => {
    const directory = configWith('staging', 'api:\n  throttling:\n    rateLimit: 7\nsettings:\n  ENABLE_COMMANDS: false\n');
    const config = loadStageConfig('staging', directory);
    const defaults = loadStageConfig('no-such-stage', directory);
    expect(config.api.throttling).toEqual({ rateLimit: 7, burstLimit: defaults.api.throttling.burstLimit });
    expect(config.settings.ENABLE_COMMANDS).toBe(false);
    expect(config.settings.ENABLE_OUTGOING_WEBHOOKS).toBe(defaults.settings.ENABLE_OUTGOING_WEBHOOKS);
    expect(config.alarms).toEqual(defaults.alarms);
  });

  it('refuses a key the defaults do not have, so a typo cannot pass unnoticed', () => {
    const directory = configWith('typo', 'settings:\n  ENABLE_COMMAND: false\n');
    expect(() => loadStageConfig('typo', directory)).toThrow(/settings\.ENABLE_COMMAND: unknown key/);
  });

  it('refuses values that CloudFormation would refuse late or that would misbehave', () => {
    const refused = {
      'api:\n  domain:\n    name: chat.example.com\n': /certificateArn/,
      'api:\n  domain:\n    hostedZoneId: Z123\n': /hostedZoneId .*needs api\.domain\.name/,
      'stream:\n  maximumRecordAgeSeconds: 86400\n': /maximumRecordAgeSeconds/,
      'settings:\n  DISPATCH_PARK_AFTER_SECONDS: 3600\n': /DISPATCH_PARK_AFTER_SECONDS/,
      'api:\n  throttling:\n    burstLimit: 0\n': /burstLimit/,
      'alarms:\n  email: not-an-address\n': /alarms.email/,
      'settings:\n  SITE_URL: [a, b]\n': /SITE_URL/,
    };
    for (const [yaml, message] of Object.entries(refused)) {
      expect(() => loadStageConfig('bad', configWith('bad', yaml)), yaml).toThrow(message);
    }
  });

  it('gives the site URL: SITE_URL when set, else the custom domain, else the front door, else the execute-api URL', () => {
    // Without a domain: the front door's name if the stack has one (condition HasFrontDoor), else execute-api.
    const frontDoor = resolveStageConfig('no-such-stage');
    expect(frontDoor.siteUrl).toEqual(frontDoor.apiUrl);
    const [condition, withFrontDoor, without] = (frontDoor.siteUrl as { 'Fn::If': [string, unknown, unknown] })['Fn::If'];
    expect(condition).toBe('HasFrontDoor');
    expect(JSON.stringify(withFrontDoor)).toContain('"Fn::GetAtt":["FrontDoor","DomainName"]');
    expect(JSON.stringify(without)).toContain('"Ref":"AWS::URLSuffix"');
    const domain = 'api:\n  domain:\n    name: chat.example.com\n    certificateArn: arn:aws:acm:us-east-1:123456789012:certificate/abc\n';
    expect(resolveStageConfig('d', configWith('d', domain)).siteUrl).toBe('https://chat.example.com');
    const explicit = `${domain}settings:\n  SITE_URL: https://cdn.example.com/\n`;
    const resolved = resolveStageConfig('e', configWith('e', explicit));
    expect(resolved.siteUrl).toBe('https://cdn.example.com');
    expect(resolved.apiUrl).toBe('https://chat.example.com');
  });
});

describe('local environment', () => {
  const names = new Map([
    ['EntitiesTable', 'local-entities'],
    ['PostsTable', 'local-posts'],
    ['DeliveriesTable', 'local-deliveries'],
    ['ConnectionsTable', 'local-connections'],
    ['OutgoingQueue', 'http://queue/outgoing'],
    ['OutgoingDeadLetterQueue', 'http://queue/dlq'],
    ['DispatchFailureQueue', 'http://queue/dispatch-failures'],
  ]);
  const definition = readServerlessDefinition();

  it('resolves serverless.yml\'s environment from config/local.yml, as a deploy does from its stage file', () => {
    const environment = localEnvironment({ definition, stage: 'local', names, overrides: {} });
    const settings = resolveStageConfig('local').settings;
    expect(environment.ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS).toBe('127.0.0.0/8');
    expect(environment.ENABLE_COMMANDS).toBe(settings.ENABLE_COMMANDS);
    expect(environment.POWERTOOLS_LOG_LEVEL).toBe(settings.LOG_LEVEL);
    expect(environment.TABLE_ENTITIES).toBe('local-entities');
    // The dispatcher's own variables too: locally every function shares one process.
    expect(environment.DISPATCH_FAILURE_QUEUE_URL).toBe('http://queue/dispatch-failures');
    expect(environment.DISPATCH_PARK_AFTER_SECONDS).toBe(settings.DISPATCH_PARK_AFTER_SECONDS);
    // Only CloudFormation knows the execute-api URLs; npm start puts its own URL there.
    expect(environment.SITE_URL).toBeUndefined();
    expect(environment.WEBSOCKET_MANAGEMENT_ENDPOINT).toBeUndefined();
    // Locally the websocket answers on the API's own origin, where clients look for it.
    expect(environment.WEBSOCKET_URL).toBeUndefined();
    expect(environment.TABLE_CONNECTIONS).toBe('local-connections');
    const everyVariable = [definition.provider.environment ?? {}, ...Object.values(definition.functions).map((fn) => fn.environment ?? {})].flatMap(Object.keys);
    expect(Object.keys(environment).sort()).toEqual(everyVariable.filter((name) => !['SITE_URL', 'WEBSOCKET_MANAGEMENT_ENDPOINT', 'WEBSOCKET_URL'].includes(name)).sort());
  });

  it('lets the process environment override a setting, but not the wiring', () => {
    const environment = localEnvironment({
      definition,
      stage: 'local',
      names,
      overrides: { ENABLE_COMMANDS: 'false', SITE_URL: 'http://example.test', TABLE_ENTITIES: 'elsewhere' },
    });
    expect(environment.ENABLE_COMMANDS).toBe('false');
    expect(environment.SITE_URL).toBe('http://example.test');
    expect(environment.TABLE_ENTITIES).toBe('local-entities');
  });

  it('uses the defaults for a stage without a file of its own', () => {
    const environment = localEnvironment({ definition, stage: 'no-such-stage', names, overrides: {} });
    expect(environment.ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS).toBe('');
  });
});

describe('alarms', () => {
  it('watch every function, including one added later, and every stream reader\'s iterator age', () => {
    const { Resources } = buildAlarmResources({
      service: 'hookline',
      stage: 'ci',
      functions: { ping: { events: [] }, reportDigest: { events: [{ stream: { type: 'dynamodb' } }] } },
    });
    const watched = (metricName: string) =>
      Object.values(Resources)
        .filter((resource) => resource.Properties.MetricName === metricName)
        .map((resource) => resource.Properties.Dimensions[0].Value.Ref)
        .sort();
    expect(watched('Errors')).toEqual(['PingLambdaFunction', 'ReportDigestLambdaFunction']);
    expect(watched('Throttles')).toEqual(['PingLambdaFunction', 'ReportDigestLambdaFunction']);
    expect(watched('IteratorAge')).toEqual(['ReportDigestLambdaFunction']);
  });
});
