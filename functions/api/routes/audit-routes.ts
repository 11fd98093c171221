/**
 * `/v1/audit` (an entity's events, newest first), `/v1/audit/verify` (its
 * chain, head and digest attestations), `/v1/audit/digests` (the signed digests
 * and their public keys) and `/v1/audit/heads` (every entity's head).
 */
import type { ApiDeps, ApiRoute } from '#functions/api/api-deps';
import { pageRequest, requiredQuery } from '#functions/api/request-parsing';
import { type DigestStore, digestPage, publishedPublicKeys } from '#shared/audit/digest-archive';
import { type DigestEvidence, verifyEntity } from '#shared/audit/verify-entity';
import { type EntityRef, kinds } from '#shared/catalog/entity-kinds';
import { slugId } from '#shared/catalog/entity-schemas';
import { jsonResponse } from '#shared/http/json-response';
import { problems } from '#shared/http/problem';
import type { ApiEvent } from '#shared/http/require-principal';
import type { CatalogStore, StoredKind } from '#shared/store/catalog-store';
import { representation } from '#shared/store/dynamodb-catalog-store';
import { decodeCursor, encodeCursor } from '#shared/store/page-cursor';

type AuditedRef = EntityRef | `policy/${string}`;

/** How many of the newest digests `/v1/audit/verify` reads; the offline verifier reads all. */
export const defaultDigestWindow = 48;

/** `?entity=service/checkout`: a kind the log audits and a valid id of that kind. */
function entityParam(event: ApiEvent): AuditedRef {
  const value = requiredQuery(event, 'entity', 'service/checkout');
  const slash = value.indexOf('/');
  const kind = value.slice(0, slash);
  const id = value.slice(slash + 1);
  const idSchema = kind === 'policy' ? slugId : kinds[kind as keyof typeof kinds]?.idSchema;
  if (slash < 0 || !idSchema) {
    throw problems.badRequest(
      `entity must be <kind>/<id> with kind one of team, service, repository, environment, policy (got "${value}")`,
    );
  }
  if (!idSchema.safeParse(id).success) throw problems.badRequest(`"${id}" is not a valid ${kind} id`);
  return value as AuditedRef;
}

async function currentItem(store: CatalogStore, entity: AuditedRef) {
  const slash = entity.indexOf('/');
  const stored = await store.get(entity.slice(0, slash) as StoredKind, entity.slice(slash + 1));
  return stored ? representation(stored) : null;
}

/** The newest `window` digests (oldest first) and the one before them, to check the first link. */
async function recentDigests(archive: DigestStore, window: number): Promise<DigestEvidence> {
  const [page, publicKeys] = await Promise.all([
    digestPage(archive, { limit: window + 1 }),
    publishedPublicKeys(archive),
  ]);
  const newestFirst = page.digests;
  const before = newestFirst.length > window ? newestFirst[window] : undefined;
  return {
    digests: newestFirst.slice(0, window).reverse(),
    ...(before ? { before } : {}),
    publicKeys,
    unreadable: page.unreadable,
  };
}

/** A digest cursor is the last key of the previous page, opaque to the client. */
function digestCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor, 'string');
  if (!/^digests\/\d{10}\.json$/.test(key)) throw problems.badRequest('cursor is not one this API returned');
  return key;
}

export const auditRoutes = ({ store, access, digests, digestWindow }: ApiDeps): ApiRoute[] => [
  {
    method: 'GET',
    path: '/v1/audit',
    handler: async (event, { principal }) => {
      const entity = entityParam(event);
      await access.require(principal, 'audit:ReadEvents', `audit/${entity}`);
      // A policy's events carry its statements: reading them is reading the policy.
      if (entity.startsWith('policy/')) await access.require(principal, 'policy:GetPolicy', entity);
      const page = await store.auditEvents(entity, pageRequest(event));
      return jsonResponse(200, page);
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    handler: async (event, { principal }) => {
      const entity = entityParam(event);
      await access.require(principal, 'audit:VerifyChain', `audit/${entity}`);
      const [events, head, current, evidence] = await Promise.all([
        store.auditChain(entity),
        store.auditHead(entity),
        currentItem(store, entity),
        digests && recentDigests(digests, digestWindow ?? defaultDigestWindow),
      ]);
      const attested = evidence?.digests.some((d) => d.heads.some((h) => h.entity === entity));
      if (events.length === 0 && !head && !current && !attested) {
        throw problems.notFound(`${entity} has no audit events, no head and no digest attesting it`);
      }
      return jsonResponse(
        200,
        verifyEntity({ entity, events, head, current, ...(evidence ? { digests: evidence } : {}) }),
      );
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/digests',
    handler: async (event, { principal }) => {
      await access.require(principal, 'audit:ListDigests', 'audit/digests');
      if (!digests) throw problems.notFound('this deployment keeps no digest archive');
      const { limit, cursor } = pageRequest(event, 20, 100);
      const after = digestCursor(cursor);
      const [page, publicKeys] = await Promise.all([
        digestPage(digests, { limit, ...(after ? { cursor: after } : {}) }),
        publishedPublicKeys(digests),
      ]);
      return jsonResponse(200, {
        items: page.digests,
        ...(page.unreadable.length ? { unreadable: page.unreadable } : {}),
        publicKeys: Object.fromEntries(publicKeys),
        ...(page.nextCursor ? { nextCursor: encodeCursor(page.nextCursor) } : {}),
      });
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/heads',
    handler: async (event, { principal }) => {
      await access.require(principal, 'audit:ListHeads', 'audit/heads');
      return jsonResponse(200, await store.auditHeads(pageRequest(event, 100, 1000)));
    },
  },
];
