/**
 * The telemetry path: producers → input stream → enrich function → output
 * stream (and optionally an OTLP/HTTP endpoint). The input stream is created
 * (on-demand, encrypted with the AWS managed key, 7 days of retention so failed
 * batches can be replayed) or adopted by ARN. Batches that exhausted their
 * retries leave their shard and sequence range in an encrypted SQS queue.
 * Records the enricher cannot stamp go to the output stream as they came
 * (`passthrough`), or to a quarantine stream (`quarantine`).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { type CfnStream, type IStream, Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { Key } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { DataTables } from '#infra/constructs/data-tables';
import { PortolanFunction } from '#infra/constructs/portolan-function';
import {
  checkDuration,
  checkOneOf,
  checkRequires,
  checkUrl,
  checkWholeNumber,
} from '#infra/constructs/prop-checks';
import { serviceNames } from '#shared/metrics/metric-names';
import {
  type OwnershipAttributes,
  ownershipAttributesText,
  stampedAttributeSet,
} from '#shared/ownership/stamped-attributes';
import { type InputFormat, inputFormats } from '#shared/telemetry/record-codec';

/**
 * The enrich function's memory. It also sizes each invocation's
 * decompression budget (the function reads it back as
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE); the bomb test runs at this heap size.
 */
export const enrichMemoryMiB = 1024;

export interface IngestPipelineProps {
  /** The catalog the enrich function reads (and whose `unowned` items it updates). */
  readonly tables: DataTables;
  /** Adopt this stream instead of creating one. @default a new on-demand stream */
  readonly inputStreamArn?: string;
  /** The adopted stream's KMS key, when it uses a customer managed key; only with `inputStreamArn`. */
  readonly inputStreamKeyArn?: string;
  /** Concurrent batches per shard, 1-10. @default 1 (keeps per-shard order) */
  readonly parallelizationFactor?: number;
  /** Records per invocation, 1-10000. @default 10000 (the benchmarks' full batch) */
  readonly batchSize?: number;
  /** How long the catalog is cached in a warm function, whole seconds up to a day. @default 60 seconds */
  readonly cacheTtl?: Duration;
  /** `auto`, or a fixed input format for protobuf streams (`otlp-proto-traces`, ...). @default auto */
  readonly inputFormat?: InputFormat;
  /** Also forward enriched OTLP to this OTLP/HTTP endpoint (https). @default no forwarding */
  readonly otlpEndpoint?: string;
  /** The secret holding its access token; only with `otlpEndpoint`. @default a new, empty secret when otlpEndpoint is set */
  readonly otlpTokenSecretArn?: string;
  /** Retention of the enrich function's logs. @default one month */
  readonly logRetention?: RetentionDays;
  /**
   * Records the enricher does not stamp (undecodable, over the record size,
   * past the decompression limits, partly unreadable): `passthrough` writes
   * them to the output stream unchanged (counted); `quarantine` writes them to
   * a stream of their own instead, so the output carries only records
   * Portolan vouches for (a producer's own `ownership.*` included).
   * @default passthrough
   */
  readonly unvouchedRecords?: 'passthrough' | 'quarantine';
  /**
   * Maximum record size of the streams this creates, in KiB (Kinesis allows
   * 1024-10240); the enricher passes through a record it would enrich past it.
   * @default 1024
   */
  readonly maxRecordSizeKiB?: number;
  /**
   * The `ownership.*` attributes stamped on each record: `minimal` (status,
   * team, service, match), `standard` (also the team's name, on-call and
   * Slack contacts, tier, environment, runbook), `full`, or a list of names.
   * Fewer attributes, fewer bytes out; a producer's own `ownership.*` is
   * removed whatever the choice.
   * @default full
   */
  readonly ownershipAttributes?: OwnershipAttributes;
}

/** Refuses props CloudFormation or the enrich function would refuse later, naming the prop. */
function checkIngestProps(props: IngestPipelineProps): void {
  const construct = 'IngestPipeline';
  checkWholeNumber(construct, 'parallelizationFactor', props.parallelizationFactor, 1, 10);
  checkWholeNumber(construct, 'batchSize', props.batchSize, 1, 10_000);
  checkDuration(construct, 'cacheTtl', props.cacheTtl, 'seconds', 0, 86_400);
  checkOneOf(construct, 'inputFormat', props.inputFormat, inputFormats);
  checkUrl(construct, 'otlpEndpoint', props.otlpEndpoint);
  checkRequires(
    construct,
    'otlpTokenSecretArn',
    props.otlpTokenSecretArn,
    'otlpEndpoint',
    props.otlpEndpoint,
  );
  checkRequires(
    construct,
    'inputStreamKeyArn',
    props.inputStreamKeyArn,
    'inputStreamArn',
    props.inputStreamArn,
  );
  checkOneOf(construct, 'unvouchedRecords', props.unvouchedRecords, ['passthrough', 'quarantine']);
  checkWholeNumber(construct, 'maxRecordSizeKiB', props.maxRecordSizeKiB, 1024, 10_240);
}

export class IngestPipeline extends Construct {
  readonly inputStream: IStream;
  readonly outputStream: Stream;
  readonly enrichFunction: PortolanFunction;
  readonly failedBatches: Queue;
  readonly otlpTokenSecret?: ISecret;
  /** With `unvouchedRecords: 'quarantine'`: where records Portolan did not stamp go. */
  readonly quarantineStream?: Stream;

