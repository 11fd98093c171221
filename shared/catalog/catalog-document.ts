/**
 * Portolan's catalog document: several entities in one file (YAML or JSON),
 * optionally for one scope — the repository whose CI declares them, which is
 * what `prune` may delete from. Validated with the entity schemas the API
 * uses; the published JSON Schema (`portolan-catalog.schema.json`) is
 * generated from this same definition.
 */
import { z } from 'zod';
import { type EntityKind, entityKinds, kinds } from '#shared/catalog/entity-kinds';
import { repositoryId } from '#shared/catalog/entity-schemas';

const entityOf = <K extends EntityKind>(kind: K) =>
  (kinds[kind].schema as z.ZodObject).extend({ kind: z.literal(kind) });

export const documentEntity = z.discriminatedUnion(
  'kind',
  entityKinds.map(entityOf) as unknown as [ReturnType<typeof entityOf>, ...ReturnType<typeof entityOf>[]],
);

export const catalogDocument = z.strictObject({
  $schema: z.string().optional(),
  apiVersion: z.literal('portolan/v1'),
  /** What the document speaks for: `prune` deletes only within it. */
  scope: z.strictObject({ repository: repositoryId }).optional(),
  entities: z.array(documentEntity).max(500),
});

export type CatalogDocument = z.infer<typeof catalogDocument>;
export type DocumentEntity = z.infer<typeof documentEntity> & { kind: EntityKind; id: string };

/** The JSON Schema editors use for completion, from the same zod definition. */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(catalogDocument, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>),
    $id: 'https://portolan.dev/schemas/portolan-catalog.schema.json',
    title: 'Portolan catalog document',
  };
}
