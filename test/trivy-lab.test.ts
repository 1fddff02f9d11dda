// The lab's real Trivy and its vulnerability DB: the advisories test/trivy-advisories.ts promises are
// the ones lab:up built, and a real scan of the lab's base image (pulled from the lab registry, the DB
// downloaded from it as an OCI artifact) reports exactly them, with --ignore-unfixed dropping the one
// without a fix. Offline flags as the scan action will need them.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readLab, repoRoot } from '../scripts/lab/lab.js';
import {
  LAB_ADVISORIES,
  LAB_REPORTED_ADVISORIES,
  LAB_REPORTED_FIXED_ADVISORIES,
  type LabAdvisory,
} from './trivy-advisories.js';

const execFileP = promisify(execFile);
const lab = readLab();
const work = mkdtempSync(join(tmpdir(), 'berth-trivy-lab-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface TrivyVulnerability {
  VulnerabilityID: string;
  PkgName: string;
  Severity: string;
  FixedVersion?: string;
  Status: string;
  Title: string;
}

/** `trivy image` of the lab's base image, offline; returns its findings sorted by ID. */
async function scan(cacheDir: string, args: string[]): Promise<TrivyVulnerability[]> {
  const { stdout } = await execFileP(
    lab.trivyBin,
    [
      'image',
      '--cache-dir',
      cacheDir,
      '--skip-java-db-update',
      '--skip-version-check',
      '--disable-telemetry',
      '--scanners',
      'vuln',
      '--image-src',
      'remote',
      '--format',
      'json',
      '--quiet',
      ...args,
      lab.baseImage,
    ],
    {
      // Registry credentials for both the image and the DB, without a docker login.
      env: { ...process.env, TRIVY_USERNAME: lab.registryUser, TRIVY_PASSWORD: lab.registryPassword },
      maxBuffer: 64 << 20,
    },
  );
  const report = JSON.parse(stdout) as {
    Metadata: { OS: { Family: string; Name: string } };
    Results: { Vulnerabilities?: TrivyVulnerability[] }[];
  };
  expect(report.Metadata.OS.Family).toBe('debian');
  expect(report.Metadata.OS.Name).toMatch(/^12\./);
  return report.Results.flatMap((r) => r.Vulnerabilities ?? []).sort((a, b) =>
    a.VulnerabilityID.localeCompare(b.VulnerabilityID),
  );
}

function expected(advisories: readonly LabAdvisory[]): Partial<TrivyVulnerability>[] {
  return advisories.map((a) => ({
    VulnerabilityID: a.id,
    PkgName: a.package,
    Severity: a.severity,
    Status: a.fixedVersion === '' ? 'affected' : 'fixed',
    Title: a.title,
    ...(a.fixedVersion === '' ? {} : { FixedVersion: a.fixedVersion }),
  }));
}

describe("the lab's Trivy", () => {
  it('is the pinned release, built from source', async () => {
    const { stdout } = await execFileP(lab.trivyBin, ['--version']);
    expect(stdout).toMatch(new RegExp(`^Version: ${lab.trivyVersion.replaceAll('.', '\\.')}$`, 'm'));
  });

  it("has a DB built from the advisories the tests' constants list", () => {
    const file = JSON.parse(readFileSync(join(repoRoot, 'scripts/lab/trivy-db/advisories.json'), 'utf8')) as {
      advisories: LabAdvisory[];
    };
    expect(file.advisories).toEqual(LAB_ADVISORIES);
    const metadata = JSON.parse(readFileSync(join(lab.trivyDbDir, 'metadata.json'), 'utf8')) as {
      Version: number;
    };
    expect(metadata.Version).toBe(2);
  });

  it('finds the advisories in the base image with the DB from the registry', async () => {
    const cacheDir = join(work, 'registry-cache');
    const found = await scan(cacheDir, ['--db-repository', lab.trivyDbRepository]);
    expect(found).toMatchObject(expected(LAB_REPORTED_ADVISORIES));
    expect(found).toHaveLength(LAB_REPORTED_ADVISORIES.length);
  });

  it('finds the fixed ones only with --ignore-unfixed, from a ready cache dir', async () => {
    const cacheDir = join(work, 'ready-cache');
    cpSync(lab.trivyDbDir, join(cacheDir, 'db'), { recursive: true });
    const found = await scan(cacheDir, ['--skip-db-update', '--ignore-unfixed']);
    expect(found).toMatchObject(expected(LAB_REPORTED_FIXED_ADVISORIES));
    expect(found).toHaveLength(LAB_REPORTED_FIXED_ADVISORIES.length);
  });
});
