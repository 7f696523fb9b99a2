'use strict';
/**
 * The stage's alarms, generated from serverless.yml's `functions` section so that a function added
 * later is watched without anyone remembering to: errors and throttles for every function, the
 * iterator age of every stream consumer, the depth of both failure queues, and the API's 5xx
 * rate. All of them notify one SNS topic, which mails the stage's alarm email when it has one.
 * Thresholds come from the stage configuration (config/default.yml, section alarms).
 * docs/deploy.md says what each alarm means and what to do about it.
 */
const { resolveStageConfig } = require('./stage-config.cjs');

const FIVE_MINUTES = 300;

/** osls's logical id of a function: `outgoingWorker` -> `OutgoingWorkerLambdaFunction`. */
function functionLogicalId(name) {
  const normalized = name.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  return `${normalized[0].toUpperCase()}${normalized.slice(1)}LambdaFunction`;
}

function buildAlarmResources({ service, stage, functions }) {
  const config = resolveStageConfig(stage);
  const thresholds = config.alarms;
  const prefix = `${service}-${stage}`;
  const topic = { Ref: 'AlarmTopic' };
  const alarm = (name, description, properties) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${prefix}-${name}`,
      AlarmDescription: `${description} See docs/deploy.md, "Alarms".`,
      // OK notifications too, so whoever was woken up also learns when it is over.
      AlarmActions: [topic],
      OKActions: [topic],
      // No data means no traffic (or no failures): nothing to alarm about.
      TreatMissingData: 'notBreaching',
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      ...properties,
    },
  });
  const metric = (namespace, metricName, dimensions, statistic) => ({
    Namespace: namespace,
    MetricName: metricName,
    Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    Statistic: statistic,
    Period: FIVE_MINUTES,
  });
  const queueDepth = (queue) => metric('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: { 'Fn::GetAtt': [queue, 'QueueName'] } }, 'Maximum');

  const resources = {
    AlarmTopic: {
      Type: 'AWS::SNS::Topic',
      Properties: { TopicName: `${prefix}-alarms`, DisplayName: `Hookline ${stage} alarms` },
    },
    AlarmEmailSubscription: {
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: topic, Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } },
    },
    OutgoingDeadLetterQueueAlarm: alarm(
      'outgoing-dead-letters',
      'Outgoing webhook deliveries gave up after their last attempt and wait in the dead-letter queue.',
      { ...queueDepth('OutgoingDeadLetterQueue'), Threshold: 0 },
    ),
    DispatchFailureQueueAlarm: alarm(
      'dispatch-failures',
      'Posts whose outgoing webhooks could not be matched or enqueued were parked in the dispatch-failure queue.',
      { ...queueDepth('DispatchFailureQueue'), Threshold: 0 },
    ),
    Api5xxRateAlarm: alarm('api-5xx-rate', `More than ${thresholds.api5xxPercent}% of API requests answered 5xx over 5 minutes.`, {
      Threshold: thresholds.api5xxPercent,
      Metrics: [
        {
          Id: 'errors',
          MetricStat: { Metric: apiMetric('5xx'), Period: FIVE_MINUTES, Stat: 'Sum' },
          ReturnData: false,
        },
        {
          Id: 'requests',
          MetricStat: { Metric: apiMetric('Count'), Period: FIVE_MINUTES, Stat: 'Sum' },
          ReturnData: false,
        },
        {
          // A handful of requests is no rate: below the minimum count the alarm reads 0.
          Id: 'percent5xx',
          Label: '5xx responses (% of requests)',
          Expression: `IF(requests >= ${thresholds.api5xxMinimumRequests}, 100 * errors / requests, 0)`,
          ReturnData: true,
        },
      ],
    }),
  };

  for (const [name, definition] of Object.entries(functions)) {
    const logicalId = functionLogicalId(name);
    const dimensions = { FunctionName: { Ref: logicalId } };
    const alarmId = logicalId.replace(/LambdaFunction$/, '');
    resources[`${alarmId}ErrorsAlarm`] = alarm(`${name}-errors`, `The ${name} function failed (crashed or timed out) more than ${thresholds.functionErrors} times in 5 minutes.`, {
      ...metric('AWS/Lambda', 'Errors', dimensions, 'Sum'),
      Threshold: thresholds.functionErrors,
    });
    resources[`${alarmId}ThrottlesAlarm`] = alarm(`${name}-throttles`, `Lambda refused to run the ${name} function more than ${thresholds.functionThrottles} times in 5 minutes (concurrency exhausted).`, {
      ...metric('AWS/Lambda', 'Throttles', dimensions, 'Sum'),
      Threshold: thresholds.functionThrottles,
    });
    const readsAStream = (definition?.events ?? []).some((event) => event && event.stream);
    if (readsAStream) {
      resources[`${alarmId}IteratorAgeAlarm`] = alarm(
        `${name}-iterator-age`,
        `The ${name} function is more than ${thresholds.dispatcherIteratorAgeMs} ms behind its stream: ${name === 'liveEvents' ? 'live events reach clients late' : 'outgoing webhooks are late'}.`,
        { ...metric('AWS/Lambda', 'IteratorAge', dimensions, 'Maximum'), Threshold: thresholds.dispatcherIteratorAgeMs },
      );
    }
  }
  return {
    // A parameter, defaulting to the stage file's value, so that the condition tests a parameter rather than a constant.
    Parameters: {
      AlarmEmail: { Type: 'String', Default: config.alarms.email, Description: 'Email address subscribed to the alarm topic; empty for none (config alarms.email)' },
    },
    Conditions: { HasAlarmEmail: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlarmEmail' }, ''] }] } },
    Resources: resources,
  };
}

function apiMetric(metricName) {
  return { Namespace: 'AWS/ApiGateway', MetricName: metricName, Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] };
}

module.exports = {
  buildAlarmResources,
  functionLogicalId,
  /** serverless.yml: `resources: [..., ${file(./infra/aws/alarms.cjs):resources}]`. */
  resources: async ({ resolveVariable, resolveConfigurationProperty }) =>
    buildAlarmResources({
      service: await resolveVariable('self:service'),
      stage: await resolveVariable('sls:stage'),
      functions: await resolveConfigurationProperty(['functions']),
    }),
};
