import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from './finding.js';
import {
  expiredMessage,
  IgnoreFileError,
  parseIgnoreFile,
  partitionIgnores,
  readIgnoreFile,
  resolveIgnoreFile,
} from './ignore.js';
import { GlobError, globMatches } from './glob.js';
import { canonicalCheckId, matchIgnore } from './ignore-match.js';
import { parsePurl } from './purl.js';
import { findingsFromReport, fixtureReport } from './testing.js';

const NOW = new Date('2025-03-15T12:00:00Z');

const PLAIN = `# Accepted risks
CVE-2019-18224

# until a new base image ships
CVE-2019-5094 exp:2025-06-30
CVE-2019-1551   exp:2024-12-31   # old
  aws-access-key-id
DS002
`;

const YAML = `vulnerabilities:
  - id: CVE-2019-5094
    purls:
      - pkg:deb/ubuntu/e2fsprogs
    statement: e2fsprogs is not used at run time
  - id: CVE-2019-1563
    expired_at: 2025-01-31
  - paths:
      - 'vendor/**'
misconfigurations:
  - id: AVD-DS-0002
    paths: [Dockerfile]
  - id: BERTH-C007
    paths:
      - example/docker-compose.yml
secrets:
  - id: mysecret
    paths: ['**/*.sh']
licenses:
`;

const ids = (findings: Finding[]) => findings.map((f) => `${f.id} ${f.pkg ?? f.file ?? ''}`.trim());

describe('parseIgnoreFile: .trivyignore', () => {
  const entries = parseIgnoreFile(PLAIN, '.trivyignore');

  it('reads ids, expiry dates and line numbers, skipping comments and blank lines', () => {
    expect(entries.map((e) => [e.id, e.expires, e.line])).toEqual([
      ['CVE-2019-18224', undefined, 2],
      ['CVE-2019-5094', '2025-06-30', 5],
      ['CVE-2019-1551', '2024-12-31', 6],
      ['aws-access-key-id', undefined, 7],
      ['DS002', undefined, 8],
    ]);
    expect(entries[1]!.expiresAt).toEqual(new Date('2025-06-30T00:00:00Z'));
  });

  it('applies every id to vulnerabilities, misconfigurations and secrets', () => {
    expect(entries[0]!.sections).toEqual(['vulnerabilities', 'misconfigurations', 'secrets', 'licenses']);
  });

  it('rejects an expiry that is not a date, with file and line', () => {
    expect(() => parseIgnoreFile('CVE-1\nCVE-2 exp:2025-13-01\n', 'ci/.trivyignore')).toThrow(
      'ci/.trivyignore:2: "exp:2025-13-01" is not a valid expiry (write exp:YYYY-MM-DD, e.g. exp:2025-06-30)',
    );
    expect(() => parseIgnoreFile('CVE-2 exp:2024-02-31', 'x')).toThrow(IgnoreFileError);
    expect(() => parseIgnoreFile('CVE-2 exp:soon', 'x')).toThrow(/x:1/);
  });
});

