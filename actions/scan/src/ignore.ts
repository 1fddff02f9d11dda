// Trivy's ignore files, read the way Trivy reads them, with one difference: an entry whose date
// has passed is not skipped in silence but reported (file, line, id) so the gate can fail on it.
//
// `.trivyignore` (any name not ending in .yaml/.yml): one id per line, `#` comments, an optional
// `exp:YYYY-MM-DD`; every id applies to vulnerabilities, secrets and misconfigurations alike.
// `.trivyignore.yaml`: lists under vulnerabilities / misconfigurations / secrets / licenses of
// `{id, paths, purls, expired_at, statement}`; an entry needs an id, paths or purls (or several).
// An entry stops applying at 00:00 UTC on its date, as in Trivy.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { Inputs } from './constants.js';
import { compileGlob, GlobError } from './glob.js';
import { parsePurl } from './purl.js';

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

type LineOf = (node: Node | null | undefined) => number;

const YAML_FIELDS = ['id', 'paths', 'purls', 'expired_at', 'statement'];

/** The fields of one YAML entry by name, each field checked to be one an entry may have. */
function entryFields(
  item: YAMLMap,
  section: IgnoreSection,
  file: string,
  lineOf: LineOf,
): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (const field of item.items) {
    const name = isScalar(field.key) ? String(field.key.value) : '';
    if (!YAML_FIELDS.includes(name)) {
      throw new IgnoreFileError(
        `${file}:${lineOf(field.key as Node)}: unknown field "${name}" in a ${section} entry`,
      );
    }
    fields.set(name, field.value);
  }
  return fields;
}

/** One entry of a YAML section, at `line`. */
function yamlEntry(item: unknown, section: IgnoreSection, file: string, lineOf: LineOf): IgnoreEntry {
  const line = lineOf(item as Node);
  const where = `${file}:${line}: ${section} entry`;
  if (!isMap(item))
    throw new IgnoreFileError(`${where} must be a mapping (id, paths, purls, expired_at, statement)`);
  const fields = entryFields(item, section, file, lineOf);
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
  for (const path of paths) {
    try {
      compileGlob(path);
    } catch (error) {
      if (error instanceof GlobError) throw new IgnoreFileError(`${where}: paths: ${error.message}`);
      throw error;
    }
  }
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
  const statement = scalar('statement');
  return { id, sections: [section], paths, purls, expires, expiresAt, statement, file, line };
}

function parseYaml(text: string, file: string): IgnoreEntry[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOf: LineOf = (node) => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
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
    for (const item of pair.value.items) entries.push(yamlEntry(item, section, file, lineOf));
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
  return oneLine(`${entry.file}:${entry.line}: ${what} expired on ${entry.expires}`);
}
