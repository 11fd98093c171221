/**
 * Which `ownership.*` attributes the enricher stamps. Every attribute is bytes
 * on every record, paid for on the output stream (Kinesis bills each record
 * rounded up to the next KB) and by every consumer, so a deployment chooses:
 *
 * - `minimal`: what tells a consumer whose a record is and how that was decided.
 * - `standard`: also what routing an alert or an incident needs on the record
 *   itself: the team's name and contacts, the tier, the environment, the runbook.
 * - `full` (the default): every attribute the catalog has for the source.
 * - or an explicit list of attribute names.
 *
 * Whatever is chosen, a producer's own `ownership.*` attributes are removed
 * (the decoders drop every key with the prefix), so an attribute left out is
 * absent from the output, never the producer's value.
 */

/** Every attribute resolution stamps, in the order it stamps them. */
export const ownershipAttributeNames = [
  'ownership.status',
  'ownership.match',
  'ownership.service',
  'ownership.service.name',
  'ownership.team',
  'ownership.team.name',
  'ownership.contact.slack',
  'ownership.contact.email',
  'ownership.contact.oncall',
  'ownership.repository',
  'ownership.repository.url',
  'ownership.tier',
  'ownership.lifecycle',
  'ownership.runbook.url',
  'ownership.data_classification',
  'ownership.compliance_scopes',
  'ownership.environment',
  'ownership.cloud.account.id',
] as const;
export type OwnershipAttributeName = (typeof ownershipAttributeNames)[number];

const minimal: readonly OwnershipAttributeName[] = [
  'ownership.status',
  'ownership.team',
  'ownership.service',
  'ownership.match',
];

export const ownershipAttributeLevels = {
  minimal,
  standard: [
    ...minimal,
    'ownership.team.name',
    'ownership.contact.oncall',
    'ownership.contact.slack',
    'ownership.tier',
    'ownership.environment',
    'ownership.runbook.url',
  ],
  full: ownershipAttributeNames,
} as const satisfies Record<string, readonly OwnershipAttributeName[]>;
export type OwnershipAttributeLevel = keyof typeof ownershipAttributeLevels;

/** A deployment's choice: a level, or the attribute names themselves. */
export type OwnershipAttributes = OwnershipAttributeLevel | readonly OwnershipAttributeName[];

const isLevel = (value: string): value is OwnershipAttributeLevel =>
  Object.hasOwn(ownershipAttributeLevels, value);
const known: ReadonlySet<string> = new Set(ownershipAttributeNames);

/**
 * The attributes to stamp, checked: undefined means all of them (`full`, so
 * an attribute resolution gains later is stamped too). An unknown level or
 * name, or an empty list, throws an error that names `setting`.
 */
export function stampedAttributeSet(
  choice: string | readonly string[],
  setting: string,
): ReadonlySet<string> | undefined {
  const refuse = (why: string) =>
    new Error(
      `${setting} must be minimal, standard, full or a list of ownership.* attribute names (${ownershipAttributeNames.join(', ')}): ${why}`,
    );
  if (choice === 'full') return undefined;
  if (typeof choice === 'string' && isLevel(choice)) return new Set(ownershipAttributeLevels[choice]);
  // Also reached by a setting read from configuration, whatever its type.
  if (!Array.isArray(choice)) throw refuse(`${JSON.stringify(choice)} is neither a level nor a list`);
  if (choice.length === 0) throw refuse('the list is empty');
  const unknown = choice.filter((name) => typeof name !== 'string' || !known.has(name));
  if (unknown.length > 0) throw refuse(`unknown ${unknown.map((name) => JSON.stringify(name)).join(', ')}`);
  return new Set(choice);
}

/**
 * The choice as one line of text (an environment variable, a CDK context
 * value): a level, or names separated by commas.
 */
export const ownershipAttributesText = (choice: string | readonly string[]) =>
  typeof choice === 'string' ? choice : choice.join(',');

/** Text from `ownershipAttributesText` (or typed by an operator) back to a level or a list. */
export function parseOwnershipAttributesText(text: string): string | string[] {
  const trimmed = text.trim();
  if (isLevel(trimmed) || !/[.,]/.test(trimmed)) return trimmed;
  return trimmed.split(',').map((name) => name.trim());
}

/** `attributes` with only the `kept` ones; the same object when all are kept. */
export function keepStamped(
  attributes: Record<string, string>,
  kept: ReadonlySet<string> | undefined,
): Record<string, string> {
  if (!kept) return attributes;
  const stamped: Record<string, string> = {};
  for (const name in attributes) if (kept.has(name)) stamped[name] = attributes[name] as string;
  return stamped;
}
