/**
 * The catalog and the append-only audit log: two DynamoDB tables built from
 * `shared/store/table-definitions.ts` (the same definitions the local stack
 * creates its tables from), with point-in-time recovery, deletion protection,
 * encryption and on-demand billing.
 *
 * The audit table is append-only by construction: `grantAppend` gives a role
 * `PutItem` and reads on it — never `UpdateItem`, `DeleteItem`, `BatchWriteItem`,
 * PartiQL writes or table changes — and adds an explicit deny of those, so no
 * later grant can open them by accident. Overwriting an event is also refused
 * by the store's `attribute_not_exists(seq)` condition.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, type ITableV2, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { auditTable, catalogTable, partitions, type TableDefinition } from '#shared/store/table-definitions';

export const auditWriteActionsDenied = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
  'dynamodb:PartiQLInsert',
  'dynamodb:DeleteTable',
  'dynamodb:UpdateTable',
  'dynamodb:RestoreTableToPointInTime',
  'dynamodb:UpdateTimeToLive',
];

const keyType = (type: 'S' | 'N') => (type === 'S' ? AttributeType.STRING : AttributeType.NUMBER);

function tableFrom(scope: Construct, definition: TableDefinition): TableV2 {
  return new TableV2(scope, definition.id, {
    partitionKey: { name: definition.partitionKey.name, type: keyType(definition.partitionKey.type) },
    sortKey: { name: definition.sortKey.name, type: keyType(definition.sortKey.type) },
    billing: Billing.onDemand(),
    ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
    // AWS managed key (aws/dynamodb): encrypted at rest with key use visible in CloudTrail,
    // without a customer key's cost and grants for every reader.
    encryption: TableEncryptionV2.awsManagedKey(),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

export class DataTables extends Construct {
  /** Teams, services, repositories, environments, policies, unowned and observed sources (pk = kind, sk = id). */
  readonly catalog: ITableV2;
  /** The hash-chained audit log (pk = entity, sk = seq). Append-only. */
  readonly audit: ITableV2;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.catalog = tableFrom(this, catalogTable);
    this.audit = tableFrom(this, auditTable);
  }

  /** Reads and transactional writes of catalog items (the API). */
  grantCatalogReadWrite(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:ConditionCheckItem',
        ],
        resources: [this.catalog.tableArn],
      }),
    );
  }

  /** Appending audit events and reading them back; every other write explicitly denied. */
  grantAppend(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'],
        resources: [this.audit.tableArn],
      }),
    );
    this.denyAuditChanges(grantee);
  }

  /** An explicit deny of changing or deleting audit events, for every role of the stack. */
  denyAuditChanges(grantee: IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.DENY,
        actions: auditWriteActionsDenied,
        resources: [this.audit.tableArn],
      }),
    );
  }

  /** The enricher: read the catalog, and upsert only `unowned` and `observed` items (the leading key). */
  grantEnrichment(grantee: IGrantable): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [this.catalog.tableArn],
      }),
    );
    principal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.catalog.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [partitions.unowned, partitions.observed] },
        },
      }),
    );
  }
}
