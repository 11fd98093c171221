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

  for (const item of items) {
    const name = item.metadata?.name;
    const spec = item.spec ?? {};
    if (!name) {
      skipped.push(`${item.kind ?? 'entity'} without metadata.name`);
      continue;
    }
    switch (item.kind) {
      case 'Group': {
        const profile = (spec.profile ?? {}) as { displayName?: string; email?: string };
        entities.push({
          kind: 'team',
          id: name,
          name: profile.displayName ?? item.metadata?.title ?? name,
          ...(item.metadata?.description ? { description: item.metadata.description } : {}),
          contacts: profile.email ? { email: profile.email } : {},
          ...(entityName(spec.parent) ? { parent: entityName(spec.parent) } : {}),
        });
        break;
      }
      case 'Component':
      case 'Resource': {
        const team = entityName(spec.owner) ?? systemOwners.get(entityName(spec.system));
        if (!team) {
          skipped.push(`${item.kind} ${name}: no spec.owner (nor a System owner) to map to a team`);
          continue;
        }
        const slug = item.metadata?.annotations?.['github.com/project-slug'];
        const repository = slug ? `github.com/${slug}` : undefined;
        if (repository && !repositories.has(repository))
          repositories.set(repository, {
            kind: 'repository',
            id: repository,
            team,
            url: `https://github.com/${slug}`,
          });
        const links = item.metadata?.links ?? [];
        const link = (word: string) =>
          links
            .filter((l) => l.url && (l.type === word || new RegExp(word, 'i').test(l.title ?? '')))
            .map((l) => l.url as string);
        const lifecycle = lifecycles[String(spec.lifecycle ?? '')];
        entities.push({
          kind: 'service',
          id: name,
          ...(item.metadata?.title ? { name: item.metadata.title } : {}),
          ...(item.metadata?.description ? { description: item.metadata.description } : {}),
          team,
          ...(repository ? { repository } : {}),
          ...(lifecycle ? { lifecycle } : {}),
          ...(link('runbook')[0] ? { runbook: link('runbook')[0] } : {}),
          ...(link('dashboard').length ? { dashboards: link('dashboard') } : {}),
        });
        break;
      }
      case 'System':
        break;
      default:
        skipped.push(`${item.kind} ${name}: no Portolan equivalent`);
    }
  }
  return { entities: [...entities, ...repositories.values()] as DocumentEntity[], skipped };
}
