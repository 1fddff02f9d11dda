// berth/scan with the lab's real Trivy, its release server and vulnerability DB, the lab registry and
// the loopback GitHub cache service, through the runner harness. The example api image is pushed
// once and scanned by digest; it carries the lab DB's advisories (test/trivy-advisories.ts).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanCategory } from '../actions/scan/src/category.js';
import { dbAgeHours, type DbMetadata } from '../actions/scan/src/db.js';
import type { SarifLog } from '../actions/scan/src/sarif.js';
import { validateSarif } from '../actions/scan/src/testing.js';
import { startCacheServer, type CacheServer } from '../scripts/lab/cache-server.js';
import { runAction, type ActionResult, type RunOptions } from '../scripts/lab/harness.js';
import { buildPush, labDir, readLab, readMonitoringLab, repoRoot } from '../scripts/lab/lab.js';
import { LabAdvisories } from './trivy-advisories.js';

const exec = promisify(execFile);
const lab = readLab();
const monitoring = readMonitoringLab();
const work = mkdtempSync(join(tmpdir(), 'berth-scan-test-'));
/** One tool cache for the whole file, as on a runner: only the first run downloads Trivy. */
const toolCache = join(work, 'tool-cache');
/** The same cache-dir path every run (the GitHub cache keys on it), emptied before each as on a fresh runner. */
const cacheDir = join(work, 'trivy-cache');
const today = new Date().toISOString().slice(0, 10);
const dbKey = `berth-trivy-db-linux-${today}`;
const releasesLog = join(labDir, 'releases.log');
const registryLog = join(labDir, 'registry.log');
const dbPath = `/v2/${lab.trivyDbRepository.replace(/^[^/]+\//, '').replace(/:[^:/]+$/, '')}/`;
const tag = `${lab.registry}/berth-scan-test/api:t`;

let image: string;
let cache: CacheServer;

beforeAll(async () => {
  mkdirSync(toolCache);
  [image, cache] = await Promise.all([
    buildPush(lab, join(repoRoot, 'example/api'), tag),
    startCacheServer(),
  ]);
});