describe('parseIgnoreFile: .trivyignore.yaml', () => {
  const entries = parseIgnoreFile(YAML, '.trivyignore.yaml');

  it('reads every section with ids, paths, purls, dates, statements and the line of each entry', () => {
    expect(entries.map((e) => [e.sections[0], e.id, e.line])).toEqual([
      ['vulnerabilities', 'CVE-2019-5094', 2],
      ['vulnerabilities', 'CVE-2019-1563', 6],
      ['vulnerabilities', undefined, 8],
      ['misconfigurations', 'AVD-DS-0002', 11],
      ['misconfigurations', 'BERTH-C007', 13],
      ['secrets', 'mysecret', 17],
    ]);
    expect(entries[0]).toMatchObject({
      purls: ['pkg:deb/ubuntu/e2fsprogs'],
      statement: 'e2fsprogs is not used at run time',
      file: '.trivyignore.yaml',
    });
    expect(entries[1]!.expires).toBe('2025-01-31');
    expect(entries[2]!.paths).toEqual(['vendor/**']);
    expect(entries[5]!.paths).toEqual(['**/*.sh']);
  });

  it('says which line is wrong', () => {
    const bad = (text: string) => () => parseIgnoreFile(text, '.trivyignore.yaml');
    expect(bad('vulnerability:\n  - id: CVE-1\n')).toThrow(
      '.trivyignore.yaml:1: unknown section "vulnerability" (expected vulnerabilities, misconfigurations, secrets, licenses)',
    );
    expect(bad('secrets:\n  - id: x\n    path: [a]\n')).toThrow(
      '.trivyignore.yaml:3: unknown field "path" in a secrets entry',
    );
    expect(bad('vulnerabilities:\n  - id: CVE-1\n  - statement: why\n')).toThrow(
      '.trivyignore.yaml:3: vulnerabilities entry has no id, paths or purls, so it would ignore everything',
    );
    expect(bad('vulnerabilities:\n  - id: CVE-1\n    expired_at: tomorrow\n')).toThrow(
      '.trivyignore.yaml:2: vulnerabilities entry: expired_at "tomorrow" is not a date (write YYYY-MM-DD)',
    );
    expect(bad('secrets:\n  - id: x\n    purls: [pkg:npm/a]\n')).toThrow(
      /:2: secrets entry: purls only apply to vulnerabilities/,
    );
    expect(bad('vulnerabilities:\n  - id: x\n    purls: [npm/a]\n')).toThrow(/"npm\/a" is not a package URL/);
    expect(bad('vulnerabilities:\n  - CVE-1\n')).toThrow(/:2: vulnerabilities entry must be a mapping/);
    expect(bad('vulnerabilities: [\n')).toThrow(/^\.trivyignore\.yaml:\d+: /);
    expect(bad('- id: x\n')).toThrow(/:1: the top level must be a mapping/);
  });

  it('an empty file or an empty section ignores nothing', () => {
    expect(parseIgnoreFile('', '.trivyignore.yaml')).toEqual([]);
    expect(parseIgnoreFile('# nothing yet\nsecrets:\n', '.trivyignore.yml')).toEqual([]);
  });

  it('readIgnoreFile picks the format from the path and names the file as told', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-ignore-'));
    writeFileSync(join(dir, 'ignore.yaml'), YAML);
    writeFileSync(join(dir, 'plain'), PLAIN);
    expect(readIgnoreFile(join(dir, 'ignore.yaml'), 'ci/ignore.yaml')[0]!.file).toBe('ci/ignore.yaml');
    expect(readIgnoreFile(join(dir, 'plain'))).toHaveLength(5);
    expect(() => readIgnoreFile(join(dir, 'missing'), '.trivyignore')).toThrow(
      /cannot read the ignore file \.trivyignore/,
    );
  });
});

describe('resolveIgnoreFile', () => {
  const has =
    (...files: string[]) =>
    (path: string) =>
      files.includes(path);

  it('takes the input, which must exist', () => {
    expect(resolveIgnoreFile('ci/.trivyignore', has('ci/.trivyignore', '.trivyignore'))).toBe(
      'ci/.trivyignore',
    );
    expect(() => resolveIgnoreFile('ci/missing.yaml', has('.trivyignore'))).toThrow(
      'Input "ignore-file": ci/missing.yaml does not exist in the workspace',
    );
  });

  it('else the YAML file, then the plain one, at the workspace root; else none', () => {
    expect(resolveIgnoreFile('', has('.trivyignore', '.trivyignore.yaml'))).toBe('.trivyignore.yaml');
    expect(resolveIgnoreFile(' ', has('.trivyignore'))).toBe('.trivyignore');
    expect(resolveIgnoreFile('', has())).toBeUndefined();
  });
});

describe('expiry', () => {
  it('an entry stops applying at 00:00 UTC on its date, as in Trivy', () => {
    const [entry] = parseIgnoreFile('CVE-1 exp:2025-06-30', '.trivyignore');
    expect(partitionIgnores([entry!], new Date('2025-06-29T23:59:59Z')).expired).toEqual([]);
    expect(partitionIgnores([entry!], new Date('2025-06-30T00:00:00Z')).expired).toEqual([entry]);
  });

  it('splits active from expired and says which entry, file and line expired', () => {
    const { active, expired } = partitionIgnores(parseIgnoreFile(PLAIN, '.trivyignore'), NOW);
    expect(active.map((e) => e.id)).toEqual([
      'CVE-2019-18224',
      'CVE-2019-5094',
      'aws-access-key-id',
      'DS002',
    ]);
    expect(expired.map(expiredMessage)).toEqual(['.trivyignore:6: CVE-2019-1551 expired on 2024-12-31']);
    const yaml = partitionIgnores(parseIgnoreFile(YAML, '.trivyignore.yaml'), NOW);
    expect(yaml.expired.map(expiredMessage)).toEqual([
      '.trivyignore.yaml:6: CVE-2019-1563 expired on 2025-01-31',
    ]);
  });
});

