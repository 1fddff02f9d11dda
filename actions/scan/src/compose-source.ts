// Where a service's setting comes from in the compose files a stack is made of, so that an audit
// finding about the merged configuration can point at a file and a line.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface ComposeSource {
  /** the file as findings name it: relative to the repository root, `/` separators */
  path: string;
  text: string;
}

export interface SourceLocation {
  file?: string;
  line?: number;
}

/** Reads compose files given relative to (or inside) `root`; paths in findings are relative to it. */
export function readComposeSources(files: readonly string[], root: string): ComposeSource[] {
  return files.map((file) => {
    const absolute = resolve(root, file);
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the compose file ${file}: ${(error as Error).message}`);
    }
    const path = relative(root, absolute).split('\\').join('/');
    return { path: path.startsWith('..') ? absolute : path, text };
  });
}

interface Parsed {
  path: string;
  doc: Document;
  lines: LineCounter;
}

type Key = string | number;

/** The node a key leads to in a mapping, following `<<` merge keys into anchors of the same file. */
function lookup(
  doc: Document,
  node: unknown,
  key: Key,
  depth = 0,
): { keyNode?: Node; value: unknown } | undefined {
  if (isAlias(node)) node = node.resolve(doc);
  if (isSeq(node)) {
    if (typeof key === 'number')
      return node.items[key] === undefined ? undefined : { value: node.items[key] };
    // A list-form mapping such as `environment: [NAME=value]`.
    const item = node.items.find((i) => isScalar(i) && String(i.value).split('=')[0] === key);
    return item ? { keyNode: item as Node, value: item } : undefined;
  }
  if (!isMap(node) || depth > 10) return undefined;
  for (const pair of node.items) {
    if (isScalar(pair.key) && String(pair.key.value) === String(key))
      return { keyNode: pair.key, value: pair.value };
  }
  for (const pair of node.items) {
    if (!isScalar(pair.key) || pair.key.value !== '<<') continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const found = lookup(doc, source, key, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

export class ComposeLocator {
  private readonly files: Parsed[];

  constructor(sources: readonly ComposeSource[]) {
    this.files = sources.map((source) => {
      const lines = new LineCounter();
      // Compose's own tags (!override, !reset) are unknown to a YAML parser; they only warn.
      const doc = parseDocument(source.text, { lineCounter: lines });
      return { path: source.path, doc, lines };
    });
  }

  get paths(): string[] {
    return this.files.map((f) => f.path);
  }

  private find(file: Parsed, path: readonly Key[]): number | undefined {
    let node: unknown = file.doc.contents;
    let keyNode: Node | undefined;
    for (const key of path) {
      const found = lookup(file.doc, node, key);
      if (!found) return undefined;
      node = found.value;
      keyNode = found.keyNode ?? (found.value as Node);
    }
    return keyNode?.range ? file.lines.linePos(keyNode.range[0]).line : undefined;
  }

  /**
   * Where `keyPath` under a service is set: the last file that sets it (the one whose value wins
   * the merge). When no file sets it (the rule is about something missing), the first file that
   * mentions the service, at the service's line.
   */
  locate(service: string, keyPath: readonly Key[] = []): SourceLocation {
    if (keyPath.length > 0) {
      for (const file of [...this.files].reverse()) {
        const line = this.find(file, ['services', service, ...keyPath]);
        if (line !== undefined) return { file: file.path, line };
      }
    }
    return this.locateTop(['services', service]);
  }

  /** The first file that has `path` from the top (e.g. `['networks', 'backend']`). */
  locateTop(path: readonly Key[]): SourceLocation {
    for (const file of this.files) {
      const line = this.find(file, path);
      if (line !== undefined) return { file: file.path, line };
    }
    return { file: this.files[0]?.path };
  }
}
