// The files a compose file names that compose's merged model no longer shows: `include` (recursively)
// and `extends.file`. Read from the files' YAML, only for these two keys; compose itself has already
// checked the files (the model was computed first), so anything unreadable here is skipped.
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

export interface ComposeReference {
  /** absolute path of the referenced file */
  path: string;
  /** absolute path of the compose file that names it */
  from: string;
  /** `include` or `extends` (with its service) */
  via: string;
}

export interface ReferenceScan {
  references: ComposeReference[];
  /** paths with a variable in them: compose resolves them, Berth cannot tell which file they name */
  interpolated: { from: string; via: string; written: string }[];
}

type Doc = Record<string, unknown> | null | undefined;

function asList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** What one compose file's text names directly: include paths (and their env files) and extends files. */
export function directReferences(text: string): { via: string; written: string }[] {
  let doc: Doc;
  try {
    // Compose's own tags (!override, !reset) are not YAML's: read as plain values, quietly.
    doc = parse(text, { merge: true, strict: false, uniqueKeys: false, logLevel: 'silent' }) as Doc;
  } catch {
    return [];
  }
  if (!doc || typeof doc !== 'object') return [];
  const found: { via: string; written: string }[] = [];
  for (const item of Array.isArray(doc.include) ? (doc.include as unknown[]) : []) {
    if (typeof item === 'string') found.push({ via: 'include', written: item });
    else if (item && typeof item === 'object') {
      const entry = item as Record<string, unknown>;
      for (const p of asList(entry.path)) found.push({ via: 'include', written: p });
      for (const p of asList(entry.env_file)) found.push({ via: 'include env_file', written: p });
    }
  }
  const services = doc.services && typeof doc.services === 'object' ? doc.services : {};
  for (const [name, service] of Object.entries(services as Record<string, unknown>)) {
    const ext = (service as { extends?: unknown } | null)?.extends;
    const file = ext && typeof ext === 'object' ? (ext as { file?: unknown }).file : undefined;
    if (typeof file === 'string') found.push({ via: `service ${name} extends`, written: file });
  }
  return found;
}

/** Every file the listed compose files reach through include and extends, transitively. */
export function scanReferences(
  files: string[],
  readText: (path: string) => string | undefined,
): ReferenceScan {
  const scan: ReferenceScan = { references: [], interpolated: [] };
  const seen = new Set(files);
  const queue = [...files];
  for (let from = queue.shift(); from !== undefined; from = queue.shift()) {
    const text = readText(from);
    if (text === undefined) continue;
    for (const { via, written } of directReferences(text)) {
      if (written.includes('$')) {
        scan.interpolated.push({ from, via, written });
        continue;
      }
      const path = resolve(dirname(from), written);
      scan.references.push({ path, from, via });
      if (!seen.has(path) && via !== 'include env_file') {
        seen.add(path);
        queue.push(path);
      }
    }
  }
  return scan;
}