describe('matchIgnore over the real reports', () => {
  const yaml = partitionIgnores(parseIgnoreFile(YAML, '.trivyignore.yaml'), NOW).active;
  const plain = partitionIgnores(parseIgnoreFile(PLAIN, '.trivyignore'), NOW).active;
  const kept = (file: Parameters<typeof fixtureReport>[0], entries = yaml) =>
    findingsFromReport(fixtureReport(file)).filter((f) => !matchIgnore(f, entries));

  it('a purl without version narrows an id to one package (ubuntu-1804: e2fsprogs only)', () => {
    expect(ids(kept('ubuntu-1804.json'))).toEqual([
      'CVE-2019-18276 bash',
      'CVE-2019-5094 libcom-err2',
      'CVE-2019-5094 libext2fs2',
      'CVE-2019-5094 libss2',
    ]);
  });

  it('the plain file ignores an id in every package (ubuntu-1804: all four CVE-2019-5094)', () => {
    expect(ids(kept('ubuntu-1804.json', plain))).toEqual(['CVE-2019-18276 bash']);
  });

  it('ignores the critical libidn2-0 vulnerability of debian-buster by id', () => {
    expect(ids(kept('debian-buster.json', plain))).toEqual(['CVE-2019-18276 bash']);
  });

  it('a purl with a version or qualifiers must match them', () => {
    const withPurl = (purl: string) =>
      parseIgnoreFile(`vulnerabilities:\n  - id: CVE-2019-1559\n    purls: ['${purl}']\n`, 'i.yaml');
    const centos = findingsFromReport(fixtureReport('centos-7.json'));
    const openssl = centos.find((f) => f.id === 'CVE-2019-1559')!;
    expect(matchIgnore(openssl, withPurl('pkg:rpm/centos/openssl-libs?epoch=1'))).toBeDefined();
    expect(matchIgnore(openssl, withPurl('pkg:rpm/centos/openssl-libs@1.0.2k-16.el7'))).toBeDefined();
    expect(matchIgnore(openssl, withPurl('pkg:rpm/centos/openssl-libs@1.0.2k-19.el7'))).toBeUndefined();
    expect(matchIgnore(openssl, withPurl('pkg:rpm/centos/openssl-libs?epoch=2'))).toBeUndefined();
    expect(matchIgnore(openssl, withPurl('pkg:rpm/redhat/openssl-libs'))).toBeUndefined();
  });

  it('secrets: by rule id (plain file) or by id and path pattern (yaml)', () => {
    expect(ids(kept('secrets.json', plain))).toEqual(['mysecret deploy.sh']);
    expect(ids(kept('secrets.json'))).toEqual(['aws-access-key-id deploy.sh']);
    const elsewhere = parseIgnoreFile("secrets:\n  - id: mysecret\n    paths: ['scripts/**']\n", 'i.yaml');
    expect(ids(kept('secrets.json', elsewhere))).toHaveLength(2);
  });

  it('a section applies to its kind only: an id under vulnerabilities does not ignore a secret', () => {
    const wrong = parseIgnoreFile('vulnerabilities:\n  - id: aws-access-key-id\n', 'i.yaml');
    expect(kept('secrets.json', wrong)).toHaveLength(2);
  });

  it('misconfigurations match whatever spelling of the check id (AVD-DS-0002, DS002, DS-0002)', () => {
    expect(kept('dockerfile.json')).toEqual([]);
    expect(kept('dockerfile.json', plain)).toEqual([]);
    const other = parseIgnoreFile(
      "misconfigurations:\n  - id: DS-0002\n    paths: ['docs/Dockerfile']\n",
      'i.yaml',
    );
    expect(kept('dockerfile.json', other)).toHaveLength(1);
  });

  it('an entry without id ignores everything under its paths', () => {
    const vendor = {
      ...findingsFromReport(fixtureReport('debian-buster.json'))[1]!,
      pkgPath: 'vendor/lib/x.jar',
    };
    expect(matchIgnore(vendor, yaml)?.line).toBe(8);
  });

  it('audit findings are matched as misconfigurations, by rule id and compose file', () => {
    const audit: Finding = {
      kind: 'audit',
      id: 'BERTH-C007',
      severity: 'MEDIUM',
      target: 'example/docker-compose.yml',
      class: 'compose',
      title: 'Service api has a writable root filesystem',
      file: 'example/docker-compose.yml',
      service: 'api',
    };
    expect(matchIgnore(audit, yaml)?.id).toBe('BERTH-C007');
    expect(matchIgnore({ ...audit, file: 'other.yml', target: 'other.yml' }, yaml)).toBeUndefined();
  });
});

