/** Types of stage-config.cjs, for the local stack and the tests. */
type CfnExpression = Record<string, unknown>;

export interface StageConfig {
  settings: Record<string, string | number | boolean | null>;
  api: {
    throttling: { rateLimit: number; burstLimit: number };
    frontDoor: boolean;
    domain: { name: string | null; certificateArn: string | null; hostedZoneId: string | null };
  };
  stream: { maximumRecordAgeSeconds: number };
  alarms: {
    email: string | null;
    functionErrors: number;
    functionThrottles: number;
    dispatcherIteratorAgeMs: number;
    api5xxPercent: number;
    api5xxMinimumRequests: number;
  };
}

export interface ResolvedStageConfig extends Omit<StageConfig, 'settings'> {
  stage: string;
  settings: Record<string, string>;
  api: StageConfig['api'] & { domain: { name: string; certificateArn: string; hostedZoneId: string } };
  alarms: StageConfig['alarms'] & { email: string };
  apiUrl: string | CfnExpression;
  siteUrl: string | CfnExpression;
  websocketUrl: string | CfnExpression;
  parameters: { frontDoor: 'true' | 'false' };
}

export declare const configDir: string;
/** `directory` defaults to the repository's config/. */
export declare function loadStageConfig(stage: string, directory?: string): StageConfig;
export declare function resolveStageConfig(stage: string, directory?: string): ResolvedStageConfig;
