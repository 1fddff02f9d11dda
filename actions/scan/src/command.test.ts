import { describe, expect, it } from 'vitest';
import {
  credentialHost,
  goDuration,
  needsVulnerabilityDb,
  planTrivyRuns,
  registryHost,
  trivyDbDownloadArgs,
  trivyEnv,
  trivyCommands,
  trivyScanArgs,
  type ScanCommand,
} from './command.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const base: ScanCommand = {
  target: { kind: 'image', ref: `ghcr.io/acme/api@${DIGEST}`, source: 'remote' },
  scanners: ['vuln', 'secret'],
  cacheDir: '/cache',
  output: '/work/trivy.json',
  timeoutMs: 600_000,
  dbRepositories: ['mirror.gcr.io/aquasec/trivy-db:2', 'ghcr.io/aquasecurity/trivy-db:2'],
  skipDbUpdate: false,
  javaDb: false,
  skipCheckUpdate: false,
};

describe('trivyScanArgs', () => {
  it('an image from its registry: JSON to a file, no filtering, the DB from the repositories in order', () => {
    expect(trivyScanArgs(base)).toEqual([
      'image',
      '--cache-dir',
      '/cache',
      '--skip-version-check',
      '--disable-telemetry',
      '--timeout',
      '600s',
      '--format',
      'json',
      '--output',
      '/work/trivy.json',
      '--no-progress',
      '--list-all-pkgs=false',
      '--scanners',
      'vuln,secret',
      '--db-repository',
      'mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2',
      '--skip-java-db-update',
      '--image-src',
      'remote',
      '--',
      `ghcr.io/acme/api@${DIGEST}`,
    ]);
  });

  it('never filters in Trivy: no severity, ignore file, ignore-unfixed or exit code', () => {
    for (const args of [
      trivyScanArgs(base),
      trivyScanArgs({
        ...base,
        target: { kind: 'fs', path: '/repo' },
        scanners: ['vuln', 'secret', 'misconfig'],
      }),
      trivyScanArgs({ ...base, target: { kind: 'config', path: '/repo' }, scanners: ['misconfig'] }),
    ]) {
      expect(args.join(' ')).not.toMatch(
        /--severity|--ignorefile|--ignore-unfixed|--exit-code|--ignore-policy/,
      );
    }
  });

  it('a fresh DB is not updated; java-db lets Trivy fetch the Java DB', () => {
    const args = trivyScanArgs({ ...base, skipDbUpdate: true, javaDb: true });
    expect(args).toContain('--skip-db-update');
    expect(args).not.toContain('--db-repository');
    expect(args).not.toContain('--skip-java-db-update');
  });

  it('a local image, an archive', () => {
    expect(
      trivyScanArgs({ ...base, target: { kind: 'image', ref: 'api:dev', source: 'docker' } }).slice(-4),
    ).toEqual(['--image-src', 'docker', '--', 'api:dev']);
    expect(trivyScanArgs({ ...base, target: { kind: 'archive', path: '/w/api.tar' } }).slice(-2)).toEqual([
      '--input',
      '/w/api.tar',
    ]);
    expect(trivyScanArgs({ ...base, target: { kind: 'archive', path: '/w/api.tar' } })[0]).toBe('image');
  });

  it('fs without vuln needs no DB; config takes none of the image, DB or package flags', () => {
    const fs = trivyScanArgs({ ...base, target: { kind: 'fs', path: '/repo' }, scanners: ['secret'] });
    expect(fs[0]).toBe('fs');
    expect(fs.slice(-2)).toEqual(['--', '/repo']);
    expect(fs.join(' ')).not.toMatch(/db-/);
    const config = trivyScanArgs({
      ...base,
      target: { kind: 'config', path: '/repo/example' },
      scanners: ['misconfig'],
      skipCheckUpdate: true,
    });
    expect(config).toEqual([
      'config',
      '--cache-dir',
      '/cache',
      '--skip-version-check',
      '--disable-telemetry',
      '--timeout',
      '600s',
      '--format',
      'json',
      '--output',
      '/work/trivy.json',
      '--skip-check-update',
      '--',
      '/repo/example',
    ]);
  });

  it('skips the checks bundle only where misconfigurations are scanned', () => {
    expect(trivyScanArgs({ ...base, skipCheckUpdate: true })).not.toContain('--skip-check-update');
    expect(trivyScanArgs({ ...base, scanners: ['vuln', 'misconfig'], skipCheckUpdate: true })).toContain(
      '--skip-check-update',
    );
  });

  it('needsVulnerabilityDb', () => {
    expect(needsVulnerabilityDb(base.target, ['vuln'])).toBe(true);
    expect(needsVulnerabilityDb(base.target, ['secret'])).toBe(false);
    expect(needsVulnerabilityDb({ kind: 'config', path: '.' }, ['vuln'])).toBe(false);
  });

  it('goDuration and the DB download', () => {
    expect(goDuration(90_000)).toBe('90s');
    expect(goDuration(1500)).toBe('1500ms');
    expect(trivyDbDownloadArgs(base)).toEqual([
      'image',
      '--cache-dir',
      '/cache',
      '--skip-version-check',
      '--disable-telemetry',
      '--timeout',
      '600s',
      '--no-progress',
      '--download-db-only',
      '--db-repository',
      'mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2',
    ]);
  });
});

