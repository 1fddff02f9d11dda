// Trivy's ignore files, read the way Trivy reads them, with one difference: an entry whose date
// has passed is not skipped in silence but reported (file, line, id) so the gate can fail on it.
//
// `.trivyignore` (any name not ending in .yaml/.yml): one id per line, `#` comments, an optional
// `exp:YYYY-MM-DD`; every id applies to vulnerabilities, secrets and misconfigurations alike.
// `.trivyignore.yaml`: lists under vulnerabilities / misconfigurations / secrets / licenses of
// `{id, paths, purls, expired_at, statement}`; an entry needs an id, paths or purls (or several).
// An entry stops applying at 00:00 UTC on its date, as in Trivy.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { inputError } from '../../../lib/action/inputs.js';
import { Inputs } from './constants.js';
import type { Finding } from './finding.js';

export const IGNORE_SECTIONS = ['vulnerabilities', 'misconfigurations', 'secrets', 'licenses'] as const;
export type IgnoreSection = (typeof IGNORE_SECTIONS)[number];

/** The names Berth looks for at the workspace root when no ignore file is given, in this order. */
export const DEFAULT_IGNORE_FILES = ['.trivyignore.yaml', '.trivyignore.yml', '.trivyignore'] as const;

export interface IgnoreEntry {
  /** absent in a YAML entry that selects by paths or purls only */
  id?: string;
  /** the kinds of finding it applies to */
  sections: readonly IgnoreSection[];
  /** glob patterns (`*`, `**`, `?`, `[...]`, `{a,b}`) over the finding's target or package path */
  paths: string[];
  /** package URLs; one without a version matches every version */
  purls: string[];
  /** the date as written (`2024-06-30`) */
  expires?: string;
  expiresAt?: Date;
  statement?: string;
  /** the ignore file, as the caller named it */
  file: string;
  /** 1-based line of the entry */
  line: number;
}

/** A malformed ignore file; the message names the file and line. */
export class IgnoreFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IgnoreFileError';
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A date (midnight UTC) or a full RFC 3339 timestamp; undefined when it is neither. */
export function parseExpiry(text: string): Date | undefined {
  const day = DATE.exec(text);
  if (day) {
    const date = new Date(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])));
    // Date.UTC rolls 2024-02-31 over to March; a date that does not exist is a typo.
    return date.toISOString().slice(0, 10) === text ? date : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function parsePlain(text: string, file: string): IgnoreEntry[] {
  const entries: IgnoreEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const expField = fields.slice(1).find((field) => field.startsWith('exp:'));
    const expires = expField?.slice('exp:'.length);
    const expiresAt = expires === undefined ? undefined : parseExpiry(expires);
    if (expires !== undefined && expiresAt === undefined) {
      throw new IgnoreFileError(
        `${file}:${index + 1}: "${expField}" is not a valid expiry (write exp:YYYY-MM-DD, e.g. exp:2025-06-30)`,
      );
    }
    entries.push({
      id: fields[0]!,
      sections: IGNORE_SECTIONS,
      paths: [],
      purls: [],
      expires,
      expiresAt,
      file,
      line: index + 1,
    });
  });
  return entries;
}

function stringList(node: unknown, where: string): string[] {
  if (node === undefined || node === null) return [];
  if (!isSeq(node)) throw new IgnoreFileError(`${where} must be a list`);
  return node.items.map((item, i) => {
    const value = isScalar(item) ? item.value : undefined;
    if (typeof value !== 'string' || value === '')
      throw new IgnoreFileError(`${where}[${i}] must be a string`);
    return value;
  });
}

