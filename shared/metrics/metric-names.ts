/**
 * Where Portolan's metrics live and what they are called, in one place: the
 * handlers publish under these names (Powertools, EMF) and the CDK alarms and
 * dashboard read them back, so a rename cannot leave a graph or alarm silently
 * watching nothing.
 */

/** The CloudWatch namespace every function publishes to. */
export const metricsNamespace = 'Portolan';

/** Each function's service name: its logs' `service` key and its metrics' `service` dimension. */
export const serviceNames = {
  api: 'portolan-api',
  authorizer: 'portolan-authorizer',
  enrich: 'portolan-enrich',
  digest: 'portolan-digest',
  preToken: 'portolan-pretoken',
} as const;

export type ServiceName = (typeof serviceNames)[keyof typeof serviceNames];

/** Counted by the API function. */
export const apiMetrics = {
  /** One per entity created, changed or deleted. */
  catalogChanges: 'CatalogChanges',
  /** One per request answered 503 because DynamoDB was unreachable, timed out or throttled. */
  dependencyUnavailable: 'DependencyUnavailable',
} as const;

/** Counted by the enrich function, once per batch. */
export const enrichMetrics = {
  recordsIn: 'RecordsIn',
  recordsEnriched: 'RecordsEnriched',
  recordsPassedThrough: 'RecordsPassedThrough',
  recordsQuarantined: 'RecordsQuarantined',
  controlMessages: 'ControlMessages',
  /** Telemetry sources (not records) resolved to an owner. */
  sourcesOwned: 'SourcesOwned',
  /** Telemetry sources (not records) no service claims. */
  sourcesUnowned: 'SourcesUnowned',
  /** Telemetry sources (not records) left unresolved because the catalog could not be read. */
  sourcesUnresolved: 'SourcesUnresolved',
  unownedSourcesDropped: 'UnownedSourcesDropped',
  cacheHits: 'CacheHits',
  cacheMisses: 'CacheMisses',
  cacheHitRatio: 'CacheHitRatio',
  catalogReads: 'CatalogReads',
  catalogKeysOverBudget: 'CatalogKeysOverBudget',
  deliveryFailures: 'DeliveryFailures',
  otlpForwardFailures: 'OtlpForwardFailures',
} as const;

/** One metric per pass-through reason: `decompression-budget` → `PassedThroughDecompressionBudget`. */
export const passThroughMetric = (reason: string) =>
  `PassedThrough${reason.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;