describe('trivyEnv', () => {
  it("removes the runner's TRIVY_* variables and adds the credentials only when given", () => {
    const runner = { PATH: '/bin', TRIVY_SEVERITY: 'LOW', trivy_ignorefile: 'x', TRIVY_PASSWORD: 'old' };
    expect(trivyEnv(runner)).toEqual({
      TRIVY_SEVERITY: undefined,
      trivy_ignorefile: undefined,
      TRIVY_PASSWORD: undefined,
    });
    expect(trivyEnv(runner, { username: 'u', password: 'p' })).toEqual({
      TRIVY_SEVERITY: undefined,
      trivy_ignorefile: undefined,
      TRIVY_USERNAME: 'u',
      TRIVY_PASSWORD: 'p',
    });
  });
});

describe('planTrivyRuns: credentials reach only the registry they are for', () => {
  const publicDb = ['mirror.gcr.io', 'ghcr.io'];

  it('registryHost and credentialHost', () => {
    expect(registryHost('localhost:5000/berth/trivy-db:2')).toBe('localhost:5000');
    expect(registryHost('postgres:16')).toBe('docker.io');
    expect(credentialHost(`ghcr.io/acme/api@${DIGEST}`, ['mirror.gcr.io/aquasec/trivy-db:2'])).toBe(
      'ghcr.io',
    );
    expect(credentialHost(undefined, ['registry.acme.test/trivy-db:2'])).toBe('registry.acme.test');
    expect(credentialHost(undefined, [])).toBeUndefined();
  });

  it('no credentials: one process', () => {
    expect(planTrivyRuns({ credentials: false, imageHost: 'ghcr.io', dbHosts: publicDb })).toEqual({
      separateDbDownload: false,
      downloadCredentials: false,
      scanCredentials: false,
      skipCheckUpdate: false,
    });
  });

  it('a private image with the public DB: the DB is downloaded by a process without them', () => {
    expect(
      planTrivyRuns({
        credentials: true,
        credentialHost: 'ghcr.io',
        imageHost: 'ghcr.io',
        dbHosts: publicDb,
      }),
    ).toEqual({
      separateDbDownload: true,
      downloadCredentials: false,
      scanCredentials: true,
      skipCheckUpdate: true,
    });
  });

  it('image and DB on the same registry, or a fresh DB: one process with them', () => {
    const lab = 'localhost:5000';
    expect(
      planTrivyRuns({ credentials: true, credentialHost: lab, imageHost: lab, dbHosts: [lab] }),
    ).toMatchObject({ separateDbDownload: false, downloadCredentials: true, scanCredentials: true });
    expect(
      planTrivyRuns({ credentials: true, credentialHost: lab, imageHost: lab, dbHosts: [] }),
    ).toMatchObject({ separateDbDownload: false, scanCredentials: true });
  });

  it('a local image (no registry contact) and the public DB: nobody gets them', () => {
    expect(planTrivyRuns({ credentials: true, credentialHost: 'ghcr.io', dbHosts: publicDb })).toEqual({
      separateDbDownload: false,
      downloadCredentials: false,
      scanCredentials: false,
      skipCheckUpdate: false,
    });
  });

  it('a private DB mirror for an fs scan: the scan process downloads it with them', () => {
    const mirror = 'registry.acme.test';
    expect(planTrivyRuns({ credentials: true, credentialHost: mirror, dbHosts: [mirror] })).toEqual({
      separateDbDownload: false,
      downloadCredentials: true,
      scanCredentials: true,
      skipCheckUpdate: true,
    });
  });

  it('an image on a public registry with a private DB mirror: split the other way', () => {
    expect(
      planTrivyRuns({
        credentials: true,
        credentialHost: 'docker.io',
        imageHost: 'docker.io',
        dbHosts: ['registry.acme.test'],
      }),
    ).toEqual({
      separateDbDownload: true,
      downloadCredentials: false,
      scanCredentials: true,
      skipCheckUpdate: true,
    });
  });
});

describe('trivyCommands', () => {
  const { skipDbUpdate: _db, skipCheckUpdate: _checks, ...settings } = base;
  const image = `ghcr.io/acme/api@${DIGEST}`;

  it('without credentials: the scan alone, updating the DB when it is not fresh', () => {
    expect(trivyCommands({ ...settings, updateDb: true, credentials: false, image })).toEqual([
      { args: trivyScanArgs(base), credentials: false },
    ]);
    expect(trivyCommands({ ...settings, updateDb: false, credentials: false, image })).toEqual([
      { args: trivyScanArgs({ ...base, skipDbUpdate: true }), credentials: false },
    ]);
  });

  it("credentials for the image's registry and a DB elsewhere: the DB first without them", () => {
    expect(trivyCommands({ ...settings, updateDb: true, credentials: true, image })).toEqual([
      { args: trivyDbDownloadArgs(base), credentials: false },
      { args: trivyScanArgs({ ...base, skipDbUpdate: true, skipCheckUpdate: true }), credentials: true },
    ]);
  });
});
