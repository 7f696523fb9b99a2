/**
 * AWS's published on-demand prices in us-east-1 (checked 2026-11-27), for the benchmark's cost per
 * million posts. Each figure is per unit named; the benchmark multiplies measured usage by them.
 */
export const PRICES = {
  source: 'AWS on-demand prices, us-east-1',
  /** HTTP API, per request (first 300 million a month). */
  apiGatewayPerRequest: 1.0 / 1e6,
  lambdaPerRequest: 0.2 / 1e6,
  /** arm64, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on demand, per write request unit and per read request unit. */
  dynamoPerWriteUnit: 0.625 / 1e6,
  dynamoPerReadUnit: 0.125 / 1e6,
  /** WebSocket API, per message (first billion a month; metered in 32 KB increments), and per connection-minute. */
  websocketPerMessage: 1.0 / 1e6,
  websocketPerConnectionMinute: 0.25 / 1e6,
  /**
   * CloudFront (the front door, infra/aws/front-door.cjs), per HTTPS request in North America and
   * Europe ($0.0100 per 10 000), past the always-free 10 million a month. Data out is a few
   * hundred bytes per hook post, past the free 1 TB a month: left out.
   */
  cloudFrontPerHttpsRequest: 0.01 / 1e4,
};

const LAMBDA_MEMORY_GB = 128 / 1024;

export function costPerMillionPosts(usage: { writeUnitsPerPost: number; readUnitsPerPost: number; lambdaMsPerPost: number }) {
  const million = 1e6;
  // Lambda bills duration by the millisecond, rounded up.
  const billedSeconds = Math.ceil(usage.lambdaMsPerPost) / 1000;
  const cost = {
    apiGateway: million * PRICES.apiGatewayPerRequest,
    lambdaRequests: million * PRICES.lambdaPerRequest,
    lambdaDuration: million * billedSeconds * LAMBDA_MEMORY_GB * PRICES.lambdaArmPerGbSecond,
    dynamoWrites: million * usage.writeUnitsPerPost * PRICES.dynamoPerWriteUnit,
    dynamoReads: million * usage.readUnitsPerPost * PRICES.dynamoPerReadUnit,
  };
  const total = Object.values(cost).reduce((sum, value) => sum + value, 0);
  // The front door is on by default (config api.frontDoor); a stage without it saves this line.
  const frontDoor = million * PRICES.cloudFrontPerHttpsRequest;
  return { ...cost, frontDoor, total: total + frontDoor, totalWithoutFrontDoor: total };
}
