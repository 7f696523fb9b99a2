/** Types of front-door.cjs, for the tests. */
export interface FrontDoorTemplate {
  Resources: Record<string, { Type: string; Condition: string; Properties: Record<string, any> }>;
  Outputs: Record<string, { Condition: string; Description: string; Value: unknown }>;
}

export declare const CACHING_DISABLED_POLICY_ID: string;
export declare const ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID: string;
export declare function websocketPathFunctionCode(stage: string): string;
export declare function buildFrontDoorResources(options: { stage: string }): FrontDoorTemplate;
