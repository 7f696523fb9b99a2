'use strict';
/**
 * The front door: a CloudFront distribution in front of the HTTP API and the WebSocket API, so
 * that both answer on one origin. Mattermost's clients open the websocket at the API's own origin
 * + /api/v4/websocket (Client4.getWebSocketUrl()); API Gateway cannot put a WebSocket API on an
 * HTTP API's domain, so without this the websocket lives on a host of its own. Every path goes to
 * the HTTP API unchanged, /api/v4/websocket to the WebSocket API's stage (a CloudFront Function
 * rewrites the path). Nothing is cached: every request reaches API Gateway as it came, Host aside.
 * The resources exist under the condition HasFrontDoor (the `FrontDoorEnabled` parameter, whose
 * default is the stage's `api.frontDoor`; infra/aws/custom-domain.yml declares the conditions),
 * and the custom domain, when there is one, goes on the distribution.
 */
const { readFileSync } = require('node:fs');
const path = require('node:path');

/** AWS's managed policies, by their fixed ids: no caching at all; every viewer header but Host. */
const CACHING_DISABLED_POLICY_ID = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';
/** The hosted zone of every CloudFront distribution, for Route 53 alias records (also in custom-domain.yml). */
const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';
const WEBSOCKET_PATH = '/api/v4/websocket';

/** The CloudFront Function's code for `stage`: /api/v4/websocket becomes /<stage>. */
function websocketPathFunctionCode(stage) {
  if (!/^[A-Za-z0-9_-]+$/.test(stage)) throw new Error(`front door: unexpected stage name ${JSON.stringify(stage)}`);
  return readFileSync(path.join(__dirname, 'front-door-websocket-path.js'), 'utf8').replace("'STAGE_PATH'", `'/${stage}'`);
}

/** An execute-api host as CloudFront reaches it: HTTPS only, as API Gateway serves. */
const apiOrigin = (id, apiLogicalId) => ({
  Id: id,
  DomainName: { 'Fn::Join': ['', [{ Ref: apiLogicalId }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] },
  CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
});

/**
 * `https-only`, not a redirect: a hook sender that follows a redirect turns its POST into a GET;
 * a refusal is plainer, and API Gateway serves no plain HTTP either.
 */
const uncached = {
  ViewerProtocolPolicy: 'https-only',
  CachePolicyId: CACHING_DISABLED_POLICY_ID,
  OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  Compress: false,
};

/**
 * CloudFront keeps an error answer for ErrorCachingMinTTL (10 s by default) whatever the cache
 * policy, and its cache key here holds no Authorization: one user's 403 or 404, or a passing 503,
 * would be served to others at the same edge. Zero keeps none.
 */
const ERROR_CODES_CLOUDFRONT_CACHES = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];

function buildFrontDoorResources({ stage }) {
  const ifDomain = (then, otherwise) => ({ 'Fn::If': ['HasFrontDoorDomain', then, otherwise] });
  return {
    Resources: {
      FrontDoorWebsocketPath: {
        Type: 'AWS::CloudFront::Function',
        Condition: 'HasFrontDoor',
        Properties: {
          // Function names are per account, not per region: the stack's name and region make it unique.
          Name: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, { Ref: 'AWS::Region' }, 'websocket-path']] },
          AutoPublish: true,
          FunctionConfig: { Comment: 'Rewrites /api/v4/websocket to the WebSocket API stage path', Runtime: 'cloudfront-js-2.0' },
          FunctionCode: websocketPathFunctionCode(stage),
        },
      },
      FrontDoor: {
        Type: 'AWS::CloudFront::Distribution',
        Condition: 'HasFrontDoor',
        Properties: {
          DistributionConfig: {
            Enabled: true,
            Comment: { 'Fn::Join': [' ', [{ Ref: 'AWS::StackName' }, ': the HTTP API and its websocket on one origin']] },
            HttpVersion: 'http2and3',
            IPV6Enabled: true,
            PriceClass: 'PriceClass_All',
            Origins: [apiOrigin('http-api', 'HttpApi'), apiOrigin('websocket-api', 'WebsocketsApi')],
            DefaultCacheBehavior: {
              TargetOriginId: 'http-api',
              AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
              CachedMethods: ['GET', 'HEAD'],
              ...uncached,
            },
            CacheBehaviors: [
              {
                PathPattern: WEBSOCKET_PATH,
                TargetOriginId: 'websocket-api',
                AllowedMethods: ['GET', 'HEAD'],
                CachedMethods: ['GET', 'HEAD'],
                ...uncached,
                FunctionAssociations: [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': ['FrontDoorWebsocketPath', 'FunctionARN'] } }],
              },
            ],
            CustomErrorResponses: ERROR_CODES_CLOUDFRONT_CACHES.map((code) => ({ ErrorCode: code, ErrorCachingMinTTL: 0 })),
            Aliases: ifDomain([{ Ref: 'CustomDomainName' }], { Ref: 'AWS::NoValue' }),
            ViewerCertificate: ifDomain(
              { AcmCertificateArn: { Ref: 'CustomDomainCertificateArn' }, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' },
              { CloudFrontDefaultCertificate: true },
            ),
          },
        },
      },
      // The name's A record is custom-domain.yml's CustomDomainRecord (in place whether or not the
      // front door is on); the distribution answers on IPv6 too, so the name gets an AAAA beside it.
      FrontDoorRecordIpv6: {
        Type: 'AWS::Route53::RecordSet',
        Condition: 'HasFrontDoorDomainRecord',
        Properties: {
          HostedZoneId: { Ref: 'CustomDomainHostedZoneId' },
          Name: { Ref: 'CustomDomainName' },
          Type: 'AAAA',
          AliasTarget: { DNSName: { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] }, HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID, EvaluateTargetHealth: false },
        },
      },
    },
    Outputs: {
      FrontDoorDomainName: {
        Condition: 'HasFrontDoor',
        Description: 'The front door (CloudFront) host name: where a CNAME for a custom domain must point when Route 53 does not serve its zone',
        Value: { 'Fn::GetAtt': ['FrontDoor', 'DomainName'] },
      },
    },
  };
}

module.exports = {
  buildFrontDoorResources,
  websocketPathFunctionCode,
  CACHING_DISABLED_POLICY_ID,
  ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  /** serverless.yml: `resources: [..., ${file(./infra/aws/front-door.cjs):resources}]`. */
  resources: async ({ resolveVariable }) => buildFrontDoorResources({ stage: await resolveVariable('sls:stage') }),
};
