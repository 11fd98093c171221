/**
 * Backstage `catalog-info.yaml` entities → Portolan entities (the mapping
 * table is in docs/ci.md, "Importing Backstage and CODEOWNERS"). Pure: parsed YAML documents in,
 * entities and notes on what was not mapped out.
 *
 * | Backstage | Portolan |
 * | Group (`spec.type` team or any) | team: `metadata.name`, `spec.profile.displayName` → name, `spec.profile.email` → contacts.email, `spec.parent` → parent |
 * | Component | service: `spec.owner` → team, `spec.lifecycle` → lifecycle, `github.com/project-slug` → repository, links titled/typed runbook and dashboard |
 * | Resource | service, as a Component (telemetry from a queue or table has an owner too) |
 * | System | no entity: its `spec.owner` is the team of its components and resources that name none |
 * | `github.com/project-slug` | repository `github.com/<slug>`, owned by the entity's team |
 */
import type { DocumentEntity } from '#shared/catalog/catalog-document';

interface BackstageEntity {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    title?: string;
    description?: string;
    annotations?: Record<string, string>;
    links?: { url?: string; title?: string; type?: string }[];
  };
  spec?: Record<string, unknown>;
}

/** `group:default/payments`, `group:payments`, `payments` → `payments`. */
export const entityName = (ref: unknown): string | undefined =>
  typeof ref === 'string' && ref ? (ref.split(':').pop() as string).split('/').pop() : undefined;

const lifecycles: Record<string, string> = {
  experimental: 'experimental',
  development: 'development',
  production: 'production',
  deprecated: 'deprecated',
  retired: 'retired',
};

export function isBackstageEntity(value: unknown): value is BackstageEntity {
  const v = value as BackstageEntity | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.apiVersion === 'string' &&
    v.apiVersion.startsWith('backstage.io/')
  );
}

/** A Group → a team. */
function teamFromGroup(item: BackstageEntity, name: string, spec: Record<string, unknown>) {
  const profile = (spec.profile ?? {}) as { displayName?: string; email?: string };
  return {
    kind: 'team',
    id: name,
    name: profile.displayName ?? item.metadata?.title ?? name,
    ...(item.metadata?.description ? { description: item.metadata.description } : {}),
    contacts: profile.email ? { email: profile.email } : {},
    ...(entityName(spec.parent) ? { parent: entityName(spec.parent) } : {}),
  };
}

/** The URLs of the links typed `word`, or titled with it. */
function linksOf(item: BackstageEntity, word: string): string[] {
  const titled = new RegExp(word, 'i');
  return (item.metadata?.links ?? [])
    .filter((l) => l.url && (l.type === word || titled.test(l.title ?? '')))
    .map((l) => l.url as string);
}

/** A Component or Resource of `team` → a service; its repository, if annotated, goes to `repositories`. */
function serviceFrom(
  item: BackstageEntity,
  name: string,
  team: string,
  repositories: Map<string, Record<string, unknown>>,
) {
  const spec = item.spec ?? {};
  const slug = item.metadata?.annotations?.['github.com/project-slug'];
  const repository = slug ? `github.com/${slug}` : undefined;
  if (repository && !repositories.has(repository))
    repositories.set(repository, {
      kind: 'repository',
      id: repository,
      team,
      url: `https://github.com/${slug}`,
    });
  const lifecycle = lifecycles[String(spec.lifecycle ?? '')];
  const runbook = linksOf(item, 'runbook')[0];
  const dashboards = linksOf(item, 'dashboard');
  return {
    kind: 'service',
    id: name,
    ...(item.metadata?.title ? { name: item.metadata.title } : {}),
    ...(item.metadata?.description ? { description: item.metadata.description } : {}),
    team,
    ...(repository ? { repository } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    ...(runbook ? { runbook } : {}),
    ...(dashboards.length ? { dashboards } : {}),
  };
}

export function fromBackstage(documents: unknown[]): { entities: DocumentEntity[]; skipped: string[] } {
  const items = documents.filter(isBackstageEntity);
  const systemOwners = new Map(
    items
      .filter((e) => e.kind === 'System')
      .map((e) => [e.metadata?.name, entityName(e.spec?.owner)] as const),
  );
  const entities: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  const repositories = new Map<string, Record<string, unknown>>();
  const ownerOf = (spec: Record<string, unknown>) =>
    entityName(spec.owner) ?? systemOwners.get(entityName(spec.system));

  for (const item of items) {
    const name = item.metadata?.name;
    const spec = item.spec ?? {};
    if (!name) skipped.push(`${item.kind ?? 'entity'} without metadata.name`);
    else if (item.kind === 'Group') entities.push(teamFromGroup(item, name, spec));
    else if (item.kind === 'Component' || item.kind === 'Resource') {
      const team = ownerOf(spec);
      if (team) entities.push(serviceFrom(item, name, team, repositories));
      else skipped.push(`${item.kind} ${name}: no spec.owner (nor a System owner) to map to a team`);
    } else if (item.kind !== 'System') skipped.push(`${item.kind} ${name}: no Portolan equivalent`);
  }
  return { entities: [...entities, ...repositories.values()] as DocumentEntity[], skipped };
}
