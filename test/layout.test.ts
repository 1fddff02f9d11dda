// The house rules of the source tree, checked on the import graph: lib/ never imports an action, the
// tests or the scripts; an action never imports another; production code never imports test code;
// scripts never import tests; and no module cycle among the bundled sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lab/lab.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures') return [];
    return statSync(path).isDirectory() ? walk(path) : /\.(ts|mjs)$/.test(name) ? [path] : [];
  });
}

const IMPORT = /(?:^|[^\w.])(?:import|export)\s*(?:[^'"]*?\sfrom\s*)?\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Repository-relative paths of the local modules `file` imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) =>
    relative(repoRoot, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts'))),
  );
}

const files = ['lib', 'actions', 'scripts', 'test'].flatMap((d) => walk(join(repoRoot, d)));
const graph = new Map(files.map((f) => [relative(repoRoot, f), importsOf(f)]));
const isTest = (path: string) => /\.test\.ts$|(^|\/)testing\.ts$/.test(path);
const production = [...graph.keys()].filter(
  (p) => (p.startsWith('lib/') || /^actions\/[^/]+\/src\//.test(p)) && !isTest(p),
);

function offenders(from: (path: string) => boolean, to: (target: string, path: string) => boolean) {
  return [...graph].flatMap(([path, targets]) =>
    from(path) ? targets.filter((t) => to(t, path)).map((t) => `${path} -> ${t}`) : [],
  );
}

describe('the import graph', () => {
  it('was read (the check can see imports at all)', () => {
    expect(graph.get('actions/deploy/src/main.ts')).toContain('actions/deploy/src/inputs.ts');
    expect(production.length).toBeGreaterThan(50);
  });

  it('lib/ imports nothing of actions/, test/ or scripts/', () => {
    expect(
      offenders(
        (p) => p.startsWith('lib/'),
        (t) => !t.startsWith('lib/'),
      ),
    ).toEqual([]);
  });

  it('an action never imports another action', () => {
    const action = (p: string) => /^actions\/([^/]+)\//.exec(p)?.[1];
    expect(
      offenders(
        (p) => action(p) !== undefined,
        (t, p) => action(t) !== undefined && action(t) !== action(p),
      ),
    ).toEqual([]);
  });

  it('production code imports no test code, no scripts, no tests', () => {
    expect(
      offenders(
        (p) => production.includes(p),
        (t) => isTest(t) || t.startsWith('test/') || t.startsWith('scripts/'),
      ),
    ).toEqual([]);
  });

  it('scripts never import tests', () => {
    expect(
      offenders(
        (p) => p.startsWith('scripts/'),
        (t) => t.startsWith('test/') || isTest(t),
      ),
    ).toEqual([]);
  });

  it('has no cycle among the bundled sources', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) if (production.includes(next)) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of production) visit(node, []);
    expect(cycles).toEqual([]);
  });
});
