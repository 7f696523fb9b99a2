/**
 * The front door (infra/aws/front-door.cjs): CloudFront in front of the HTTP API and the WebSocket
 * API, so that Mattermost's clients find the websocket at the API's own origin. The template as a
 * whole is checked by test/package.test.ts; here, each stage shape and the path rewrite.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  CACHING_DISABLED_POLICY_ID,
  buildFrontDoorResources,
  websocketPathFunctionCode,
} from '../../infra/aws/front-door.cjs';
import { configDir, loadStageConfig, resolveStageConfig } from '../../infra/aws/stage-config.cjs';

function stageWith(stage: string, yaml: string) {
  const directory = mkdtempSync(path.join(tmpdir(), 'hookline-front-door-'));
  copyFileSync(path.join(configDir, 'default.yml'), path.join(directory, 'default.yml'));
  writeFileSync(path.join(directory, `${stage}.yml`), yaml);
  return { directory, config: resolveStageConfig(stage, directory) };
}

const domainYaml = (certificateRegion: string, extra = '') =>
  `api:\n  domain:\n    name: chat.example.com\n    certificateArn: arn:aws:acm:${certificateRegion}:123456789012:certificate/abc\n${extra}`;

/** Runs the CloudFront Function's code as CloudFront does: `handler(event)` on a viewer request. */
function runViewerRequest(code: string, uri: string, querystring: Record<string, { value: string }> = {}) {
  const request = { method: 'GET', uri, querystring, headers: { host: { value: 'd111111abcdef8.cloudfront.net' } }, cookies: {} };
  return runInNewContext(`${code}\nhandler(event)`, { event: { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' }, request } }) as typeof request;
}

describe('the front door', () => {
  it('is on by default: the site and the websocket answer on its one origin', () => {
    const config = resolveStageConfig('no-such-stage');
    expect(config.api.frontDoor).toBe(true);
    expect(config.siteUrl).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] }]] });
    expect(config.websocketUrl).toEqual({ 'Fn::Join': ['', ['wss://', { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] }, '/api/v4/websocket']] });
    expect(config.parameters.frontDoor).toBe('true');
  });

  it('sends every path to the HTTP API and /api/v4/websocket to the WebSocket API, caching nothing', () => {
    const { Resources, Outputs } = buildFrontDoorResources({ service: 'hookline', stage: 'ci', config: resolveStageConfig('ci') });
    const distribution = Resources.FrontDoor!.Properties.DistributionConfig;
    const hosts = Object.fromEntries(distribution.Origins.map((origin: any) => [origin.Id, JSON.stringify(origin.DomainName)]));
    expect(hosts['http-api']).toContain('{"Ref":"HttpApi"}');
    expect(hosts['websocket-api']).toContain('{"Ref":"WebsocketsApi"}');
    for (const origin of distribution.Origins) {
      expect(origin.OriginPath ?? '', origin.Id).toBe('');
      expect(origin.CustomOriginConfig.OriginProtocolPolicy).toBe('https-only');
    }
    const byDefault = distribution.DefaultCacheBehavior;
    expect(byDefault.TargetOriginId).toBe('http-api');
    expect([...byDefault.AllowedMethods].sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    const [websocket, ...others] = distribution.CacheBehaviors;
    expect(others).toEqual([]);
    expect(websocket.PathPattern).toBe('/api/v4/websocket');
    expect(websocket.TargetOriginId).toBe('websocket-api');
    expect(websocket.FunctionAssociations).toEqual([{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': ['FrontDoorWebsocketPath', 'FunctionARN'] } }]);
    for (const behaviour of [byDefault, websocket]) {
      // No cache, and every viewer header (Authorization and the Sec-WebSocket-* handshake
      // included) but Host, which must be the execute-api host for API Gateway to answer.
      expect(behaviour.CachePolicyId).toBe(CACHING_DISABLED_POLICY_ID);
      expect(behaviour.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID);
      // A redirect would turn a hook sender's POST into a GET.
      expect(behaviour.ViewerProtocolPolicy).toBe('https-only');
    }
    expect(distribution.ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    expect(distribution.Aliases).toBeUndefined();
    expect(Resources.FrontDoorWebsocketPath!.Properties.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    expect(Object.values(Resources).filter((resource) => resource.Type === 'AWS::Route53::RecordSet')).toEqual([]);
    expect(Outputs.FrontDoorDomainName!.Value).toEqual({ 'Fn::GetAtt': ['FrontDoor', 'DomainName'] });
  });

  it("rewrites /api/v4/websocket to the stage's path and keeps a reconnecting client's query string", () => {
    const code = buildFrontDoorResources({ service: 'hookline', stage: 'ci', config: resolveStageConfig('ci') }).Resources.FrontDoorWebsocketPath!.Properties.FunctionCode;
    const rewritten = runViewerRequest(code, '/api/v4/websocket', { connection_id: { value: 'abc' }, sequence_number: { value: '7' } });
    expect(rewritten.uri).toBe('/ci');
    expect(rewritten.querystring).toEqual({ connection_id: { value: 'abc' }, sequence_number: { value: '7' } });
    expect(rewritten.headers.host).toEqual({ value: 'd111111abcdef8.cloudfront.net' });
    expect(runViewerRequest(websocketPathFunctionCode('prod'), '/api/v4/websocket').uri).toBe('/prod');
    expect(() => websocketPathFunctionCode("x'; evil()")).toThrow(/stage name/);
  });

  it('puts a custom domain on the distribution, with alias records when Route 53 serves the zone', () => {
    const { config } = stageWith('dom', domainYaml('us-east-1', '    hostedZoneId: Z0000000EXAMPLE\n'));
    expect(config.siteUrl).toBe('https://chat.example.com');
    expect(config.websocketUrl).toBe('wss://chat.example.com/api/v4/websocket');
    const { Resources } = buildFrontDoorResources({ service: 'hookline', stage: 'dom', config });
    const distribution = Resources.FrontDoor!.Properties.DistributionConfig;
    expect(distribution.Aliases).toEqual(['chat.example.com']);
    expect(distribution.ViewerCertificate).toEqual({
      AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      SslSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    const records = Object.values(Resources).filter((resource) => resource.Type === 'AWS::Route53::RecordSet');
    expect(records.map((record) => record.Properties.Type).sort()).toEqual(['A', 'AAAA']);
    for (const record of records) {
      expect(record.Properties).toMatchObject({ HostedZoneId: 'Z0000000EXAMPLE', Name: 'chat.example.com' });
      expect(record.Properties.AliasTarget).toEqual({ DNSName: { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] }, HostedZoneId: 'Z2FDTNDATAQYW2', EvaluateTargetHealth: false });
    }
  });

  it('refuses a certificate outside us-east-1 for a domain on the front door, and allows it without', () => {
    const { directory } = stageWith('placeholder', '');
    writeFileSync(path.join(directory, 'eu.yml'), domainYaml('eu-west-1'));
    expect(() => loadStageConfig('eu', directory)).toThrow(/certificateArn .* must be in us-east-1/);
    writeFileSync(path.join(directory, 'regional.yml'), `${domainYaml('eu-west-1')}  frontDoor: false\n`);
    expect(loadStageConfig('regional', directory).api.frontDoor).toBe(false);
    writeFileSync(path.join(directory, 'typo.yml'), 'api:\n  frontDoor: "yes"\n');
    expect(() => loadStageConfig('typo', directory)).toThrow(/api\.frontDoor/);
  });

  it('is absent when turned off: the execute-api URLs, and the WebSocket API on its own host', () => {
    const { config } = stageWith('off', 'api:\n  frontDoor: false\n');
    expect(buildFrontDoorResources({ service: 'hookline', stage: 'off', config })).toEqual({ Resources: {}, Outputs: {} });
    expect(JSON.stringify(config.siteUrl)).toContain('{"Ref":"HttpApi"}');
    expect(config.websocketUrl).toEqual({
      'Fn::Join': ['', ['wss://', { Ref: 'WebsocketsApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/off']],
    });
    expect(config.parameters.frontDoor).toBe('false');
  });
});
