// Which ignore entry, if any, leaves a finding out: by section, id (check ids in any of their
// spellings), path globs over the finding's files, and package URLs.
import type { Finding } from './finding.js';
import { globMatches } from './glob.js';
import type { IgnoreEntry, IgnoreSection } from './ignore.js';
import { parsePurl, purlMatches } from './purl.js';

function sectionOf(finding: Finding): IgnoreSection {
  if (finding.kind === 'vuln') return 'vulnerabilities';
  if (finding.kind === 'secret') return 'secrets';
  return 'misconfigurations';
}

/**
 * One spelling for a check id: `AVD-DS-0002`, `DS002` and `DS-0002` (Trivy's ids before and
 * after its 2025 renaming) are the same check.
 */
export function canonicalCheckId(id: string): string {
  const upper = id.trim().toUpperCase().replace(/^AVD-/, '');
  const m = /^([A-Z]+)-?(\d+)$/.exec(upper);
  return m ? `${m[1]}-${m[2]!.padStart(4, '0')}` : upper;
}

function idMatches(entry: IgnoreEntry, finding: Finding): boolean {
  if (entry.id === undefined) return true;
  if (finding.kind === 'misconfig' || finding.kind === 'audit') {
    const wanted = canonicalCheckId(entry.id);
    return [finding.id, ...(finding.aliases ?? [])].some((id) => canonicalCheckId(id) === wanted);
  }
  return entry.id.toUpperCase() === finding.id.toUpperCase();
}

function pathMatches(entry: IgnoreEntry, finding: Finding): boolean {
  if (entry.paths.length === 0) return true;
  const candidates = [finding.target, finding.file, finding.pkgPath].filter((p): p is string => Boolean(p));
  return entry.paths.some((pattern) => candidates.some((path) => globMatches(pattern, path)));
}

function purlMatchesFinding(entry: IgnoreEntry, finding: Finding): boolean {
  // As in Trivy: purls narrow vulnerabilities only, and a finding without a purl is not excluded.
  if (entry.purls.length === 0 || finding.kind !== 'vuln' || !finding.purl) return true;
  const target = parsePurl(finding.purl);
  if (!target) return true;
  return entry.purls.some((p) => {
    const constraint = parsePurl(p);
    return constraint !== undefined && purlMatches(constraint, target);
  });
}

/** The first of `entries` (give it the active ones) that ignores `finding`. */
export function matchIgnore(finding: Finding, entries: readonly IgnoreEntry[]): IgnoreEntry | undefined {
  const section = sectionOf(finding);
  return entries.find(
    (e) =>
      e.sections.includes(section) &&
      idMatches(e, finding) &&
      pathMatches(e, finding) &&
      purlMatchesFinding(e, finding),
  );
}