  constructor(scope: Construct, id: string, props: IngestPipelineProps) {
    super(scope, id);
    const retention = Duration.days(7);
    checkIngestProps(props);
    const maxRecordSizeKiB = props.maxRecordSizeKiB ?? 1024;
    const ownershipAttributes = props.ownershipAttributes ?? 'full';
    stampedAttributeSet(ownershipAttributes, 'ownershipAttributes');
    /** The record size on a stream this creates; left to Kinesis's default (1 MiB) unless set. */
    const sized = (stream: Stream) => {
      if (props.maxRecordSizeKiB !== undefined)
        (stream.node.defaultChild as CfnStream).maxRecordSizeInKiB = maxRecordSizeKiB;
      return stream;
    };
    this.inputStream = props.inputStreamArn
      ? Stream.fromStreamAttributes(this, 'InputStream', {
          streamArn: props.inputStreamArn,
          ...(props.inputStreamKeyArn
            ? { encryptionKey: Key.fromKeyArn(this, 'InputKey', props.inputStreamKeyArn) }
            : {}),
        })
      : sized(
          new Stream(this, 'InputStream', {
            streamMode: StreamMode.ON_DEMAND,
            // The AWS managed key (aws/kinesis): encrypted at rest, no key policy to keep, no KMS grants.
            encryption: StreamEncryption.MANAGED,
            retentionPeriod: retention,
          }),
        );
    this.outputStream = sized(
      new Stream(this, 'OutputStream', {
        streamMode: StreamMode.ON_DEMAND,
        encryption: StreamEncryption.MANAGED,
        retentionPeriod: retention,
      }),
    );
    if (props.unvouchedRecords === 'quarantine')
      // Read back with `npm run replay -- --stream <name>` once a record is judged safe (or dropped by retention).
      this.quarantineStream = sized(
        new Stream(this, 'QuarantineStream', {
          streamMode: StreamMode.ON_DEMAND,
          encryption: StreamEncryption.MANAGED,
          retentionPeriod: retention,
        }),
      );
    this.failedBatches = new Queue(this, 'FailedBatches', {
      encryption: QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failedBatches).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the Kinesis event source mapping (batches that exhausted their retries); its messages are replayed with `npm run replay` and alarmed on, so a further DLQ would add nothing.',
    });

    if (props.otlpEndpoint) {
      this.otlpTokenSecret = props.otlpTokenSecretArn
        ? Secret.fromSecretCompleteArn(this, 'OtlpToken', props.otlpTokenSecretArn)
        : new Secret(this, 'OtlpToken', {
            description: 'Portolan: access token of the OTLP/HTTP forwarding endpoint (set it after deploy)',
          });
      if (this.otlpTokenSecret instanceof Secret)
        Validations.of(this.otlpTokenSecret).acknowledge({
          id: 'AwsSolutions::AwsSolutions-SMG4',
          reason:
            "The token is issued by the telemetry vendor (e.g. a Cloud Observability access token); only the vendor can mint a new one, so rotation is the vendor's procedure followed by put-secret-value, not a rotation Lambda.",
        });
    }

    this.enrichFunction = new PortolanFunction(this, 'Enrich', {
      entry: 'functions/enrich/handler.ts',
      serviceName: serviceNames.enrich,
      description: 'Portolan telemetry enrichment',
      // 1024 MB: a 6 MB batch peaks at ~165-250 MB RSS (bench/enrich), so memory is not the limit; CPU
      // is (decode/encode, 35k-300k records/s per full core by format), and Lambda's CPU share scales with memory.
      memorySize: enrichMemoryMiB,
      // A full batch enriches in well under a second of CPU; the rest is bounded PutRecords retries.
      timeout: Duration.minutes(2),
      environment: {
        CATALOG_TABLE: props.tables.catalog.tableName,
        OUTPUT_STREAM: this.outputStream.streamName,
        CACHE_TTL_SECONDS: String((props.cacheTtl ?? Duration.seconds(60)).toSeconds()),
        INPUT_FORMAT: props.inputFormat ?? 'auto',
        MAX_RECORD_BYTES: String(maxRecordSizeKiB * 1024),
        UNVOUCHED_RECORDS: props.unvouchedRecords ?? 'passthrough',
        OWNERSHIP_ATTRIBUTES: ownershipAttributesText(ownershipAttributes),
        ...(this.quarantineStream ? { QUARANTINE_STREAM: this.quarantineStream.streamName } : {}),
        ...(props.otlpEndpoint ? { OTLP_ENDPOINT: props.otlpEndpoint } : {}),
        ...(this.otlpTokenSecret ? { OTLP_TOKEN_SECRET_ARN: this.otlpTokenSecret.secretArn } : {}),
      },
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
    props.tables.grantEnrichment(this.enrichFunction);
    props.tables.denyAuditChanges(this.enrichFunction);
    this.outputStream.grantWrite(this.enrichFunction);
    this.quarantineStream?.grantWrite(this.enrichFunction);
    this.otlpTokenSecret?.grantRead(this.enrichFunction);

    this.enrichFunction.addEventSource(
      new KinesisEventSource(this.inputStream, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? 10_000,
        maxBatchingWindow: Duration.seconds(1),
        parallelizationFactor: props.parallelizationFactor ?? 1,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 10,
        // Within the stream's retention, so an exhausted batch can still be replayed from it.
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(this.failedBatches),
      }),
    );
  }
}
