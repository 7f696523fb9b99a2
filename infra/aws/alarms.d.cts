/** Types of alarms.cjs, for the tests. */
export interface AlarmTemplate {
  Parameters: Record<string, { Type: string; Default: string; Description: string }>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, any> }>;
}

export declare function functionLogicalId(name: string): string;
export declare function buildAlarmResources(options: {
  service: string;
  stage: string;
  functions: Record<string, { events?: Array<Record<string, unknown>> } | null>;
}): AlarmTemplate;
