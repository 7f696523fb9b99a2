'use strict';
/**
 * A stage's configuration: config/default.yml overlaid with config/<stage>.yml when that file
 * exists. serverless.yml reads it as `custom.stageConfig` through `template`; the local stack
 * (npm start, the tests) through `resolveStageConfig`, so a deployed stage and a local one are
 * configured by the same files. CommonJS because osls loads variable files with require().
 */
const { existsSync, readFileSync } = require('node:fs');
const path = require('node:path');
const { parse } = require('yaml');

const configDir = path.resolve(__dirname, '../../config');

const isPlainObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

function readYaml(file) {
  const content = parse(readFileSync(file, 'utf8'));
  if (content == null) return {};
  if (!isPlainObject(content)) throw new Error(`${path.basename(file)}: expected a mapping`);
  return content;
}

/** A stage file names only what differs; a key the defaults lack is a typo and is refused. */
function overlay(defaults, overrides, where) {
  const result = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(defaults, key)) throw new Error(`${where}.${key}: unknown key (config/default.yml lists every key)`);
    if (isPlainObject(defaults[key])) {
      if (value == null) continue;
      if (!isPlainObject(value)) throw new Error(`${where}.${key}: expected a mapping`);
      result[key] = overlay(defaults[key], value, `${where}.${key}`);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function check(condition, message) {
  if (!condition) throw new Error(`stage configuration: ${message}`);
}

const isNumber = (value, min, max = Number.MAX_SAFE_INTEGER) => typeof value === 'number' && value >= min && value <= max;

/** What CloudFormation or Lambda would refuse late, or what would quietly misbehave, refused now. */
function validate(config, source) {
  const where = (key) => `${key} (${source})`;
  for (const [key, value] of Object.entries(config.settings)) {
    check(value === null || ['string', 'number', 'boolean'].includes(typeof value), `${where(`settings.${key}`)} must be a single value`);
  }
  const { throttling, domain } = config.api;
  check(isNumber(throttling.rateLimit, 1), `${where('api.throttling.rateLimit')} must be a positive number`);
  check(Number.isInteger(throttling.burstLimit) && throttling.burstLimit >= 1, `${where('api.throttling.burstLimit')} must be a positive integer`);
  const domainName = domain.name ?? '';
  check(typeof domainName === 'string' && /^([a-z0-9-]+\.)+[a-z]{2,}$|^$/i.test(domainName), `${where('api.domain.name')} must be a host name`);
  if (domainName) check(/^arn:aws[a-z-]*:acm:/.test(domain.certificateArn ?? ''), `${where('api.domain.certificateArn')} must be an ACM certificate ARN when a domain is set`);
  if (domain.hostedZoneId) check(domainName !== '', `${where('api.domain.hostedZoneId')} needs api.domain.name`);
  check(typeof config.api.frontDoor === 'boolean', `${where('api.frontDoor')} must be true or false`);
  // CloudFront takes certificates from us-east-1 only, whatever the stack's region.
  if (domainName && config.api.frontDoor) check(/^arn:aws[a-z-]*:acm:us-east-1:/.test(domain.certificateArn ?? ''), `${where('api.domain.certificateArn')} must be in us-east-1 when the domain is on the front door (api.frontDoor), as CloudFront requires`);
  const maximumRecordAge = config.stream.maximumRecordAgeSeconds;
  check(Number.isInteger(maximumRecordAge) && maximumRecordAge >= 60 && maximumRecordAge <= 21_600, `${where('stream.maximumRecordAgeSeconds')} must be whole seconds from 60 to 21600`);
  const parkAfter = Number(config.settings.DISPATCH_PARK_AFTER_SECONDS);
  check(Number.isInteger(parkAfter) && parkAfter >= 1 && parkAfter < maximumRecordAge, `${where('settings.DISPATCH_PARK_AFTER_SECONDS')} must be whole seconds below stream.maximumRecordAgeSeconds, or Lambda drops a failing post before the dispatcher parks it`);
  const { alarms } = config;
  check(!alarms.email || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarms.email), `${where('alarms.email')} must be an email address`);
  for (const key of ['functionErrors', 'functionThrottles', 'api5xxMinimumRequests']) check(isNumber(alarms[key], 0), `${where(`alarms.${key}`)} must be a number of 0 or more`);
  check(isNumber(alarms.dispatcherIteratorAgeMs, 1_000), `${where('alarms.dispatcherIteratorAgeMs')} must be at least 1000`);
  check(isNumber(alarms.api5xxPercent, 0, 100), `${where('alarms.api5xxPercent')} must be a percentage`);
}

