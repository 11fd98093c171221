/**
 * The four catalog kinds, how they appear in URLs and in policy actions, and the
 * references between them (what must exist before an entity may point at it).
 */
import type { z } from 'zod';
import * as schemas from '#shared/catalog/entity-schemas';

export const entityKinds = ['team', 'service', 'repository', 'environment'] as const;
export type EntityKind = (typeof entityKinds)[number];

export interface KindInfo {
  kind: EntityKind;
  /** Collection segment in `/v1/<plural>/{id}`. */
  plural: string;
  /** Noun in policy actions: `catalog:Put<Noun>`. */
  noun: string;
  schema: z.ZodType;
  /** The id's own schema, to validate ids arriving in paths. */
  idSchema: z.ZodType<string>;
}

export const kinds: Record<EntityKind, KindInfo> = {
  team: { kind: 'team', plural: 'teams', noun: 'Team', schema: schemas.team, idSchema: schemas.slugId },
  service: {
    kind: 'service',
    plural: 'services',
    noun: 'Service',
    schema: schemas.service,
    idSchema: schemas.slugId,
  },
  repository: {
    kind: 'repository',
    plural: 'repositories',
    noun: 'Repository',
    schema: schemas.repository,
    idSchema: schemas.repositoryId,
  },
  environment: {
    kind: 'environment',
    plural: 'environments',
    noun: 'Environment',
    schema: schemas.environment,
    idSchema: schemas.slugId,
  },
};

export const kindByPlural = new Map(Object.values(kinds).map((k) => [k.plural, k]));

export type EntityDocument = schemas.Team | schemas.Service | schemas.Repository | schemas.Environment;

/** An entity reference in the product's words: `service/checkout`, `repository/github.com/acme/checkout`. */
export type EntityRef = `${EntityKind}/${string}`;
export const entityRef = (kind: EntityKind, id: string): EntityRef => `${kind}/${id}`;

/** The entities a document points at; each must exist when it is written, and blocks its deletion. */
export function referencesOf(kind: EntityKind, doc: Record<string, unknown>): EntityRef[] {
  const refs: EntityRef[] = [];
  const add = (k: EntityKind, id: unknown) => {
    if (typeof id === 'string') refs.push(entityRef(k, id));
  };
  switch (kind) {
    case 'team':
      add('team', doc.parent);
      break;
    case 'service':
      add('team', doc.team);
      add('repository', doc.repository);
      for (const env of (doc.environments as string[] | undefined) ?? []) add('environment', env);
      break;
    case 'repository':
      add('team', doc.team);
      break;
    case 'environment':
      break;
  }
  return [...new Set(refs)];
}
