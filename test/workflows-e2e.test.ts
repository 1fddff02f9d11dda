// The workflows end to end with nektos/act in host mode against the lab: ci.yml on a push to the
// default branch (build, scan, gate, push by digest: first blocked by the lab DB's CRITICAL
// advisory, then let through by a dated ignore entry), deploy.yml dispatched for `development`
// (the images CI pushed, served over HTTPS; with dry-run, what it refuses: a commit off the default
// branch, a pin from another prefix, a berth-ref it cannot check), backup.yml on its schedule (a
// verified, encrypted backup on the host). Outcomes are checked in the registry, over HTTPS and on the host.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  actWorkDir,
  runAct,
  shortDir,
  snapshotRepo,
  tools,
  uploadSarifStub,
  type ActOptions,
} from './act.js';
import { backupSigning, labSsh, readLab } from '../scripts/lab/lab.js';
import { freePort, httpsGet } from '../scripts/lab/net.js';
import { cosignKeyPair, readCosignLab } from '../scripts/lab/cosign.js';
import { buildkitLab } from './builders.js';
import { registryDigest } from './registry.js';
import { LabAdvisories } from './trivy-advisories.js';

const TAR_CRITICAL = LabAdvisories.CriticalFixed.id;

const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const repository = 'berth-e2e/berth';
const namespace = `berth-e2e-${id}`;
const project = `e2e${id}`;
const hostBackups = `/home/deploy/berth-e2e-${id}-backups`;
const remoteDir = `/home/deploy/berth-e2e-${id}-app`;
const services = ['api', 'db', 'nginx'];

let work: string;
let actionCache: string;
let repo: string;
let sha: string;
let act: string;
let sarifDir: string;
let httpsPort: number;
let identity: string;
let base: Omit<ActOptions, 'event' | 'workflow' | 'payload'>;

function pushPayload() {
  return {
    ref: 'refs/heads/main',
    after: sha,
    repository: {
      full_name: repository,
      name: 'berth',
      default_branch: 'main',
      owner: { login: 'berth-e2e' },
    },
  };
}

/** `service=repo@digest` of the images CI pushed for the current commit, from the registry. */
function pushedImages(): Promise<string[]> {
  return Promise.all(
    services.map(async (service) => {
      const digest = await registryDigest(lab, `${namespace}/${service}`, `sha-${sha.slice(0, 7)}`);
      return `${service}=${lab.registry}/${namespace}/${service}@${digest}`;
    }),
  );
}

/** `service=image` of the project's containers on the lab host, the image as compose gave it to docker. */
async function runningImages(): Promise<string[]> {
  const { stdout } = await labSsh(
    lab,
    `docker ps -q --filter label=com.docker.compose.project=${project} | xargs -r docker inspect ` +
      `--format '{{index .Config.Labels "com.docker.compose.service"}}={{.Config.Image}}'`,
  );
  return stdout.trim().split('\n').sort();
}

/** The release ids on the host, oldest first. */
async function releases(): Promise<string[]> {
  const { stdout } = await labSsh(lab, `ls ${remoteDir}/releases 2>/dev/null || true`);
  return stdout.trim().split('\n').filter(Boolean).sort();
}