/** The merged configuration of `stage`, as the YAML files say it. */
function loadStageConfig(stage, directory = configDir) {
  const defaults = readYaml(path.join(directory, 'default.yml'));
  const stageFile = path.join(directory, `${stage}.yml`);
  const exists = existsSync(stageFile);
  const config = exists ? overlay(defaults, readYaml(stageFile), `config/${stage}.yml`) : defaults;
  validate(config, exists ? `config/${stage}.yml` : 'config/default.yml');
  return config;
}

/** The API's execute-api URL, as CloudFormation resolves it (the HttpApi resource is osls's). */
const executeApiUrl = {
  'Fn::Join': ['', ['https://', { Ref: 'HttpApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
};

/** The WebSocket API's own URL: its stage on its execute-api host (the resource is osls's). */
const executeWebsocketUrl = (stage) => ({
  'Fn::Join': ['', ['wss://', { Ref: 'WebsocketsApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/${stage}`]],
});

/** The front door's cloudfront.net name (infra/aws/front-door.cjs creates the distribution). */
const frontDoorHost = { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] };

/**
 * The configuration as serverless.yml uses it: settings as environment variable strings, and the
 * URLs the stack answers on: `apiUrl` (the custom domain, else the front door, else execute-api),
 * `siteUrl` (the SITE_URL setting, else `apiUrl`) and `websocketUrl`, where clients open the
 * websocket (on `apiUrl`'s origin behind the front door, as Mattermost's clients expect; else the
 * WebSocket API's own URL). A URL that only CloudFormation knows is an intrinsic function.
 */
function resolveStageConfig(stage, directory = configDir) {
  const config = loadStageConfig(stage, directory);
  const settings = Object.fromEntries(Object.entries(config.settings).map(([key, value]) => [key, value == null ? '' : String(value)]));
  const domain = { name: '', certificateArn: '', hostedZoneId: '', ...config.api.domain };
  for (const key of Object.keys(domain)) domain[key] = domain[key] ?? '';
  const frontDoor = config.api.frontDoor;
  // Whether the front door exists is the template's condition HasFrontDoor (its parameter's
  // default is `frontDoor`), so that a deploy overriding the parameter gets URLs that match.
  const ifFrontDoor = (then, otherwise) => ({ 'Fn::If': ['HasFrontDoor', then, otherwise] });
  const apiUrl = domain.name ? `https://${domain.name}` : ifFrontDoor({ 'Fn::Join': ['', ['https://', frontDoorHost]] }, executeApiUrl);
  const siteUrl = settings.SITE_URL.trim() ? settings.SITE_URL.trim().replace(/\/+$/, '') : apiUrl;
  const websocketUrl = ifFrontDoor(
    domain.name ? `wss://${domain.name}/api/v4/websocket` : { 'Fn::Join': ['', ['wss://', frontDoorHost, '/api/v4/websocket']] },
    executeWebsocketUrl(stage),
  );
  return {
    ...config,
    stage,
    settings,
    api: { ...config.api, domain },
    alarms: { ...config.alarms, email: config.alarms.email ?? '' },
    apiUrl,
    siteUrl,
    websocketUrl,
    /** Values that templates take as CloudFormation parameters, which are strings. */
    parameters: { frontDoor: frontDoor ? 'true' : 'false' },
  };
}

module.exports = {
  configDir,
  loadStageConfig,
  resolveStageConfig,
  /** serverless.yml: `custom.stageConfig: ${file(./infra/aws/stage-config.cjs):template}`. */
  template: async ({ resolveVariable }) => resolveStageConfig(await resolveVariable('sls:stage')),
};
