import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inputErrorOf } from '../../../lib/action/testing.js';
import {
  DEFAULT_AUDIT,
  DEFAULT_DB_REPOSITORIES,
  DEFAULT_FAIL_ON,
  DEFAULT_SEVERITY,
  DEFAULT_TIMEOUT,
  Inputs as I,
} from './constants.js';
import { DEFAULT_MONITORING_DOWNLOAD_URL, MONITORING_RELEASES } from './monitoring-install.js';
import { DEFAULT_TRIVY_DOWNLOAD_URL, DEFAULT_TRIVY_VERSION } from './trivy-install.js';
import { getInputs, loadIgnores, parseDbRepositories, parseImageInput, parseScanners } from './inputs.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const meta = parse(readFileSync(join(import.meta.dirname, '../action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

const inputMessage = (fn: () => unknown): string => inputErrorOf(fn).message;

describe('the pure parsers', () => {
  it('scanners: the scan type default, known scanners only, config finds misconfigurations only', () => {
    expect(parseScanners('image', '')).toEqual(['vuln', 'secret']);
    expect(parseScanners('fs', '')).toEqual(['vuln', 'secret', 'misconfig']);
    expect(parseScanners('config', '')).toEqual(['misconfig']);
    expect(parseScanners('image', 'secret, VULN')).toEqual(['vuln', 'secret']);
    expect(inputMessage(() => parseScanners('image', 'vuln,license'))).toBe(
      'Input "scanners": license scanning is not supported (use vuln, secret, misconfig)',
    );
    expect(inputMessage(() => parseScanners('fs', 'vulns'))).toBe(
      'Input "scanners": "vulns" is not a scanner (use vuln, secret, misconfig)',
    );
    expect(inputMessage(() => parseScanners('config', 'misconfig,secret'))).toBe(
      'Input "scanners": scan-type config finds misconfigurations only; use scan-type fs for secret',
    );
  });

  it("db-repository: Trivy's default, or references with a tag", () => {
    expect(parseDbRepositories('')).toEqual(DEFAULT_DB_REPOSITORIES);
    expect(parseDbRepositories('localhost:5000/berth/trivy-db:2\nghcr.io/a/b:2')).toEqual([
      'localhost:5000/berth/trivy-db:2',
      'ghcr.io/a/b:2',
    ]);
    expect(inputMessage(() => parseDbRepositories('ghcr.io/a/trivy-db'))).toMatch(
      /^Input "db-repository": "ghcr.io\/a\/trivy-db" is not an OCI reference with a tag/,
    );
  });

  it('image: a reference', () => {
    expect(parseImageInput(`ghcr.io/acme/api@${DIGEST}`)).toBe(`ghcr.io/acme/api@${DIGEST}`);
    expect(inputMessage(() => parseImageInput('ghcr.io/Acme/api:1'))).toMatch(
      /^Input "image": "ghcr.io\/Acme\/api:1" is not/,
    );
  });

  // Values that would reach docker's or Trivy's command line as an option, or split a log line.
  const hostile = [
    '--config=x.y/evil:1',
    '-x.example.com/a:1',
    '--output=/tmp/x.y/a:1',
    '--help',
    '-v',
    'ghcr.io/a/b:1\n::error::pwned',
    'ghcr.io/a/b:1 --debug',
    'evil_host.example.com/a:1',
  ];

  it.each(hostile)('image: %j is an input error, never an option', (value) => {
    expect(inputMessage(() => parseImageInput(value))).toBe(
      `Input "image": ${JSON.stringify(value)} is not an image reference (examples: ghcr.io/acme/api:1.2.3, ` +
        'ghcr.io/acme/api@sha256:<digest>)',
    );
  });

  it.each(hostile)('db-repository: %j is an input error, never an option', (value) => {
    const message = inputMessage(() => parseDbRepositories(`ghcr.io/a/b:2,${value}`));
    expect(message).toMatch(/^Input "db-repository": ".*" is not an OCI reference with a tag/);
    expect(message).not.toMatch(/[\r\n]/);
  });

  it('image and db-repository: registries by host name, IP address and port are fine', () => {
    for (const value of [
      'localhost:5000/a/b:1',
      '127.0.0.1:5000/a:1',
      '[::1]:5000/a:1',
      'my-registry.example.com/a-b/c:1',
    ]) {
      expect(parseImageInput(value)).toBe(value);
      expect(parseDbRepositories(value)).toEqual([value]);
    }
  });

  it("action.yml's defaults are the code's", () => {
    expect(meta.inputs[I.TrivyVersion]!.default).toBe(DEFAULT_TRIVY_VERSION);
    expect(meta.inputs[I.TrivyDownloadUrl]!.default).toBe(DEFAULT_TRIVY_DOWNLOAD_URL);
    expect(meta.inputs[I.PrometheusVersion]!.default).toBe(MONITORING_RELEASES.promtool.version);
    expect(meta.inputs[I.AlertmanagerVersion]!.default).toBe(MONITORING_RELEASES.amtool.version);
    expect(meta.inputs[I.MonitoringDownloadUrl]!.default).toBe(DEFAULT_MONITORING_DOWNLOAD_URL);
    expect(parseDbRepositories(meta.inputs[I.DbRepository]!.default!)).toEqual(DEFAULT_DB_REPOSITORIES);
    expect(meta.inputs[I.Severity]!.default).toBe(DEFAULT_SEVERITY);
    expect(meta.inputs[I.FailOn]!.default).toBe(DEFAULT_FAIL_ON);
    expect(meta.inputs[I.Audit]!.default).toBe(DEFAULT_AUDIT);
    expect(meta.inputs[I.Timeout]!.default).toBe(DEFAULT_TIMEOUT);
    expect(meta.inputs[I.ScanType]!.default).toBe('image');
    expect(meta.inputs[I.Scanners]!.default).toBeUndefined();
  });
});

