/**
 * The group → teams index in the catalog table: one item per identity-provider
 * group (pk `team-group`, sk the group, `teams` a string set of team ids). The
 * store changes it in the same transaction as the team that lists the group,
 * with `ADD`/`DELETE` on the set, so concurrent writes of two teams sharing a
 * group compose; "which teams have group G" is then one key lookup, and a
 * principal's groups are resolved with one BatchGetItem per 100 groups.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fullJitterDelay } from '#shared/retry/retry-with-backoff';
import { itemKey, partitions } from '#shared/store/table-definitions';

/** BatchGetItem's limit on keys per request. */
const batchKeys = 100;
/** Rounds of `UnprocessedKeys` retried before the read is given up as throttled. */
const maxBatchRounds = 5;

const groupsOf = (doc: Record<string, unknown> | undefined): string[] =>
  Array.isArray(doc?.groups) ? doc.groups.filter((g): g is string => typeof g === 'string') : [];

/** The transaction items that move a team's index entries from `before`'s groups to `after`'s. */
export function teamGroupUpdates(
  table: string,
  teamId: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
) {
  const old = groupsOf(before);
  const now = groupsOf(after);
  const update = (group: string, operation: 'ADD' | 'DELETE') => ({
    label: `group:${group}`,
    item: {
      Update: {
        TableName: table,
        Key: itemKey(partitions.teamGroup, group),
        UpdateExpression: `${operation} teams :team`,
        ExpressionAttributeValues: { ':team': new Set([teamId]) },
      },
    },
  });
  return [
    ...now.filter((g) => !old.includes(g)).map((g) => update(g, 'ADD')),
    ...old.filter((g) => !now.includes(g)).map((g) => update(g, 'DELETE')),
  ];
}

export interface TeamDirectory {
  /** The teams listing each of `groups` (groups no team lists are absent from the map). */
  teamsOfGroups(groups: readonly string[]): Promise<Map<string, string[]>>;
}

/** One BatchGetItem's groups → teams into `found`, unprocessed keys retried with backoff. */
async function readGroups(
  client: DynamoDBDocumentClient,
  table: string,
  groups: readonly string[],
  found: Map<string, string[]>,
) {
  let keys: Record<string, unknown>[] = groups.map((group) => itemKey(partitions.teamGroup, group));
  for (let round = 1; keys.length > 0; round++) {
    if (round > maxBatchRounds)
      throw new Error(`the team index stayed throttled for ${maxBatchRounds} rounds`);
    if (round > 1) await sleep(fullJitterDelay(round, { baseMs: 40, capMs: 1_000 }));
    const { Responses, UnprocessedKeys } = await client.send(
      new BatchGetCommand({
        RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'sk, teams' } },
      }),
    );
    for (const item of Responses?.[table] ?? []) {
      const teams = item.teams instanceof Set ? [...item.teams].map(String).sort() : [];
      if (teams.length) found.set(String(item.sk), teams);
    }
    keys = UnprocessedKeys?.[table]?.Keys ?? [];
  }
}

export function makeTeamDirectory(client: DynamoDBDocumentClient, table: string): TeamDirectory {
  return {
    async teamsOfGroups(groups) {
      const found = new Map<string, string[]>();
      for (let at = 0; at < groups.length; at += batchKeys)
        await readGroups(client, table, groups.slice(at, at + batchKeys), found);
      return found;
    },
  };
}