beforeAll(async () => {
  act = tools().ACT!;
  work = actWorkDir();
  actionCache = shortDir();
  // The gate must block first: no ignore file yet.
  repo = snapshotRepo(work, repository);
  sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  sarifDir = join(work, 'sarif');
  const stub = uploadSarifStub(work, sarifDir);
  httpsPort = await freePort();
  const httpPort = await freePort();
  identity = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const recipient = /public key: (age1\w+)/.exec(identity)![1]!;
  const secretKey = identity.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  const dbPassword = `pw-${id}`;
  const cosignLab = readCosignLab();
  const cosignPair = await cosignKeyPair(cosignLab, work, 'ci', `cosign-${id}`);
  base = {
    act,
    repo,
    work,
    actionCache,
    sarifStub: stub,
    secrets: {
      REGISTRY_PASSWORD: lab.registryPassword,
      DEPLOY_SSH_KEY: readFileSync(lab.sshKey, 'utf8'),
      APP_SECRETS: [
        `db_password=${dbPassword}`,
        'tls_cert<<EOF',
        readFileSync(lab.tlsCert, 'utf8').trim(),
        'EOF',
        'tls_key<<EOF',
        readFileSync(lab.tlsKey, 'utf8').trim(),
        'EOF',
      ].join('\n'),
      BACKUP_DECRYPTION_KEY: secretKey,
      BERTH_BACKUP_SIGNING_KEY: backupSigning(lab).key,
      // CI signs what passed the gate; every deploy verifies its pins with the public key.
      COSIGN_KEY: cosignPair.privateKey,
      COSIGN_PASSWORD: cosignPair.password,
    },
    vars: {
      BERTH_CI_SKIP_TESTS: 'true',
      // act gives no job.workflow_sha, so berth-ref cannot be checked here (the test without it is below).
      BERTH_VERIFY_REF: 'false',
      BERTH_GIT_URL: `file://${repo}`,
      BERTH_REGISTRY: lab.registry,
      // The lab's buildx (0.13) predates the cache service v2 that actions/build's gha backend needs.
      BERTH_BUILD_CACHE: 'local',
      // The docker-container builder actions/build creates for the push by digest: the lab's BuildKit
      // image (nothing can be pulled here) on the host network (the registry is on loopback).
      BERTH_BUILD_DRIVER_OPTS: `image=${buildkitLab.image},network=host`,
      BERTH_IMAGE_PREFIX: `${lab.registry}/${namespace}`,
      BERTH_PROJECT: project,
      BERTH_BACKUP_ENVIRONMENT: 'development',
      REGISTRY_USERNAME: lab.registryUser,
      BASE_IMAGE: lab.baseImage,
      TRIVY_DOWNLOAD_URL: lab.trivyDownloadUrl,
      TRIVY_DB_REPOSITORY: lab.trivyDbRepository,
      DEPLOY_HOST: lab.sshHost,
      DEPLOY_PORT: String(lab.sshPort),
      DEPLOY_USER: lab.sshUser,
      DEPLOY_REMOTE_DIR: remoteDir,
      DEPLOY_KNOWN_HOSTS: readFileSync(lab.knownHosts, 'utf8'),
      APP_ENV: `HTTP_PORT=${httpPort}\nHTTPS_PORT=${httpsPort}`,
      HEALTH_URLS: `https://localhost:${httpsPort}/healthz 200 2000`,
      HEALTH_CA_CERT: readFileSync(lab.caFile, 'utf8'),
      BACKUP_DESTINATIONS: `host:${hostBackups}`,
      BACKUP_RECIPIENTS: recipient,
      BERTH_BACKUP_SIGNING_PUBLIC_KEY: backupSigning(lab).publicKey,
      COSIGN_PUBLIC_KEY: cosignPair.publicKey,
      // Nothing here reaches Rekor.
      COSIGN_TRANSPARENCY_LOG: 'false',
      COSIGN_VERSION: cosignLab.version,
      COSIGN_DOWNLOAD_URL: cosignLab.downloadUrl,
    },
  };
}, 900_000);

