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

const ifFrontDoor = (then: unknown, otherwise: unknown) => ({ 'Fn::If': ['HasFrontDoor', then, otherwise] });
const frontDoorHost = { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] };

describe('the front door', () => {
  it('is on by default: the site and the websocket answer on its one origin, under the condition HasFrontDoor', () => {
    const config = resolveStageConfig('no-such-stage');
    expect(config.api.frontDoor).toBe(true);
    expect(config.parameters.frontDoor).toBe('true');
    expect(config.siteUrl).toEqual(ifFrontDoor({ 'Fn::Join': ['', ['https://', frontDoorHost]] }, expect.objectContaining({ 'Fn::Join': expect.anything() })));
    expect(JSON.stringify((config.siteUrl as any)['Fn::If'][2])).toContain('{"Ref":"HttpApi"}');
    expect(config.websocketUrl).toEqual(
      ifFrontDoor(
        { 'Fn::Join': ['', ['wss://', frontDoorHost, '/api/v4/websocket']] },
        { 'Fn::Join': ['', ['wss://', { Ref: 'WebsocketsApi' }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/no-such-stage']] },
      ),
    );
  });

  it('sends every path to the HTTP API and /api/v4/websocket to the WebSocket API, caching nothing, errors included', () => {
    const { Resources, Outputs } = buildFrontDoorResources({ stage: 'ci' });
    expect(Resources.FrontDoor!.Condition).toBe('HasFrontDoor');
    expect(Resources.FrontDoorWebsocketPath!.Condition).toBe('HasFrontDoor');
    expect(Outputs.FrontDoorDomainName!.Condition).toBe('HasFrontDoor');
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
    // CloudFront would otherwise keep an error 10 s, and serve one user's 403 or 404 to others.
    const errorCodes = distribution.CustomErrorResponses.map((response: any) => response.ErrorCode);
    expect(errorCodes).toEqual(expect.arrayContaining([400, 403, 404, 405, 414, 500, 501, 502, 503, 504]));
    for (const response of distribution.CustomErrorResponses) expect(response).toEqual({ ErrorCode: response.ErrorCode, ErrorCachingMinTTL: 0 });
    // The custom domain only when there is one.
    expect(distribution.Aliases).toEqual({ 'Fn::If': ['HasFrontDoorDomain', [{ Ref: 'CustomDomainName' }], { Ref: 'AWS::NoValue' }] });
    expect(distribution.ViewerCertificate['Fn::If'][0]).toBe('HasFrontDoorDomain');
    expect(distribution.ViewerCertificate['Fn::If'][1]).toEqual({ AcmCertificateArn: { Ref: 'CustomDomainCertificateArn' }, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' });
    expect(distribution.ViewerCertificate['Fn::If'][2]).toEqual({ CloudFrontDefaultCertificate: true });
    const function_ = Resources.FrontDoorWebsocketPath!.Properties;
    expect(function_.FunctionConfig.Runtime).toBe('cloudfront-js-2.0');
    // Names are per account: the stack's name and its region keep two regions' stacks apart.
    expect(function_.Name).toEqual({ 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { Ref: 'AWS::Region' }, 'websocket-path']] });
    const ipv6 = Resources.FrontDoorRecordIpv6!;
    expect(ipv6.Condition).toBe('HasFrontDoorDomainRecord');
    expect(ipv6.Properties).toMatchObject({ Type: 'AAAA', Name: { Ref: 'CustomDomainName' }, HostedZoneId: { Ref: 'CustomDomainHostedZoneId' } });
    expect(ipv6.Properties.AliasTarget).toEqual({ DNSName: frontDoorHost, HostedZoneId: 'Z2FDTNDATAQYW2', EvaluateTargetHealth: false });
  });

  it("rewrites /api/v4/websocket to the stage's path and keeps a reconnecting client's query string", () => {
    const code = buildFrontDoorResources({ stage: 'ci' }).Resources.FrontDoorWebsocketPath!.Properties.FunctionCode;
    const rewritten = runViewerRequest(code, '/api/v4/websocket', { connection_id: { value: 'abc' }, sequence_number: { value: '7' } });
    expect(rewritten.uri).toBe('/ci');
    expect(rewritten.querystring).toEqual({ connection_id: { value: 'abc' }, sequence_number: { value: '7' } });
    expect(rewritten.headers.host).toEqual({ value: 'd111111abcdef8.cloudfront.net' });
    expect(runViewerRequest(websocketPathFunctionCode('prod'), '/api/v4/websocket').uri).toBe('/prod');
    expect(() => websocketPathFunctionCode("x'; evil()")).toThrow(/stage name/);
  });

  it('gives a custom domain the site and websocket URLs', () => {
    const { config } = stageWith('dom', domainYaml('us-east-1', '    hostedZoneId: Z0000000EXAMPLE\n'));
    expect(config.siteUrl).toBe('https://chat.example.com');
    expect(config.websocketUrl).toEqual(ifFrontDoor('wss://chat.example.com/api/v4/websocket', expect.objectContaining({ 'Fn::Join': expect.anything() })));
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

  it("is turned off through its parameter's default", () => {
    const { config } = stageWith('off', 'api:\n  frontDoor: false\n');
    expect(config.parameters.frontDoor).toBe('false');
  });
});