afterAll(async () => {
  await cache?.close();
  await exec('docker', ['image', 'rm', tag]).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

interface Run extends ActionResult {
  /** GETs the release server answered for Trivy during the run */
  releaseGets: string[];
  /** requests the registry answered for the DB repository during the run */
  dbRequests: string[];
}

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const linesSince = (file: string, offset: number) =>
  readFileSync(file).subarray(offset).toString('utf8').split('\n');

/**
 * A step on a fresh runner (empty Trivy cache dir, no docker login) that shares the tool cache and,
 * unless `cacheEnv` says otherwise, the GitHub cache.
 */
async function scan(
  inputs: RunOptions['inputs'],
  extra: Partial<RunOptions> = {},
  cacheEnv: Record<string, string> = cache.env,
  keepCacheDir = false,
): Promise<Run> {
  if (!keepCacheDir) rmSync(cacheDir, { recursive: true, force: true });
  const releases = size(releasesLog);
  const registry = size(registryLog);
  const result = await runAction('scan', {
    toolCache,
    ...extra,
    env: { DOCKER_CONFIG: mkdtempSync(join(work, 'docker-config-')), ...cacheEnv, ...extra.env },
    inputs: {
      'trivy-download-url': lab.trivyDownloadUrl,
      // promtool and amtool from the lab, for a stack with monitoring configs (none: nothing installed).
      'prometheus-version': monitoring.prometheusVersion,
      'alertmanager-version': monitoring.alertmanagerVersion,
      'monitoring-download-url': monitoring.downloadUrl,
      'db-repository': lab.trivyDbRepository,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'cache-dir': cacheDir,
      ...inputs,
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // both servers log after they answer
  const prefix = new URL(lab.trivyDownloadUrl).pathname;
  return {
    ...result,
    releaseGets: linesSince(releasesLog, releases)
      .map((line) => /"GET (\S+) HTTP/.exec(line)?.[1])
      .filter((path): path is string => path?.startsWith(`${prefix}/`) ?? false),
    dbRequests: linesSince(registryLog, registry).filter((line) => line.includes(dbPath)),
  };
}

function json<T>(file: string | undefined): T {
  return JSON.parse(readFileSync(file!, 'utf8')) as T;
}

interface Report {
  Results?: { Target: string; Vulnerabilities?: { VulnerabilityID: string; InstalledVersion: string }[] }[];
}
const vulnIds = (report: Report) =>
  (report.Results ?? []).flatMap((r) => (r.Vulnerabilities ?? []).map((v) => v.VulnerabilityID)).sort();
const sarifResults = (log: SarifLog, run = 0) => log.runs[run]!.results.map((r) => r.ruleId).sort();
const twirp = (method: string) => cache.requests().filter((r) => r.path.endsWith(`/${method}`));

describe('berth/scan on the example api image', () => {
  const tar = LabAdvisories.CriticalFixed;
  const gzip = LabAdvisories.HighFixed;

  it('installs Trivy, fails the gate at CRITICAL naming the finding, and saves the DB to the cache anyway', async () => {
    const r = await scan({ image });
    expect(r.exitCode, r.log).toBe(1);
    // Trivy came from the release server, verified against its checksums file.
    expect(r.releaseGets.map((p) => p.split('/').pop()).sort()).toEqual([
      `trivy_${lab.trivyVersion}_Linux-64bit.tar.gz`,
      `trivy_${lab.trivyVersion}_checksums.txt`,
    ]);
    expect(r.log).toMatch(/SHA-256 [0-9a-f]{64} matches trivy_0\.74\.0_checksums\.txt/);
    expect(r.dbRequests.length).toBeGreaterThan(0);

    const report = json<Report>(r.outputs['report-file']);
    expect(vulnIds(report)).toEqual([tar.id, gzip.id]);
    const installed = report
      .Results!.flatMap((x) => x.Vulnerabilities ?? [])
      .find((v) => v.VulnerabilityID === tar.id)!.InstalledVersion;
    const sentence =
      `The scan failed because 1 finding is at or above fail-on CRITICAL ` +
      `(1 CRITICAL: ${tar.id} in tar ${installed} -> ${tar.fixedVersion}).`;
    expect(r.errors.at(-1)).toBe(sentence);
    expect(r.outputs).toMatchObject({
      critical: '1',
      high: '1',
      medium: '0',
      low: '0',
      unknown: '0',
      total: '2',
      failed: 'true',
      'trivy-version': lab.trivyVersion,
    });
    const meta = json<DbMetadata>(join(cacheDir, 'db/metadata.json'));
    expect(r.outputs['db-age-hours']).toMatch(/^\d+\.\d$/);
    expect(Math.abs(Number(r.outputs['db-age-hours']) - dbAgeHours(meta, new Date())!)).toBeLessThan(0.2);

    const sarif = json<SarifLog>(r.outputs['sarif-file']);
    expect(validateSarif(sarif, { requireCategory: true })).toEqual([]);
    expect(sarif.runs.map((run) => run.automationDetails.id)).toEqual([
      scanCategory({ kind: 'image', ref: image }),
    ]);
    expect(sarif.runs[0]!.automationDetails.id).toBe('berth-scan/image/berth-scan-test/api/');
    expect(sarifResults(sarif)).toEqual([tar.id, gzip.id]);

    expect(r.summary).toContain(`❌ ${sentence}`);
    expect(r.summary).toContain(`| CRITICAL | ${tar.id} | \`tar\` | ${installed} -> ${tar.fixedVersion} |`);
    expect(r.summary).toContain('image read from its registry');
    // The gate failed, and today's DB was saved before the step said so.
    expect(cache.entries().map((e) => e.key)).toEqual([dbKey]);
    expect(r.summary).toContain(`saved as \`${dbKey}\``);
    // The password reached Trivy through its environment only.
    expect(r.masks).toContain(lab.registryPassword);
    expect(r.log).not.toContain(lab.registryPassword);
  });

  it('a second run downloads neither Trivy nor the DB: tool cache and GitHub cache are warm', async () => {
    const r = await scan({ image });
    expect(r.exitCode, r.log).toBe(1);
    expect(r.releaseGets).toEqual([]);
    expect(r.dbRequests).toEqual([]);
    expect(r.log).toContain(`Trivy ${lab.trivyVersion} found in the tool cache`);
    expect(r.log).toContain(`Restored the DB from the cache entry ${dbKey}`);
    expect(r.log).toContain('--skip-db-update');
    expect(r.log).not.toContain('Downloading vulnerability DB');
    expect(r.outputs['db-age-hours']).toMatch(/^\d+\.\d$/);
    // Today's entry was what it restored, so nothing is saved.
    expect(twirp('CreateCacheEntry')).toHaveLength(1);
    expect(cache.entries()).toHaveLength(1);
    expect(r.outputs).toMatchObject({ critical: '1', high: '1', total: '2' });

    // A runner that kept its cache dir (self-hosted): the fresh DB there is used, the cache left alone.
    const requests = cache.requests().length;
    const kept = await scan({ image }, {}, cache.env, true);
    expect(kept.exitCode, kept.log).toBe(1);
    expect(cache.requests()).toHaveLength(requests);
    expect(kept.dbRequests).toEqual([]);
    expect(kept.summary).toContain('fresh in the cache dir already (GitHub cache not used)');
  });

  it('the outputs, the report and the SARIF file count the same findings, with the severity filter', async () => {
    const all = await scan({
      image,
      severity: 'CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN',
      'ignore-unfixed': false,
      'fail-on': 'none',
    });
    expect(all.exitCode, all.log).toBe(0);
    expect(all.outputs).toMatchObject({
      critical: '2',
      high: '1',
      medium: '1',
      low: '1',
      total: '5',
      failed: 'false',
    });
    const everything = [
      LabAdvisories.CriticalFixed,
      LabAdvisories.HighFixed,
      LabAdvisories.MediumFixed,
      LabAdvisories.LowFixed,
      LabAdvisories.CriticalUnfixed,
    ]
      .map((a) => a.id)
      .sort();
    expect(vulnIds(json<Report>(all.outputs['report-file']))).toEqual(everything);
    expect(sarifResults(json<SarifLog>(all.outputs['sarif-file']))).toEqual(everything);
    expect(all.errors).toEqual([]);

    const medium = await scan({ image, severity: 'MEDIUM', 'fail-on': 'none' });
    expect(medium.exitCode, medium.log).toBe(0);
    expect(medium.outputs).toMatchObject({ critical: '0', high: '0', medium: '1', low: '0', total: '1' });
    expect(vulnIds(json<Report>(medium.outputs['report-file']))).toEqual([LabAdvisories.MediumFixed.id]);
    const sarif = json<SarifLog>(medium.outputs['sarif-file']);
    expect(validateSarif(sarif, { requireCategory: true })).toEqual([]);
    expect(sarifResults(sarif)).toEqual([LabAdvisories.MediumFixed.id]);
    expect(medium.summary).toContain('✅ The scan passed: fail-on is none');
  });

  it('an image the engine has is read from the engine, with the same findings', async () => {
    const r = await scan({ image: tag });
    expect(r.exitCode, r.log).toBe(1);
    expect(r.log).toContain('--image-src docker');
    expect(r.summary).toContain('image read from the local Docker engine');
    expect(vulnIds(json<Report>(r.outputs['report-file']))).toEqual([tar.id, gzip.id]);
    expect(json<SarifLog>(r.outputs['sarif-file']).runs[0]!.automationDetails.id).toBe(
      'berth-scan/image/berth-scan-test/api/',
    );
  });

  it('an ignore entry with a future date passes the gate; once its date has passed it fails, naming entry, file and line', async () => {
    const workspace = mkdtempSync(join(work, 'ws-'));
    writeFileSync(
      join(workspace, '.trivyignore'),
      `# accepted until the base image is rebuilt\n${tar.id} exp:2999-12-31\n`,
    );
    const ignored = await scan({ image }, { workspace });
    expect(ignored.exitCode, ignored.log).toBe(0);
    expect(ignored.outputs).toMatchObject({ critical: '0', high: '1', total: '1', failed: 'false' });
    expect(vulnIds(json<Report>(ignored.outputs['report-file']))).toEqual([gzip.id]);
    expect(sarifResults(json<SarifLog>(ignored.outputs['sarif-file']))).toEqual([gzip.id]);
    expect(ignored.summary).toContain('1 ignored by the ignore file');

    writeFileSync(
      join(workspace, '.trivyignore'),
      `# accepted until the base image is rebuilt\n${tar.id} exp:2020-01-31\n`,
    );
    const expired = await scan({ image }, { workspace });
    expect(expired.exitCode, expired.log).toBe(1);
    expect(expired.errors.at(-1)).toMatch(
      new RegExp(
        `^The scan failed because 1 finding is at or above fail-on CRITICAL .* and 1 ignore entry has expired ` +
          `\\(\\.trivyignore:2: ${tar.id} expired on 2020-01-31\\): renew or remove it\\.$`,
      ),
    );
    expect(expired.errors).toContain(
      '.trivyignore:2: BERTH-LAB-2026-0001 expired on 2020-01-31: renew the date or remove the entry',
    );
    expect(expired.summary).toContain('#### Expired ignore entries');
    expect(expired.outputs).toMatchObject({ critical: '1', failed: 'true' });
  });
});

describe('berth/scan on an archive and on files', () => {
  it('scans a docker save archive, named in SARIF by the image it holds', async () => {
    const workspace = mkdtempSync(join(work, 'ws-'));
    await exec('docker', ['image', 'save', '--output', join(workspace, 'api.tar'), tag]);
    const r = await scan({ input: 'api.tar', 'fail-on': 'none' }, { workspace });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.log).toContain(`--input ${join(workspace, 'api.tar')}`);
    expect(r.outputs).toMatchObject({ critical: '1', high: '1', total: '2' });
    expect(json<SarifLog>(r.outputs['sarif-file']).runs[0]!.automationDetails.id).toBe(
      'berth-scan/image/berth-scan-test/api/',
    );
  });

  it('an fs scan finds a secret, points code scanning at its repository path and never shows it', async () => {
    const workspace = mkdtempSync(join(work, 'ws-'));
    mkdirSync(join(workspace, 'app'));
    // Built here so that no key-shaped string is committed.
    const key = ['AKIA', 'Q7XW2', 'ZP4N', 'KRTM', '3LB'].join('');
    writeFileSync(join(workspace, 'app', 'deploy.env'), `REGION=eu-west-1\nAWS_ACCESS_KEY_ID=${key}\n`);
    const r = await scan({ 'scan-type': 'fs', 'scan-ref': 'app', scanners: 'secret' }, { workspace });
    expect(r.exitCode, r.log).toBe(1);
    expect(r.outputs).toMatchObject({ critical: '1', total: '1', 'db-age-hours': '' });
    expect(r.errors.at(-1)).toMatch(
      /^The scan failed because 1 finding is at or above fail-on CRITICAL \(1 CRITICAL: aws-access-key-id in app\/deploy\.env:2\)\.$/,
    );
    expect(r.errors).toContain('aws-access-key-id in app/deploy.env:2: AWS Access Key ID');
    const sarif = json<SarifLog>(r.outputs['sarif-file']);
    expect(sarif.runs[0]!.automationDetails.id).toBe('berth-scan/fs/app/');
    expect(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation).toMatchObject({
      artifactLocation: { uri: 'app/deploy.env' },
      region: { startLine: 2 },
    });
    expect(r.dbRequests).toEqual([]);
    expect(r.log + r.summary + JSON.stringify(sarif)).not.toContain(key);
  });
});

describe('berth/scan when the cache service fails', () => {
  it('warns, does not try to save, and Trivy downloads the DB itself', async () => {
    const failing = await startCacheServer({ fail: 'all' });
    try {
      const r = await scan({ image, 'fail-on': 'none' }, {}, failing.env);
      expect(r.exitCode, r.log).toBe(0);
      expect(r.warnings).toEqual([
        expect.stringMatching(
          /^Failed to restore: Failed to GetCacheEntryDownloadURL: Failed to make request after 5 attempts/,
        ),
      ]);
      expect(failing.requests().every((q) => q.path.endsWith('/GetCacheEntryDownloadURL'))).toBe(true);
      expect(r.dbRequests.length).toBeGreaterThan(0);
      expect(r.outputs).toMatchObject({ critical: '1', total: '2' });
      expect(r.outputs['db-age-hours']).toMatch(/^\d+\.\d$/);
      expect(r.summary).toContain('cache service unavailable');
    } finally {
      await failing.close();
    }
    // No cache service at all (a runner without one): one warning, the same scan.
    const none = await scan({ image, 'fail-on': 'none' }, {}, {});
    expect(none.exitCode, none.log).toBe(0);
    expect(none.warnings).toEqual([
      expect.stringMatching(/^The GitHub cache service is not available to this job/),
    ]);
    expect(none.outputs).toMatchObject({ critical: '1', total: '2' });
  });
});

describe('berth/scan: config scans and the compose audit', () => {
  it('the example app passes: its Dockerfiles with the embedded checks, offline, and its production stack', async () => {
    const r = await scan({
      'scan-type': 'config',
      'scan-ref': 'example',
      'compose-files': 'example/docker-compose.yml\nexample/docker-compose.production.yml',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.log).toContain('Falling back to embedded checks');
    expect(r.log).toContain('The ERROR above is not a failure');
    expect(r.dbRequests).toEqual([]);
    expect(r.releaseGets).toEqual([]);
    expect(r.outputs).toMatchObject({ total: '0', failed: 'false', 'db-age-hours': '' });
    expect(r.summary).toContain('#### Compose audit\n\nEvery rule passed.');
    // Trivy's own report keeps the Dockerfiles' MEDIUM findings out (severity CRITICAL,HIGH).
    const raw = json<{ Results?: { Target: string }[] }>(r.outputs['report-file']);
    expect((raw.Results ?? []).map((x) => x.Target).sort()).toEqual([
      'api/Dockerfile',
      'certbot/Dockerfile',
      'db/Dockerfile',
      'monitoring/Dockerfile',
      'nginx/Dockerfile',
    ]);
    const sarif = json<SarifLog>(r.outputs['sarif-file']);
    expect(validateSarif(sarif, { requireCategory: true })).toEqual([]);
    expect(sarif.runs.map((run) => [run.automationDetails.id, run.results.length])).toEqual([
      ['berth-scan/config/example/', 0],
      ['berth-scan/compose/example/', 0],
    ]);

    // The same Dockerfiles with MEDIUM counted: code scanning gets repository paths.
    const medium = await scan({
      'scan-type': 'config',
      'scan-ref': 'example',
      severity: 'MEDIUM',
      'fail-on': 'none',
    });
    expect(medium.exitCode, medium.log).toBe(0);
    const uris = json<SarifLog>(medium.outputs['sarif-file']).runs[0]!.results.map(
      (x) => x.locations[0]!.physicalLocation.artifactLocation.uri,
    );
    expect(Number(medium.outputs.total)).toBeGreaterThan(0);
    expect(new Set(uris)).toEqual(
      new Set([
        'example/api/Dockerfile',
        'example/certbot/Dockerfile',
        'example/db/Dockerfile',
        'example/monitoring/Dockerfile',
        'example/nginx/Dockerfile',
      ]),
    );
  });

  it("the example's monitoring stack passes: its Prometheus config, alert rules and Alertmanager config checked", async () => {
    const r = await scan({
      'scan-type': 'config',
      'scan-ref': 'example/prometheus',
      'compose-files': 'example/docker-compose.yml\nexample/docker-compose.monitoring.yml',
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.errors).toEqual([]);
    for (const file of [
      'prometheus/prometheus.yml',
      'prometheus/alert_rules.yml',
      'alertmanager/alertmanager.yml',
    ]) {
      expect(r.log).toContain(`example/${file}: a valid`);
    }
    expect(r.summary).toMatch(
      /#### Monitoring configs\n\nEvery check passed \(\d+ files checked with promtool and amtool\)/,
    );
    const sarif = json<SarifLog>(r.outputs['sarif-file']);
    const run = sarif.runs.find((x) => x.automationDetails.id.startsWith('berth-scan/monitoring/'));
    expect(run?.results).toEqual([]);
  });

  it('the bad stack fails, with the rule ids in the summary and the SARIF file', async () => {
    const dir = 'test/fixtures/compose-audit';
    const r = await scan({
      'scan-type': 'config',
      'scan-ref': dir,
      'compose-files': `${dir}/docker-compose.bad.yml\n${dir}/docker-compose.bad.override.yml`,
    });
    expect(r.exitCode, r.log).toBe(1);
    expect(r.errors.at(-1)).toBe(
      'The scan failed because 2 compose audit findings are at or above fail-on CRITICAL with audit: error ' +
        `(BERTH-C008 in service db (${dir}/docker-compose.bad.override.yml:5); ` +
        `BERTH-C008 in service worker (${dir}/docker-compose.bad.yml:33)).`,
    );
    const ids = Array.from({ length: 10 }, (_, i) => `BERTH-C${String(i + 1).padStart(3, '0')}`);
    for (const id of ids) expect(r.summary, id).toContain(`| ${id} |`);
    const sarif = json<SarifLog>(r.outputs['sarif-file']);
    expect(validateSarif(sarif, { requireCategory: true })).toEqual([]);
    const compose = sarif.runs.find((run) => run.automationDetails.id === 'berth-scan/compose/bad/')!;
    expect(new Set(compose.results.map((x) => x.ruleId))).toEqual(new Set(ids));
    expect(compose.results).toHaveLength(27);
    expect(compose.results.find((x) => x.ruleId === 'BERTH-C008')!.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: `${dir}/docker-compose.bad.override.yml` },
      region: { startLine: 5, endLine: 5, startColumn: 1, endColumn: 1 },
    });
    // The literal secrets themselves appear nowhere.
    expect(r.log + r.summary + JSON.stringify(sarif)).not.toMatch(
      /placeholder-(override-)?password|placeholder-api-key/,
    );
    expect(r.outputs.total).toBe('0');
  });
});

describe('berth/scan: bad inputs fail naming the input', () => {
  it('an unknown scan type, an image that does not exist, an ignore file that cannot be read', async () => {
    const unknown = await scan({ 'scan-type': 'sbom', image });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.errors).toEqual(['Input "scan-type": "sbom" is not one of: image, fs, config']);

    const missing = `${lab.registry}/berth-scan-test/nope:1`;
    const notThere = await scan({ image: missing });
    expect(notThere.exitCode).toBe(1);
    expect(notThere.errors).toEqual([
      `Input "image": ${missing} was not found (Trivy looked in: remote): GET http://${lab.registry}/v2/berth-scan-test/nope/manifests/1: MANIFEST_UNKNOWN: manifest unknown`,
    ]);

    const workspace = mkdtempSync(join(work, 'ws-'));
    mkdirSync(join(workspace, '.trivyignore'));
    const unreadable = await scan({ image }, { workspace });
    expect(unreadable.exitCode).toBe(1);
    expect(unreadable.errors).toEqual([
      expect.stringMatching(/^Input "ignore-file": cannot read the ignore file \.trivyignore: EISDIR/),
    ]);

    const gone = await scan({ image, 'ignore-file': 'no/such/.trivyignore' }, { workspace });
    expect(gone.errors).toEqual([
      'Input "ignore-file": no/such/.trivyignore does not exist in the workspace',
    ]);
  });
});

describe('berth/scan: hostile values', () => {
  it('an image or DB repository that starts with - is an input error, never an option', async () => {
    for (const value of ['--help', '--config=x.y/evil:1', '-v']) {
      const r = await scan({ image: value });
      expect(r.exitCode).toBe(1);
      expect(r.errors).toEqual([
        `Input "image": ${JSON.stringify(value)} is not an image reference (examples: ghcr.io/acme/api:1.2.3, ` +
          'ghcr.io/acme/api@sha256:<digest>)',
      ]);
      expect(r.releaseGets).toEqual([]);
    }
    const db = await scan({ image, 'db-repository': '--config=x.y/evil:2' });
    expect(db.exitCode).toBe(1);
    expect(db.errors).toEqual([
      'Input "db-repository": "--config=x.y/evil:2" is not an OCI reference with a tag ' +
        '(example: mirror.gcr.io/aquasec/trivy-db:2)',
    ]);
  });

  it('plain http to another machine is refused without trivy-sha256, naming trivy-download-url', async () => {
    const r = await scan({ image, 'trivy-download-url': 'http://mirror.example.com/trivy' });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      'Input "trivy-download-url": "http://mirror.example.com/trivy" is plain http, which anyone on the way ' +
        "can alter together with its checksums file: use https, or set trivy-sha256 to the archive's SHA-256",
    ]);
  });

  it('compose image: values with line breaks start no workflow command in the log', async () => {
    const workspace = mkdtempSync(join(work, 'ws-'));
    writeFileSync(
      join(workspace, 'docker-compose.yml'),
      [
        'services:',
        '  app:',
        '    image: "x\\n::error::pwned"',
        '  worker:',
        '    image: "y\\n::add-mask::pwnedsecret\\n::stop-commands::pwnedtoken\\n::warning::pwned"',
        '',
      ].join('\n'),
    );
    const r = await scan(
      { 'scan-type': 'config', 'scan-ref': '.', 'compose-files': 'docker-compose.yml', audit: 'warn' },
      { workspace },
    );
    expect(r.exitCode, r.log).toBe(0);
    const lines = r.log.split(/\r?\n/);
    expect(lines.filter((line) => /^::(error|warning|add-mask|stop-commands)::.*pwned/.test(line))).toEqual(
      [],
    );
    // The only lines that start with a command and mention them are the audit's own annotations, in
    // which they are shown escaped.
    const annotations = lines.filter((line) => line.includes('pwned') && /^\s*::/.test(line));
    expect(annotations.filter((line) => !line.startsWith('::warning title=BERTH-C00'))).toEqual([]);
    expect(annotations).toHaveLength(4);
    for (const line of annotations)
      expect(line).toMatch(/image (x\\n::error::pwned|y\\n::add-mask::pwnedsecret\\n)/);
    expect(r.masks).not.toContain('pwnedsecret');
    expect([...r.errors, ...r.warnings].filter((m) => /^pwned/.test(m))).toEqual([]);
    // The values are shown, escaped, on the line that names them.
    expect(r.log).toContain(
      'x\\n::error::pwned: not an image reference, so its user and health check are not known',
    );
    expect(r.log).toContain(
      'y\\n::add-mask::pwnedsecret\\n::stop-commands::pwnedtoken\\n::warning::pwned: not an',
    );
  });
});