function parseYaml(text: string, file: string): IgnoreEntry[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  if (doc.errors.length > 0) {
    const error = doc.errors[0]!;
    throw new IgnoreFileError(
      `${file}:${lineCounter.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`,
    );
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) {
    throw new IgnoreFileError(
      `${file}:${lineOf(doc.contents)}: the top level must be a mapping of ${IGNORE_SECTIONS.join(', ')}`,
    );
  }
  const entries: IgnoreEntry[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyLine = lineOf(pair.key as Node);
    if (!(IGNORE_SECTIONS as readonly string[]).includes(key)) {
      throw new IgnoreFileError(
        `${file}:${keyLine}: unknown section "${key}" (expected ${IGNORE_SECTIONS.join(', ')})`,
      );
    }
    const section = key as IgnoreSection;
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue;
    if (!isSeq(pair.value))
      throw new IgnoreFileError(`${file}:${keyLine}: ${section} must be a list of entries`);
    for (const item of pair.value.items) {
      const line = lineOf(item as Node);
      const where = `${file}:${line}: ${section} entry`;
      if (!isMap(item))
        throw new IgnoreFileError(`${where} must be a mapping (id, paths, purls, expired_at, statement)`);
      const fields = new Map<string, unknown>();
      for (const field of item.items) {
        const name = isScalar(field.key) ? String(field.key.value) : '';
        if (!['id', 'paths', 'purls', 'expired_at', 'statement'].includes(name)) {
          throw new IgnoreFileError(
            `${file}:${lineOf(field.key as Node)}: unknown field "${name}" in a ${section} entry`,
          );
        }
        fields.set(name, field.value);
      }
      const scalar = (name: string): string | undefined => {
        const node = fields.get(name);
        if (node === undefined || node === null) return undefined;
        const value = isScalar(node) ? node.value : undefined;
        if (value === null) return undefined;
        if (typeof value !== 'string' && typeof value !== 'number') {
          throw new IgnoreFileError(`${where}: ${name} must be a string`);
        }
        return String(value);
      };
      const id = scalar('id');
      const paths = stringList(fields.get('paths'), `${where}: paths`);
      const purls = stringList(fields.get('purls'), `${where}: purls`);
      if (purls.length > 0 && section !== 'vulnerabilities') {
        throw new IgnoreFileError(`${where}: purls only apply to vulnerabilities`);
      }
      for (const purl of purls) {
        if (!parsePurl(purl))
          throw new IgnoreFileError(`${where}: "${purl}" is not a package URL (pkg:type/name@version)`);
      }
      if (id === undefined && paths.length === 0 && purls.length === 0) {
        throw new IgnoreFileError(`${where} has no id, paths or purls, so it would ignore everything`);
      }
      const expires = scalar('expired_at');
      const expiresAt = expires === undefined ? undefined : parseExpiry(expires);
      if (expires !== undefined && expiresAt === undefined) {
        throw new IgnoreFileError(`${where}: expired_at "${expires}" is not a date (write YYYY-MM-DD)`);
      }
      entries.push({
        id,
        sections: [section],
        paths,
        purls,
        expires,
        expiresAt,
        statement: scalar('statement'),
        file,
        line,
      });
    }
  }
  return entries;
}

export type IgnoreFormat = 'plain' | 'yaml';

/** YAML for names ending in .yaml or .yml, the plain format for any other name, as Trivy decides. */
export function ignoreFormat(path: string): IgnoreFormat {
  return /\.ya?ml$/i.test(path) ? 'yaml' : 'plain';
}

/** Every entry of an ignore file, expired ones included; `file` is the name used in messages. */
export function parseIgnoreFile(text: string, file: string, format = ignoreFormat(file)): IgnoreEntry[] {
  return format === 'yaml' ? parseYaml(text, file) : parsePlain(text, file);
}

/** Reads `path`; `displayName` (default: `path`) is how messages and the summary name it. */
export function readIgnoreFile(path: string, displayName = path): IgnoreEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new IgnoreFileError(`cannot read the ignore file ${displayName}: ${(error as Error).message}`);
  }
  return parseIgnoreFile(text, displayName, ignoreFormat(path));
}

/**
 * The ignore file to read, relative to the workspace: the `ignore-file` input, which must exist,
 * else the first of DEFAULT_IGNORE_FILES that exists, else none. `exists` is asked about
 * workspace-relative paths.
 */
