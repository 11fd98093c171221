/**
 * Every stored entity of one kind, read a page at a time: for the readers that
 * need the whole set (the access policies, what `prune` may delete).
 */
import type { CatalogStore, StoredEntity, StoredKind } from '#shared/store/catalog-store';

/** Large pages: few round trips, and each read stays small. */
const pageSize = 100;

export async function listEvery(
  store: Pick<CatalogStore, 'list'>,
  kind: StoredKind,
): Promise<StoredEntity[]> {
  const found: StoredEntity[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list(kind, { limit: pageSize, ...(cursor ? { cursor } : {}) });
    found.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return found;
}
