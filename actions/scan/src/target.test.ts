import { describe, expect, it } from 'vitest';
import type { Finding } from './finding.js';
import {
  categoryTarget,
  describeSource,
  describeTarget,
  docsUrl,
  inRepository,
  repoPrefix,
  withRepoPaths,
  workspacePath,
} from './target.js';

const ws = '/home/runner/work/shop/shop';
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('paths', () => {
  it('workspacePath and repoPrefix', () => {
    expect(workspacePath(`${ws}/services/api`, ws)).toBe('services/api');
    expect(workspacePath(ws, ws)).toBe('.');
    expect(workspacePath('/srv/other', ws)).toBe('/srv/other');
    expect(workspacePath(`${ws}/..x/y`, ws)).toBe('..x/y');
    expect(repoPrefix(`${ws}/services/api`, ws)).toBe('services/api');
    expect(repoPrefix(ws, ws)).toBe('');
    expect(repoPrefix('/srv/other', ws)).toBe('');
  });
});

describe('naming the target', () => {
  it('SARIF category targets', () => {
    expect(
      categoryTarget({ kind: 'image', ref: `ghcr.io/acme/api@${DIGEST}`, source: 'remote' }, ws, null),
    ).toEqual({
      kind: 'image',
      ref: `ghcr.io/acme/api@${DIGEST}`,
    });
    expect(categoryTarget({ kind: 'archive', path: `${ws}/api.tar` }, ws, ['ghcr.io/acme/api:1'])).toEqual({
      kind: 'image',
      ref: 'ghcr.io/acme/api:1',
    });
    expect(categoryTarget({ kind: 'archive', path: `${ws}/api.tar.gz` }, ws, null)).toEqual({
      kind: 'image',
      ref: 'api',
    });
    expect(categoryTarget({ kind: 'config', path: `${ws}/deploy` }, ws, undefined)).toEqual({
      kind: 'config',
      path: 'deploy',
    });
  });

  it('titles and sources', () => {
    expect(describeTarget({ kind: 'fs', path: ws }, ws)).toBe('fs .');
    expect(describeTarget({ kind: 'archive', path: `${ws}/out/api.tar` }, ws)).toBe('out/api.tar');
    expect(describeSource({ kind: 'image', ref: 'a:1', source: 'docker' }, ['vuln', 'secret'])).toBe(
      'image read from the local Docker engine · scanners vuln, secret',
    );
    expect(describeSource({ kind: 'config', path: ws }, ['misconfig'])).toBe('files · scanner misconfig');
  });

  it('annotations point at repository files only for file scans and the audit', () => {
    const secret = { kind: 'secret', file: 'app/.env' } as Finding;
    const audit = { kind: 'audit', file: 'docker-compose.yml' } as Finding;
    const vuln = { kind: 'vuln' } as Finding;
    const image = inRepository({ kind: 'image', ref: 'a:1', source: 'remote' });
    expect([image(secret), image(audit), image(vuln)]).toEqual([false, true, false]);
    const fs = inRepository({ kind: 'fs', path: ws });
    expect([fs(secret), fs(audit), fs(vuln)]).toEqual([true, true, false]);
  });

  it("docsUrl: the rules' section in the action's own repository and ref", () => {
    expect(docsUrl({})).toBeUndefined();
    expect(
      docsUrl({
        GITHUB_ACTION_REPOSITORY: 'acme/berth',
        GITHUB_ACTION_REF: 'v1',
        GITHUB_SERVER_URL: 'https://ghe.acme.test',
      }),
    ).toBe('https://ghe.acme.test/acme/berth/blob/v1/actions/scan/README.md#compose-audit');
  });
});

const misconfig: Finding = {
  kind: 'misconfig',
  id: 'DS-0002',
  severity: 'HIGH',
  target: 'api/Dockerfile',
  class: 'config',
  title: 'root user',
  file: 'api/Dockerfile',
  line: 3,
};
const vuln: Finding = {
  kind: 'vuln',
  id: 'CVE-1',
  severity: 'HIGH',
  target: 'go.sum',
  class: 'lang-pkgs',
  title: 't',
};

describe('withRepoPaths', () => {
  it("prefixes the files of secrets and misconfigurations with the scanned directory's path", () => {
    expect(withRepoPaths([misconfig, vuln], 'services')).toEqual([
      { ...misconfig, file: 'services/api/Dockerfile' },
      vuln,
    ]);
    expect(withRepoPaths([misconfig], '')).toEqual([misconfig]);
    expect(withRepoPaths([misconfig], '.')).toEqual([misconfig]);
  });
});