describe('helpers', () => {
  it('canonicalCheckId', () => {
    expect(['AVD-DS-0002', 'DS002', 'ds-0002', 'DS-0002'].map(canonicalCheckId)).toEqual(
      Array(4).fill('DS-0002'),
    );
    expect(canonicalCheckId('BERTH-C007')).toBe('BERTH-C007');
  });

  it('globMatches: doublestar semantics', () => {
    const m = globMatches;
    expect(m('**/*-lock.json', 'package-lock.json')).toBe(true);
    expect(m('**/*-lock.json', 'a/b/package-lock.json')).toBe(true);
    expect(m('bar/*.json', 'bar/x/y.json')).toBe(false);
    expect(m('bar/**', 'bar/x/y.json')).toBe(true);
    expect(m('{app,docs}/Dockerfile', 'docs/Dockerfile')).toBe(true);
    expect(m('{app,docs}/Dockerfile', 'src/Dockerfile')).toBe(false);
    expect(m('file?.txt', 'file1.txt')).toBe(true);
    expect(m('[ab].txt', 'c.txt')).toBe(false);
    expect(m('[!ab].txt', 'c.txt')).toBe(true);
    expect(m('usr/lib/*.so', 'usr/lib/x.so.1')).toBe(false);
    // More of the same semantics: escapes, unclosed classes, nested braces, `**` in the middle and at
    // either end, dot files, non-ASCII names.
    expect(m('a\\*b/c', 'a*b/c')).toBe(true);
    expect(m('a\\*b/c', 'axb/c')).toBe(false);
    expect(m('[.txt', '[.txt')).toBe(true);
    expect(m('{a,{b,c}x}/f', 'cx/f')).toBe(true);
    expect(m('src/**/test/*.js', 'src/test/a.js')).toBe(true);
    expect(m('src/**/test/*.js', 'src/a/b/test/a.js')).toBe(true);
    expect(m('src/**/test/*.js', 'src/a/b/test/x/a.js')).toBe(false);
    expect(m('**', 'a/b/c')).toBe(true);
    expect(m('*', '.env')).toBe(true);
    expect(m('*', 'a/b')).toBe(false);
    expect(m('d?ta/*.json', 'düta/ü.json')).toBe(true);
  });

  it('globMatches: a pathological pattern is answered right, without catastrophic backtracking', () => {
    // Each `*` of the first would multiply a backtracking regex's work by the name's length (the
    // regex minimatch or picomatch compile it to takes minutes on this name); the scan answers at once.
    const name = 'a'.repeat(5_000);
    expect(globMatches(`${'*a'.repeat(40)}b`, name)).toBe(false);
    expect(globMatches(`${'*a'.repeat(40)}`, name)).toBe(true);
    expect(globMatches(`${'*a'.repeat(40)}*`, `${name}b`)).toBe(true);
    // Nested `**` over a deep path: the same for segments.
    const deep = `${'d/'.repeat(2_000)}x`;
    expect(globMatches(`${'**/d/'.repeat(30)}y`, deep)).toBe(false);
    expect(globMatches(`${'**/d/'.repeat(30)}x`, deep)).toBe(true);
  });

  it('a path glob that cannot be read is an error naming the file and line', () => {
    expect(() => globMatches('src/[z-a].txt', 'src/b.txt')).toThrow(GlobError);
    expect(() => globMatches('src/[z-a].txt', 'src/b.txt')).toThrow(
      '"src/[z-a].txt" is not a valid glob: [z-a] is not a character class',
    );
    const yaml = "vulnerabilities:\n  - id: CVE-1\n  - id: CVE-2\n    paths: ['ok/**', 'src/[z-a].txt']\n";
    expect(() => parseIgnoreFile(yaml, '.trivyignore.yaml')).toThrow(
      '.trivyignore.yaml:3: vulnerabilities entry: paths: "src/[z-a].txt" is not a valid glob: ' +
        '[z-a] is not a character class',
    );
    expect(() => parseIgnoreFile(yaml, '.trivyignore.yaml')).toThrow(IgnoreFileError);
  });

  it('parsePurl', () => {
    expect(parsePurl('pkg:npm/%40angular/core@1.2.3?x=1#sub/dir/')).toEqual({
      type: 'npm',
      namespace: '@angular',
      name: 'core',
      version: '1.2.3',
      qualifiers: { x: '1' },
      subpath: 'sub/dir',
    });
    expect(parsePurl('pkg:deb/debian/bash')).toMatchObject({
      namespace: 'debian',
      name: 'bash',
      version: '',
    });
    expect(parsePurl('npm/left-pad')).toBeUndefined();
    expect(parsePurl('pkg:npm')).toBeUndefined();
  });
});
