/**
 * Portolan watching itself: alarms on what loses or delays telemetry (iterator
 * age, function errors and throttles, batches on the failure queue), on API
 * 5xx and on the API's DynamoDB being unavailable (its requests answered 503), sent to an encrypted SNS topic (optionally to an e-mail address), and a
 * dashboard with the same signals.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { dependencyUnavailableMetric } from '#shared/http/dependency-outage';

export interface ObservabilityProps {
  functions: { api: IFunction; authorizer: IFunction; enrich: IFunction };
  httpApi: HttpApi;
  failedBatches: IQueue;
  /** Where alarms are e-mailed. @default no subscription: subscribe to the topic yourself */
  alarmEmail?: string;
  /** Iterator age that means enrichment is falling behind. @default 1 minute */
  maxIteratorAge?: Duration;
}

export class Observability extends Construct {
  readonly alarmTopic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.alarmTopic = new Topic(this, 'Alarms', {
      displayName: 'Portolan alarms',
      masterKey: new Key(this, 'AlarmsKey', { description: 'Portolan alarm topic', enableKeyRotation: true }),
      enforceSSL: true,
    });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.alarmTopic);
    const alarm = (name: string, metric: IMetric, threshold: number, description: string) => {
      const created = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
    };

    const { api, authorizer, enrich } = props.functions;
    const period = Duration.minutes(1);
    const iteratorAge = enrich.metric('IteratorAge', { statistic: 'Maximum', period });
    alarm(
      'IteratorAge',
      iteratorAge,
      (props.maxIteratorAge ?? Duration.minutes(1)).toMilliseconds(),
      'Enrichment is falling behind the input stream',
    );
    for (const [name, fn] of Object.entries({ Api: api, Authorizer: authorizer, Enrich: enrich })) {
      alarm(`${name}Errors`, fn.metricErrors({ period }), 0, `The ${name} function is failing invocations`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period }), 0, `The ${name} function is throttled`);
    }
    const failedDepth = props.failedBatches.metricApproximateNumberOfMessagesVisible({ period });
    alarm(
      'FailedBatches',
      failedDepth,
      0,
      'Telemetry batches exhausted their retries: replay them (docs/operations.md, "Replaying a failed batch")',
    );
    const serverErrors = props.httpApi.metricServerError({ period });
    alarm('Api5xx', serverErrors, 0, 'The catalog API answered 5xx');
    // Counted by the API function (EMF) for each request answered 503 because DynamoDB could
    // not be reached, timed out or throttled: names the cause that Api5xx only shows as a number.
    const dependencyUnavailable = new Metric({
      namespace: 'Portolan',
      metricName: dependencyUnavailableMetric,
      statistic: 'Sum',
      period,
      dimensionsMap: { service: 'portolan-api' },
    });
    alarm(
      'ApiDependencyUnavailable',
      dependencyUnavailable,
      0,
      'The catalog API cannot reach DynamoDB (unreachable, timing out or throttled): requests are answered 503',
    );

    const enriched = (name: string) =>
      new Metric({
        namespace: 'Portolan',
        metricName: name,
        statistic: 'Sum',
        period,
        dimensionsMap: { service: 'portolan-enrich' },
      });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new GraphWidget({
            title: 'Enrichment: records',
            left: [
              'RecordsIn',
              'RecordsEnriched',
              'RecordsPassedThrough',
              'RecordsUnowned',
              'RecordsUnresolved',
            ].map(enriched),
          }),
          new GraphWidget({
            title: 'Enrichment: catalog cache hit ratio',
            left: [
              new MathExpression({
                expression: 'hits / (hits + misses)',
                usingMetrics: { hits: enriched('CacheHits'), misses: enriched('CacheMisses') },
                label: 'hit ratio',
                period,
              }),
            ],
          }),
          new GraphWidget({ title: 'Iterator age (ms)', left: [iteratorAge] }),
        ],
        [
          new GraphWidget({
            title: 'Function errors',
            left: [api, authorizer, enrich].map((fn) => fn.metricErrors({ period })),
          }),
          new GraphWidget({
            title: 'Function throttles',
            left: [api, authorizer, enrich].map((fn) => fn.metricThrottles({ period })),
          }),
          new GraphWidget({
            title: 'API: requests and 5xx',
            left: [props.httpApi.metricCount({ period }), serverErrors, dependencyUnavailable],
          }),
          new GraphWidget({ title: 'Failed batches waiting', left: [failedDepth] }),
        ],
      ],
    });
  }
}