export function resolveIgnoreFile(input: string, exists: (path: string) => boolean): string | undefined {
  const given = input.trim();
  if (given !== '') {
    if (!exists(given)) throw inputError(Inputs.IgnoreFile, `${given} does not exist in the workspace`);
    return given;
  }
  return DEFAULT_IGNORE_FILES.find((name) => exists(name));
}

export function isExpired(entry: IgnoreEntry, now: Date): boolean {
  return entry.expiresAt !== undefined && entry.expiresAt.getTime() <= now.getTime();
}

export function partitionIgnores(
  entries: readonly IgnoreEntry[],
  now: Date,
): { active: IgnoreEntry[]; expired: IgnoreEntry[] } {
  return {
    active: entries.filter((e) => !isExpired(e, now)),
    expired: entries.filter((e) => isExpired(e, now)),
  };
}

/** `.trivyignore:3: CVE-2019-1549 expired on 2024-01-01`: one expired entry, for errors and the summary. */
export function expiredMessage(entry: IgnoreEntry): string {
  const what = entry.id ?? `the entry for ${[...entry.paths, ...entry.purls].join(', ')}`;
  return `${entry.file}:${entry.line}: ${what} expired on ${entry.expires}`;
}

// ---- matching ------------------------------------------------------------------------------

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

const globCache = new Map<string, RegExp>();

/** A doublestar glob as a RegExp: `**` any number of segments, `*` and `?` within one, `[...]`, `{a,b}`. */
export function globToRegExp(pattern: string): RegExp {
  const cached = globCache.get(pattern);
  if (cached) return cached;
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      const segmentStart = i === 0 || pattern[i - 1] === '/';
      i++;
      if (segmentStart && pattern[i + 1] === '/') {
        out += '(?:[^/]*/)*'; // `**/`: zero or more whole directories
        i++;
      } else {
        out += '.*';
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = pattern
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else if (c === '\\' && i + 1 < pattern.length) out += `\\${pattern[++i]}`;
    else out += /[.+^$()|\\]/.test(c) ? `\\${c}` : c;
  }
  const re = new RegExp(`^${out}${')'.repeat(braces)}$`);
  globCache.set(pattern, re);
  return re;
}

function pathMatches(entry: IgnoreEntry, finding: Finding): boolean {
  if (entry.paths.length === 0) return true;
  const candidates = [finding.target, finding.file, finding.pkgPath].filter((p): p is string => Boolean(p));
  return entry.paths.some((pattern) => candidates.some((path) => globToRegExp(pattern).test(path)));
}

export interface PackageUrl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: Record<string, string>;
  subpath: string;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** `pkg:type/namespace/name@version?key=value#subpath`, undefined when it is not a purl. */
export function parsePurl(text: string): PackageUrl | undefined {
  if (!text.startsWith('pkg:')) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  let subpath = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) [rest, subpath] = [rest.slice(0, hash), rest.slice(hash + 1)];
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question !== -1) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) qualifiers[pair.slice(0, eq).toLowerCase()] = decode(pair.slice(eq + 1));
    }
    rest = rest.slice(0, question);
  }
  let version = '';
  const at = rest.lastIndexOf('@');
  if (at > rest.indexOf('/')) [rest, version] = [rest.slice(0, at), decode(rest.slice(at + 1))];
  const parts = rest.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  return {
    type: parts[0]!.toLowerCase(),
    namespace: parts.slice(1, -1).map(decode).join('/'),
    name: decode(parts[parts.length - 1]!),
    version,
    qualifiers,
    subpath: subpath.replace(/^\/+|\/+$/g, ''),
  };
}

/** Whether `target` satisfies `constraint`: same package; version, subpath and qualifiers only where given. */
export function purlMatches(constraint: PackageUrl, target: PackageUrl): boolean {
  if (constraint.type !== target.type || constraint.namespace !== target.namespace) return false;
  if (constraint.name !== target.name) return false;
  if (constraint.version && constraint.version !== target.version) return false;
  if (constraint.subpath && constraint.subpath !== target.subpath) return false;
  return Object.entries(constraint.qualifiers).every(([k, v]) => target.qualifiers[k] === v);
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
