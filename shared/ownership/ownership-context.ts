/** The `ownership.*` attributes Portolan stamps on telemetry (docs/enrichment.md, "Resolution": the contract consumers read). */

/** Attribute values as resolution sees them: strings, or string lists (e.g. `aws.log.group.names`). */
export type SourceAttributes = Record<string, string | string[]>;

export type OwnershipStatus = 'owned' | 'unowned' | 'unresolved';

/** How a record was matched: `service.name`, or the selector that won. */
export interface OwnershipMatch {
  rule: 'service.name' | 'selector' | 'none';
  service?: string;
  attribute?: string;
  match?: 'exact' | 'prefix' | 'glob';
  value?: string;
  environment?: string;
}

export interface OwnershipResult {
  status: OwnershipStatus;
  match: OwnershipMatch;
  /** Flat `ownership.*` attributes, ready to stamp. */
  attributes: Record<string, string>;
}

export const ownershipPrefix = 'ownership.';

/** `ownership.match` as one string: `service.name`, `selector:k8s.namespace.name:prefix:payments-`, `none`. */
export function describeMatch(match: OwnershipMatch): string {
  if (match.rule === 'selector') return `selector:${match.attribute}:${match.match}:${match.value}`;
  return match.rule;
}
