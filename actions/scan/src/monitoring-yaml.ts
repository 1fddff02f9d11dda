// A monitoring configuration file read with source positions: what kind it is (a Prometheus config,
// a rule file, an Alertmanager config), the `rule_files` a Prometheus config names, and the lines
// that promtool's and amtool's messages are about (they rarely carry one themselves).
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';

export type MonitoringKind = 'prometheus' | 'rules' | 'alertmanager';

/** How findings and logs name each kind. */
export const KIND_NAMES: Readonly<Record<MonitoringKind, string>> = {
  prometheus: 'Prometheus config',
  rules: 'Prometheus rule file',
  alertmanager: 'Alertmanager config',
};

/** Top-level keys only a Prometheus configuration has (`global` is Alertmanager's too). */
const PROMETHEUS_KEYS = [
  'scrape_configs',
  'scrape_config_files',
  'rule_files',
  'alerting',
  'remote_write',
  'remote_read',
  'storage',
  'tracing',
  'otlp',
  'runtime',
];
const ALERTMANAGER_KEYS = ['route', 'receivers', 'inhibit_rules', 'time_intervals', 'mute_time_intervals'];

type Key = string | number;

export interface RuleFileEntry {
  /** the `rule_files` item as written: a path or a glob, relative to the config's directory or absolute */
  pattern: string;
  line: number;
}

export class MonitoringYaml {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(readonly text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false });
  }

  private lineOf(node: Node | undefined): number | undefined {
    return node?.range ? this.lines.linePos(node.range[0]).line : undefined;
  }

  /** The line of the first YAML syntax error, when the text is not valid YAML. */
  get syntaxErrorLine(): number | undefined {
    return this.doc.errors[0]?.linePos?.[0].line;
  }

  /** The value as plain data (what a parser makes of it, errors or not). */
  get data(): unknown {
    try {
      return this.doc.toJS() as unknown;
    } catch {
      return undefined;
    }
  }

  /**
   * What this file is by its top-level keys: a rule file holds `groups` (a list of groups with
   * rules), an Alertmanager config `route` or `receivers`, a Prometheus config `scrape_configs`,
   * `rule_files`, `alerting` or another key of its own. Anything else is no monitoring config.
   */
  kind(): MonitoringKind | undefined {
    const data = this.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
    const top = data as Record<string, unknown>;
    const groups = top.groups;
    if (Array.isArray(groups) && groups.some((g) => typeof g === 'object' && g !== null && 'rules' in g)) {
      return 'rules';
    }
    if (ALERTMANAGER_KEYS.some((k) => k in top)) return 'alertmanager';
    if (PROMETHEUS_KEYS.some((k) => k in top)) return 'prometheus';
    return undefined;
  }

  /** The node at `path` from the top (keys and list indexes), with the line of its key. */
  private at(path: readonly Key[]): { node: unknown; line?: number } | undefined {
    let node: unknown = this.doc.contents;
    let line: number | undefined;
    for (const key of path) {
      if (isSeq(node) && typeof key === 'number') {
        node = node.items[key];
        if (node === undefined) return undefined;
        line = this.lineOf(node as Node);
      } else if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) return undefined;
        node = pair.value;
        line = this.lineOf(pair.key as Node);
      } else {
        return undefined;
      }
    }
    return { node, line };
  }

  /** The line where `path` is written (the key's line for a mapping entry, the item's for a list item). */
  lineAt(path: readonly Key[]): number | undefined {
    return this.at(path)?.line;
  }

  /** `rule_files` of a Prometheus config, each with its line. */
  ruleFiles(): RuleFileEntry[] {
    const found = this.at(['rule_files']);
    if (!found || !isSeq(found.node)) return [];
    return found.node.items.flatMap((item) =>
      isScalar(item) && typeof item.value === 'string' && item.value.trim() !== ''
        ? [{ pattern: item.value.trim(), line: this.lineOf(item) ?? found.line ?? 1 }]
        : [],
    );
  }

  /** The line of rule `rule` (1-based, as promtool counts) of the group named `group`, else the group's. */
  ruleLine(group: string, rule?: number): number | undefined {
    const groups = this.at(['groups']);
    if (!groups || !isSeq(groups.node)) return undefined;
    const index = groups.node.items.findIndex(
      (g) => isMap(g) && String((g.get('name', true) as { value?: unknown } | undefined)?.value) === group,
    );
    if (index === -1) return undefined;
    return (rule && this.lineAt(['groups', index, 'rules', rule - 1])) || this.lineAt(['groups', index]);
  }

  /**
   * The lines of scalar values equal to `value`, in order; only under a key named `key` when given
   * (e.g. the `receiver:` that names an undefined receiver).
   */
  scalarLines(value: string, key?: string): number[] {
    const lines: number[] = [];
    visit(this.doc, {
      Pair: (_, pair) => {
        if (!isPair(pair) || !isScalar(pair.key)) return;
        if (key !== undefined && String(pair.key.value) !== key) return;
        const v = pair.value;
        if (isScalar(v) && String(v.value) === value) lines.push(this.lineOf(v as Node)!);
      },
      Scalar: (_, scalar, path) => {
        // List items (`targets: ['api:8080']`) and keys, when no key is asked for.
        if (key !== undefined || String(scalar.value) !== value) return;
        const parent = path[path.length - 1];
        if (isSeq(parent) || (isPair(parent) && parent.key === scalar)) lines.push(this.lineOf(scalar)!);
      },
    });
    return lines.sort((a, b) => a - b);
  }
}