describe('getInputs', () => {
  let workspace: string;
  const set = (inputs: Record<string, string>) => {
    for (const [name, value] of Object.entries(inputs)) vi.stubEnv(`INPUT_${name.toUpperCase()}`, value);
  };
  const env = () => ({ GITHUB_WORKSPACE: workspace, RUNNER_TEMP: '/runner/temp', HOME: '/home/runner' });

  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'berth-scan-inputs-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('an image with the defaults', () => {
    set({ image: `ghcr.io/acme/api@${DIGEST}` });
    expect(getInputs(env())).toEqual({
      'scan-type': 'image',
      image: `ghcr.io/acme/api@${DIGEST}`,
      input: undefined,
      'scan-ref': workspace,
      scanners: ['vuln', 'secret'],
      gate: { severities: ['CRITICAL', 'HIGH'], failOn: 'CRITICAL', ignoreUnfixed: true, audit: 'error' },
      'ignore-file': undefined,
      'compose-files': [],
      'monitoring-configs': [],
      'prometheus-version': MONITORING_RELEASES.promtool.version,
      'alertmanager-version': MONITORING_RELEASES.amtool.version,
      'monitoring-download-url': DEFAULT_MONITORING_DOWNLOAD_URL,
      'trivy-version': DEFAULT_TRIVY_VERSION,
      'trivy-download-url': DEFAULT_TRIVY_DOWNLOAD_URL,
      'trivy-sha256': undefined,
      'github-token': undefined,
      'db-repository': DEFAULT_DB_REPOSITORIES,
      'cache-db': true,
      'cache-dir': '/home/runner/.cache/berth/trivy',
      'java-db': false,
      'registry-username': undefined,
      'registry-password': undefined,
      timeout: 600_000,
      'output-dir': '/runner/temp/berth-scan',
    });
  });

  it('masks the password and the token', () => {
    const lines: string[] = [];
    vi.mocked(process.stdout.write).mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    set({ image: 'a:1', 'registry-username': 'u', 'registry-password': 'pw', 'github-token': 'tok' });
    const inputs = getInputs(env());
    expect(inputs['registry-password']).toBe('pw');
    expect(lines.join('')).toContain('::add-mask::pw');
    expect(lines.join('')).toContain('::add-mask::tok');
  });

  it('says which input is wrong', () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'scan-type': 'sbom' }, 'Input "scan-type": "sbom" is not one of: image, fs, config'],
      [
        {},
        'Input "image": is required for scan-type image (an image reference), unless input names an image archive',
      ],
      [{ image: 'a:1', input: 'a.tar' }, 'Input "input": give image or input, not both'],
      [{ input: 'missing.tar' }, 'Input "input": the image archive missing.tar does not exist'],
      [
        { 'scan-type': 'fs', image: 'a:1' },
        'Input "image": applies to scan-type image only; scan-type fs reads scan-ref',
      ],
      [
        { 'scan-type': 'config', 'scan-ref': 'nope' },
        'Input "scan-ref": nope does not exist in the workspace',
      ],
      [
        { image: 'a:1', 'ignore-file': '.trivyignore' },
        'Input "ignore-file": .trivyignore does not exist in the workspace',
      ],
      [
        { image: 'a:1', 'compose-files': 'docker-compose.yml' },
        'Input "compose-files": docker-compose.yml does not exist in the workspace',
      ],
      [
        { image: 'a:1', 'monitoring-configs': 'prometheus/prometheus.yml\nprometheus/nope.yml' },
        'Input "monitoring-configs": prometheus/nope.yml does not exist in the workspace',
      ],
      [
        { image: 'a:1', 'prometheus-version': 'latest' },
        expect.stringMatching(/^Input "prometheus-version": "latest" is not allowed/) as never,
      ],
      [
        { image: 'a:1', 'alertmanager-version': '0.28' },
        'Input "alertmanager-version": "0.28" is a version range: pin an exact release such as 0.28.1',
      ],
      [
        { image: 'a:1', 'monitoring-download-url': 'http://mirror.example.com/prometheus' },
        expect.stringMatching(/^Input "monitoring-download-url": .* is plain http/) as never,
      ],
      [
        { image: 'a:1', 'registry-password': 'x' },
        'Input "registry-username": is required when the other registry credential is given',
      ],
      [{ image: 'a:1', timeout: '500ms' }, 'Input "timeout": must be at least one second'],
      [
        { image: 'a:1', 'trivy-version': '0.69.4' },
        expect.stringMatching(/^Input "trivy-version": Trivy 0\.69\.4 is refused/) as never,
      ],
      [
        { image: 'a:1', severity: 'SEVERE' },
        expect.stringMatching(/^Input "severity": "SEVERE" is not a severity/) as never,
      ],
    ];
    // The first monitoring config exists: the error names the one that does not.
    mkdirSync(join(workspace, 'prometheus'));
    writeFileSync(join(workspace, 'prometheus/prometheus.yml'), 'scrape_configs: []\n');
    for (const [inputs, message] of cases) {
      vi.unstubAllEnvs();
      set(inputs);
      expect(
        inputMessage(() => getInputs(env())),
        JSON.stringify(inputs),
      ).toEqual(message);
    }
  });

  it('resolves paths against the workspace; finds the default ignore file', () => {
    mkdirSync(join(workspace, 'app'));
    writeFileSync(join(workspace, '.trivyignore'), 'CVE-1 exp:2020-01-01\n');
    set({ 'scan-type': 'fs', 'scan-ref': 'app', 'output-dir': 'out', 'cache-dir': 'c', timeout: '90s' });
    const inputs = getInputs(env());
    expect(inputs).toMatchObject({
      'scan-ref': join(workspace, 'app'),
      scanners: ['vuln', 'secret', 'misconfig'],
      'ignore-file': '.trivyignore',
      'output-dir': join(workspace, 'out'),
      'cache-dir': join(workspace, 'c'),
      timeout: 90_000,
    });
    expect(loadIgnores(inputs, workspace)).toMatchObject([{ id: 'CVE-1', expires: '2020-01-01', line: 1 }]);
  });

  it('an ignore file that cannot be read or is malformed is the ignore-file input', () => {
    mkdirSync(join(workspace, 'dir.trivyignore'));
    expect(inputMessage(() => loadIgnores({ 'ignore-file': 'dir.trivyignore' }, workspace))).toMatch(
      /^Input "ignore-file": cannot read the ignore file dir\.trivyignore: EISDIR/,
    );
    writeFileSync(join(workspace, 'bad.trivyignore'), 'CVE-1 exp:tomorrow\n');
    expect(inputMessage(() => loadIgnores({ 'ignore-file': 'bad.trivyignore' }, workspace))).toBe(
      'Input "ignore-file": bad.trivyignore:1: "exp:tomorrow" is not a valid expiry (write exp:YYYY-MM-DD, e.g. exp:2025-06-30)',
    );
    expect(loadIgnores({ 'ignore-file': undefined }, workspace)).toEqual([]);
  });
});