afterAll(async () => {
  await labSsh(
    lab,
    `docker compose -p ${project} down --volumes --timeout 5 >/dev/null 2>&1; rm -rf ${remoteDir} ${hostBackups}`,
  ).catch(() => undefined);
  // The workflow removes its local tags; what pushes and pulls left under this run's namespace goes too.
  const left = execFileSync(
    'docker',
    ['images', '--digests', '--format', '{{.Repository}} {{.Tag}} {{.Digest}}'],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter((line) => line.includes(`/${namespace}/`))
    .map((line) => {
      const [repo, tag, digest] = line.split(' ');
      return tag !== '<none>' ? `${repo}:${tag}` : `${repo}@${digest}`;
    });
  try {
    if (left.length > 0) execFileSync('docker', ['image', 'rm', '--no-prune', ...left], { stdio: 'ignore' });
  } catch {
    // an image still in use by another test's container: left to the engine
  }
  if (process.env.BERTH_E2E_KEEP) return;
  if (work) rmSync(work, { recursive: true, force: true });
  if (actionCache) rmSync(actionCache, { recursive: true, force: true });
});

describe('workflows under act (host mode) against the lab', () => {
  it('ci.yml on a push: the gate blocks the lab CRITICAL, and nothing is tagged', async () => {
    const run = await runAct({
      ...base,
      event: 'push',
      workflow: 'ci.yml',
      payload: pushPayload(),
      log: join(work, 'ci-blocked.log'),
    });
    expect(run.code, run.output.slice(-4000)).not.toBe(0);
    expect(run.output).toContain(TAR_CRITICAL);
    // Pushed by digest for the scan, but no tag (and no signature) for what the gate blocked.
    for (const service of services) {
      expect(await registryDigest(lab, `${namespace}/${service}`, `sha-${sha.slice(0, 7)}`)).toBeUndefined();
    }
    // The SARIF of a blocked image is still uploaded, one category per image.
    const categories = readdirSync(sarifDir).map(
      (f) =>
        (
          JSON.parse(readFileSync(join(sarifDir, f), 'utf8')) as {
            runs: { automationDetails: { id: string } }[];
          }
        ).runs[0]!.automationDetails.id,
    );
    expect(new Set(categories).size).toBe(categories.length);
    expect(categories.length).toBeGreaterThan(0);
  });

  it('ci.yml on a push: with a dated ignore entry, every image is scanned, pushed by digest and (opted in) deployed to development', async () => {
    // Accept the lab's CRITICAL advisory until tomorrow, as a team would with a dated entry.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    rmSync(sarifDir, { recursive: true, force: true });
    mkdirSync(sarifDir);
    execFileSync(
      'bash',
      [
        '-c',
        // The commit reaches the default branch (origin/main, as actions/checkout would fetch it).
        `printf '%s exp:%s\\n' "$1" "$2" > .trivyignore && git add .trivyignore && git -c user.name=e -c user.email=e@e.invalid commit -qm ignore && git update-ref refs/remotes/origin/main HEAD`,
        '_',
        TAR_CRITICAL,
        tomorrow,
      ],
      { cwd: repo },
    );
    sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const run = await runAct({
      ...base,
      event: 'push',
      workflow: 'ci.yml',
      payload: pushPayload(),
      // The optional automatic deploy to development after CI on the default branch.
      vars: { ...base.vars, BERTH_AUTO_DEPLOY: 'true' },
      log: join(work, 'ci.log'),
    });
    expect(run.code, run.output.slice(-6000)).toBe(0);
    for (const service of services) {
      const digest = await registryDigest(lab, `${namespace}/${service}`, `sha-${sha.slice(0, 7)}`);
      expect(digest, service).toMatch(/^sha256:[0-9a-f]{64}$/);
      // The pinned list the workflow output names exactly what the registry holds.
      expect(run.output).toContain(`${service}=${lab.registry}/${namespace}/${service}@${digest}`);
      expect(await registryDigest(lab, `${namespace}/${service}`, 'latest')).toBe(digest);
    }
    const categories = readdirSync(sarifDir)
      .map(
        (f) =>
          (
            JSON.parse(readFileSync(join(sarifDir, f), 'utf8')) as {
              runs: { automationDetails: { id: string } }[];
            }
          ).runs[0]!.automationDetails.id,
      )
      .sort();
    expect(categories).toEqual(services.map((s) => `berth-scan/image/${namespace}/${s}/`));
    // Deployed from the pinned list: the host runs exactly those digests, serving over HTTPS.
    expect(await runningImages()).toEqual(await pushedImages());
    expect((await httpsGet(lab.caFile, httpsPort, '/healthz')).status).toBe(200);
    expect(await releases()).toHaveLength(1);
  });

  it('deploy.yml dispatched for development deploys the pushed digests and serves over HTTPS', async () => {
    const run = await runAct({
      ...base,
      event: 'workflow_dispatch',
      workflow: 'deploy.yml',
      payload: {
        ref: 'refs/heads/main',
        inputs: { environment: 'development', images: '', commit: '', 'dry-run': 'false' },
        repository: { full_name: repository, default_branch: 'main' },
      },
      log: join(work, 'deploy.log'),
    });
    expect(run.code, run.output.slice(-6000)).toBe(0);
    // A new release, of exactly the digests CI pushed for the commit (resolved from its sha-<7> tags).
    expect(await releases()).toHaveLength(2);
    expect(await runningImages()).toEqual(await pushedImages());
    expect((await httpsGet(lab.caFile, httpsPort, '/healthz')).status).toBe(200);
  });

  /** deploy.yml dispatched for development with dry-run (as GitHub sends them: the inputs are strings). */
  const dryDispatch = (images: string, commit: string, log: string, vars = base.vars) =>
    runAct({
      ...base,
      vars,
      event: 'workflow_dispatch',
      workflow: 'deploy.yml',
      payload: {
        ref: 'refs/heads/main',
        inputs: { environment: 'development', images, commit, 'dry-run': 'true' },
        repository: { full_name: repository, default_branch: 'main' },
      },
      log: join(work, log),
    });

  it('deploy.yml with dry-run checks explicit pins and changes nothing; a malformed pin fails it', async () => {
    const before = await releases();
    const pins = (await pushedImages()).join(' ');
    // A commit on the default branch passes the ancestor check.
    const dry = await dryDispatch(pins, sha, 'deploy-dry.log');
    expect(dry.code, dry.output.slice(-6000)).toBe(0);
    expect(dry.output).toContain('dry run: nothing changed');
    expect(dry.output).toContain(`::warning::berth-ref ${sha} is not checked`);
    expect(await releases()).toEqual(before);
    const bad = await dryDispatch(`api=${lab.registry}/${namespace}/api:latest`, '', 'deploy-bad.log');
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('not a service=repo@sha256:<digest> pin');
    expect(await releases()).toEqual(before);
  });

  it('deploy.yml refuses a commit off the default branch, a pin from another prefix, and an unchecked berth-ref', async () => {
    const before = await releases();
    // Both refusals below come before any image is resolved: a well-formed pin is enough.
    const pins = `api=${lab.registry}/${namespace}/api@sha256:${'0'.repeat(64)}`;
    // A commit that exists, on a branch that is not the default one.
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    const side = git(
      '-c',
      'user.name=e',
      '-c',
      'user.email=e@e.invalid',
      'commit-tree',
      'HEAD^{tree}',
      '-p',
      'HEAD',
      '-m',
      'side',
    );
    git('update-ref', 'refs/heads/side', side);
    const offBranch = await dryDispatch(pins, side, 'deploy-side.log');
    expect(offBranch.code).not.toBe(0);
    expect(offBranch.output).toContain(`::error::commit ${side} is not on the default branch main`);
    // An image that exists in the same registry, outside this workflow's prefix.
    const [, path, tag] = /^[^/]+\/(.+):([^:/]+)$/.exec(lab.baseImage)!;
    const foreign = `api=${lab.registry}/${path}@${await registryDigest(lab, path!, tag!)}`;
    const otherPrefix = await dryDispatch(foreign, '', 'deploy-foreign.log');
    expect(otherPrefix.code).not.toBe(0);
    expect(otherPrefix.output).toContain(
      `::error::images: ${foreign} is not under image-prefix ${lab.registry}/${namespace}/`,
    );
    // Without the opt-out, a runner that does not say the workflow's own commit fails closed.
    const { BERTH_VERIFY_REF: _optOut, ...strict } = base.vars;
    const unchecked = await dryDispatch(pins, '', 'deploy-unchecked.log', strict);
    expect(unchecked.code).not.toBe(0);
    expect(unchecked.output).toContain('::error::berth-ref cannot be checked');
    expect(await releases()).toEqual(before);
  });

  it('backup.yml on its schedule takes an encrypted backup, verified by a restore, and leaves its manifest on the host', async () => {
    const run = await runAct({
      ...base,
      event: 'schedule',
      workflow: 'backup.yml',
      payload: { schedule: '17 3 * * *', repository: { full_name: repository, default_branch: 'main' } },
      log: join(work, 'backup.log'),
    });
    expect(run.code, run.output.slice(-6000)).toBe(0);
    const { stdout } = await labSsh(lab, `cat ${hostBackups}/*/manifest.json`);
    const manifest = JSON.parse(stdout) as Record<string, unknown>;
    expect(JSON.stringify(manifest)).toContain('postgres-db-app.dump.age');
    expect(run.output).toMatch(/set-output:: verified=true/);
  });
});
