/**
 * GitHub `CODEOWNERS` as a last resort for repository → team: the team of the
 * catch-all rule (`*`, the last one wins, as on GitHub), `@org/team-slug`
 * mapped to `team-slug`. Used only when the document declares no team for
 * its repository.
 */

export interface CodeownersTeam {
  team: string;
  /** 1-based line of the rule it came from. */
  line: number;
}

export function catchAllTeam(codeowners: string): CodeownersTeam | undefined {
  let found: CodeownersTeam | undefined;
  for (const [i, raw] of codeowners.split('\n').entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern !== '*' && pattern !== '/*' && pattern !== '**') continue;
    const team = owners.find((o) => /^@[^/\s]+\/[^/\s]+$/.test(o));
    // A later catch-all overrides an earlier one, even one without a team.
    found = team ? { team: team.split('/')[1] as string, line: i + 1 } : undefined;
  }
  return found;
}
