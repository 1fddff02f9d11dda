// The licence file each bundle ships: built from what ncc bundled, and only from production dependencies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { bundledPackageDirs, licensesText } from './build-dist.mjs';

const root = join(import.meta.dirname, '..');

/** `name@version` headers of a licenses.txt. */
function packagesIn(text: string): string[] {
  return [...text.matchAll(/^((?:@[^/\s]+\/)?[^@\s]+)@(\d[^\s]*)$/gm)].map((m) => `${m[1]}@${m[2]}`);
}

describe('bundledPackageDirs', () => {
  it('names the innermost package of each bundled file, scoped names included', () => {
    expect(
      bundledPackageDirs([
        '/r/node_modules/age-encryption/dist/index.js',
        '/r/node_modules/@noble/hashes/sha2.js',
        '/r/node_modules/a/node_modules/b/lib/x.js',
        '/r/lib/action/inputs.ts',
      ]).sort(),
    ).toEqual([
      '/r/node_modules/@noble/hashes',
      '/r/node_modules/a/node_modules/b',
      '/r/node_modules/age-encryption',
    ]);
  });
});

describe('licensesText', () => {
  it('carries each package once with its declared license and its license and notice files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-licenses-'));
    const pkg = (name: string, files: Record<string, string>) => {
      const d = join(dir, 'node_modules', name);
      mkdirSync(d, { recursive: true });
      for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
      return d;
    };
    const a = pkg('a', {
      'package.json': '{"name":"a","version":"1.0.0","license":"BSD-3-Clause"}',
      LICENSE: 'BSD text',
      NOTICE: 'notice',
    });
    const b = pkg('@s/b', { 'package.json': '{"name":"@s/b","version":"2.0.0","license":"MIT"}' });
    const text = licensesText([b, a, a]);
    expect(packagesIn(text)).toEqual(['@s/b@2.0.0', 'a@1.0.0']);
    expect(text).toContain('a@1.0.0\nLicense: BSD-3-Clause\n\nBSD text\n\nnotice');
    expect(text).toContain('the package ships no license file; package.json says MIT');
  });
});

describe('the committed licenses.txt files', () => {
  const texts = Object.fromEntries(
    ['backup', 'build', 'deploy', 'scan'].map((a) => [
      a,
      readFileSync(join(root, 'actions', a, 'dist/licenses.txt'), 'utf8'),
    ]),
  );

  it('name the ES-module packages ncc’s own notice missed, with their license text', () => {
    const backup = texts['backup']!;
    expect(packagesIn(backup)).toEqual(expect.arrayContaining(['age-encryption@0.3.1']));
    expect(backup).toMatch(/age-encryption@0\.3\.1\nLicense: BSD-3-Clause\n\n[^\n]*Copyright/);
    expect(packagesIn(backup).some((p) => p.startsWith('@noble/hashes@'))).toBe(true);
    expect(packagesIn(texts['scan']!).some((p) => p.startsWith('yaml@'))).toBe(true);
  });

  it('cover what the sources import, and that is a production dependency', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const sources = execFileSync('git', ['ls-files', 'lib/*.ts', 'actions/*/src/*.ts'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f && !/\.test\.ts$|testing\.ts$/.test(f));
    const imported = new Set<string>();
    for (const file of sources) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(
        /from '((?:@[^/']+\/)?[^./'][^/']*)[^']*'/g,
      )) {
        if (!m[1]!.startsWith('node:')) imported.add(m[1]!);
      }
    }
    expect([...imported].filter((name) => !(name in pkg.dependencies))).toEqual([]);
    expect(imported).toContain('yaml');
  });
});
