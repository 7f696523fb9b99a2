/**
 * Business metrics as CloudWatch embedded metric format (EMF): each one is a JSON line on stdout
 * that CloudWatch Logs turns into a metric, so publishing costs no request and no IAM permission.
 * Namespace `Hookline` (POWERTOOLS_METRICS_NAMESPACE), dimension `service`, plus the one dimension
 * that each metric names below. POWERTOOLS_METRICS_DISABLED=true silences them (tests, npm start).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Where a post came from: the paths that create posts. */
export type PostSource =
  | 'incoming_webhook'
  | 'user'
  | 'command'
  | 'command_response_url'
  | 'outgoing_reply'
  /** Answers for one user: command answers and action `ephemeral_text`. */
  | 'ephemeral';

/** What one attempt of an outgoing delivery came to. */
export type DeliveryOutcome = 'succeeded' | 'retried' | 'dead_lettered' | 'gone' | 'skipped';

export interface BusinessMetrics {
  /** `PostsCreated` (Count), dimension `source`. */
  postsCreated(source: PostSource, count: number): void;
  /** `DeliveryAttempts` (Count), dimension `outcome`, and `DeliveryLatency` (ms) when a callback answered. */
  deliveryAttempt(outcome: DeliveryOutcome, latencyMs?: number): void;
  /** `IntegrationCalls` (Count) and `IntegrationLatency` (ms), dimension `kind` (command or action) and `outcome`. */
  integrationCall(kind: 'command' | 'action' | 'dialog', outcome: 'answered' | 'failed', latencyMs: number): void;
}

export const METRICS_NAMESPACE = 'Hookline';

export function createBusinessMetrics(metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hookline' })): BusinessMetrics {
  // One line per event: a request emits a few at most, and a metric never waits for a flush that a
  // crashed or timed-out invocation would skip.
  // (Synchronous from add to publish, so concurrent requests of one process cannot mix dimensions.)
  const emit = (dimensions: Record<string, string>, values: Array<[name: string, unit: Unit, value: number]>) => {
    metrics.addDimensions(dimensions);
    for (const [name, unit, value] of values) metrics.addMetric(name, unit, value);
    metrics.publishStoredMetrics();
  };
  return {
    postsCreated: (source, count) => emit({ source }, [['PostsCreated', MetricUnit.Count, count]]),
    deliveryAttempt: (outcome, latencyMs) =>
      emit({ outcome }, [
        ['DeliveryAttempts', MetricUnit.Count, 1],
        ...(latencyMs === undefined ? [] : [['DeliveryLatency', MetricUnit.Milliseconds, latencyMs] as [string, Unit, number]]),
      ]),
    integrationCall: (kind, outcome, latencyMs) =>
      emit({ kind, outcome }, [
        ['IntegrationCalls', MetricUnit.Count, 1],
        ['IntegrationLatency', MetricUnit.Milliseconds, latencyMs],
      ]),
  };
}
