// berth/deploy's image verification against the lab (#22): tiny images built with BuildKit's provenance
// and pushed by digest to the lab registry, signed and attested with real cosign (Debian's, through
// lib/tools/cosign.ts as actions/build calls it) with two key pairs, and deployed to the lab's SSH host
// through the harness, cosign installed by the action from the lab's release server. A signed and
// attested pair deploys and the summary says who built each; an unsigned image, one signed by the other
// key, one without the attestation, and a pin from a registry outside allowed-registries are refused
// before the host is touched (no SSH connection, the host's release directory and containers as they
// were), each error naming the service and the image.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeProvenancePredicates } from '../lib/tools/buildkit-provenance.js';
import { attestImage, signImage, type SignOptions } from '../lib/tools/cosign.js';
import { cosignKeyPair, labCosign, readCosignLab, type KeyPair } from '../scripts/lab/cosign.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { buildPush, labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { sshdConnections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const cl = readCosignLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-verify-${id}`;
const remoteDir = `/home/deploy/${project}`;
const commit = '0123456789abcdef0123456789abcdef01234567';
const ssh = (command: string) => labSsh(lab, command);

const COMPOSE = `services:
  app:
    image: ${lab.baseImage}
    init: true
    command: ['sleep', 'infinity']
  worker:
    image: ${lab.baseImage}
    init: true
    command: ['sleep', 'infinity']
`;

let workdir: string;
let temp: string;
let keyA: KeyPair;
let keyB: KeyPair;
/** app and worker signed and attested with key A (worker's provenance holds hostile values) */
let app: string;
let worker: string;
let unsigned: string;
let signedByB: string;
let notAttested: string;
/** an empty docker config: cosign on the runner gets the registry login from the deploy's inputs only */
let emptyDockerConfig: string;

/** Builds a one-label image with BuildKit's provenance (mode=max), pushed by digest; returns repo@digest. */
async function image(name: string): Promise<string> {
  const context = mkdtempSync(join(temp, `ctx-${name}-`));
  writeFileSync(
    join(context, 'Dockerfile'),
    `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nLABEL berth.verify="${id}-${name}"\n`,
  );
  const push = () =>
    buildPush(lab, context, `${lab.registry}/berth-verify/${name}:${id}`, ['--provenance', 'mode=max']);
  // Distribution 2.8 can answer a HEAD of a tag being written with a 500 ("invalid checksum digest
  // format"): one more push then, of the same content.
  return push().catch(push);
}

/**
 * BuildKit's provenance predicate of `ref` as the registry holds it, with the GitHub Actions facts of a
 * build on GitHub added (lib/tools/buildkit-provenance.ts, as actions/build writes it for cosign attest).
 */
async function predicateFile(ref: string, facts: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(temp, 'predicate-'));
  const files = await writeProvenancePredicates(ref, dir, facts);
  expect(Object.keys(files)).toEqual(['']);
  const predicate = JSON.parse(readFileSync(files['']!, 'utf8')) as { invocation: { environment: object } };
  expect(predicate.invocation.environment).toMatchObject({ platform: 'linux/amd64', ...facts });
  return files['']!;
}

const signer = (key: KeyPair): SignOptions => ({
  cosign: labCosign(cl),
  key: { privateKey: key.privateKey, password: key.password },
  transparencyLog: false,
});

const github = {
  github_repository: 'acme/shop',
  github_workflow_ref: 'acme/shop/.github/workflows/build.yml@refs/heads/main',
  github_sha: commit,
};

/** The deploy's inputs: key A verifies, the lab registry is the one allowed, cosign from the lab's release. */
const deploy = (images: string, extra: Record<string, string> = {}): Promise<ActionResult> =>
  runAction('deploy', {
    workspace: workdir,
    sha: commit,
    env: { DOCKER_CONFIG: emptyDockerConfig },
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      registry: lab.registry,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'wait-timeout': '60',
      images,
      'verify-key': keyA.publicKey,
      'transparency-log': 'false',
      'allowed-registries': lab.registry,
      'cosign-version': cl.version,
      'cosign-download-url': cl.downloadUrl,
      ...extra,
    },
  });

/** What the host has of the project: its directory's entries, `current`, and its containers (as started). */
async function hostState(): Promise<string> {
  const { stdout } = await ssh(
    `ls -A ${remoteDir} ${remoteDir}/releases 2>&1; readlink ${remoteDir}/current; ` +
      `docker ps -aq --filter label=com.docker.compose.project=${project} | ` +
      `xargs -r docker inspect --format '{{.Name}} {{.Config.Image}} {{.Id}} {{.State.StartedAt}}' | sort`,
  );
  return stdout;
}

/** Runs a deploy that must be refused before the host is touched; returns its one error. */
async function refused(images: string, extra: Record<string, string> = {}): Promise<string> {
  const before = await hostState();
  const connections = sshdConnections(lab.sshLog);
  const r = await deploy(images, extra);
  expect(r.exitCode, r.log).toBe(1);
  expect(r.outputs.status).toBe('failed');
  expect(r.errors).toHaveLength(1);
  expect(sshdConnections(lab.sshLog)).toBe(connections);
  expect(await hostState()).toBe(before);
  return r.errors[0]!;
}

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'berth-deploy-verify-'));
  workdir = mkdtempSync(join(temp, 'work '));
  writeFileSync(join(workdir, 'docker-compose.yml'), COMPOSE);
  emptyDockerConfig = mkdtempSync(join(temp, 'docker-config-'));
  [keyA, keyB] = await Promise.all([
    cosignKeyPair(cl, temp, 'a', `pw-a-${id} $(touch /tmp/pwned-${id})`),
    cosignKeyPair(cl, temp, 'b', `pw-b-${id}`),
  ]);
  const refs: string[] = [];
  for (const name of ['app', 'worker', 'unsigned', 'signed-by-b', 'not-attested'])
    refs.push(await image(name));
  [app, worker, unsigned, signedByB, notAttested] = refs as [string, string, string, string, string];
  // Signed as actions/build signs: the digest, then BuildKit's provenance as a slsaprovenance attestation.
  // Key files and passwords live in private temp directories under RUNNER_TEMP, removed afterwards.
  const runnerTemp = mkdtempSync(join(temp, 'runner-temp-'));
  vi.stubEnv('RUNNER_TEMP', runnerTemp);
  const hostile = { ...github, github_repository: 'acme/shop\n::error::pwned', github_sha: '`rm -rf`' };
  for (const [ref, key, facts] of [
    [app, keyA, github],
    [worker, keyA, hostile],
    [signedByB, keyB, github],
  ] as const) {
    await signImage(ref, signer(key));
    await attestImage(ref, await predicateFile(ref, facts), 'slsaprovenance', signer(key));
  }
  await signImage(notAttested, signer(keyA));
  expect(readdirSync(runnerTemp)).toEqual([]);
  vi.unstubAllEnvs();
  await exec('docker', ['image', 'rm', '--force', app, worker, unsigned, signedByB, notAttested]).catch(
    () => undefined,
  );
});

afterAll(async () => {
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
  ).catch(() => undefined);
});

const pins = (a: string, w: string) => `app=${a}\nworker=${w}`;

describe('deploy verifies every pinned image before the host is touched', () => {
  let live: string;

  it('deploys images signed and attested with verify-key; the summary says who built each', async () => {
    const r = await deploy(pins(app, worker));
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.summary).toContain(
      `| Built by (app) | \`acme/shop\`, workflow \`acme/shop/.github/workflows/build.yml@refs/heads/main\`, commit \`${commit}\` |`,
    );
    // worker's provenance named a repository and commit that are not what they claim: left out.
    expect(r.summary).toContain(
      '| Built by (worker) | workflow `acme/shop/.github/workflows/build.yml@refs/heads/main` |',
    );
    expect(r.log).not.toMatch(/^::error::pwned/m);
    expect(r.log).toMatch(
      /cosign verify-attestation --key=\S+ --type=slsaprovenance --insecure-ignore-tlog=true/,
    );
    expect(r.log).not.toContain(keyA.password);
    expect(readFileSync(join(temp, 'a.pub'), 'utf8')).toBe(keyA.publicKey);
    live = await hostState();
    expect(live).toContain(`/${project}-app-1 ${app} `);
    expect(live).toContain(`/${project}-worker-1 ${worker} `);
  });

  it('refuses an unsigned image, naming its service and the image', async () => {
    const error = await refused(pins(app, unsigned));
    expect(error).toMatch(
      new RegExp(
        `^Image verification refused the release \\(nothing on the host changed\\): service worker: image ${unsigned} failed its signature check: it is not signed \\(cosign: Error: no signatures found\\)$`,
      ),
    );
    expect(await hostState()).toBe(live);
  });

  it('refuses an image signed by another key', async () => {
    const error = await refused(pins(signedByB, worker));
    expect(error).toContain(
      `service app: image ${signedByB} failed its signature check: no signature on it is by the expected signer (cosign: Error: no matching signatures`,
    );
    expect(error).not.toContain('service worker');
  });

  it('refuses a signed image without the provenance attestation', async () => {
    const error = await refused(pins(app, notAttested));
    expect(error).toMatch(
      new RegExp(
        `service worker: image ${notAttested} failed its slsaprovenance attestation check: it has no such attestation by the expected signer \\(cosign: Error: no matching attestations:\\)$`,
      ),
    );
  });

  it('names every refused image at once, in mode swarm too', async () => {
    const error = await refused(pins(unsigned, signedByB), { mode: 'swarm' });
    expect(error).toContain(`service app: image ${unsigned} failed its signature check: it is not signed`);
    expect(error).toContain(
      `service worker: image ${signedByB} failed its signature check: no signature on it`,
    );
  });

  it('refuses a pin from a registry outside allowed-registries, before cosign runs', async () => {
    const elsewhere = app.replace(/^localhost:/, '127.0.0.1:');
    const error = await refused(pins(elsewhere, worker));
    expect(error).toBe(
      `Input "images": service app: image ${elsewhere} is from registry 127.0.0.1:5000, which is not in allowed-registries (${lab.registry})`,
    );
  });

  it('refuses hostile verification inputs before anything runs', async () => {
    const key = await refused(pins(app, worker), {
      'verify-key': `$(touch /tmp/pwned-${id})\n${keyA.publicKey}`,
    });
    expect(key).toMatch(/^Input "verify-key": is not a cosign public key/);
    const both = await refused(pins(app, worker), { 'verify-identity': `x" --key=/etc/passwd '` });
    expect(both).toMatch(/^Input "verify-key": set either verify-key .* not both/);
    const issuer = await refused(pins(app, worker), {
      'verify-key': '',
      'verify-identity': `x"'`,
      'verify-issuer': 'http://issuer.example.com',
    });
    expect(issuer).toMatch(
      /^Input "verify-issuer": "http:\/\/issuer.example.com" is not an https OIDC issuer URL/,
    );
    expect((await exec('ls', ['/tmp'])).stdout).not.toContain(`pwned-${id}`);
  });

  it('verifies keyless against an identity with quotes as one argument, and refuses what it cannot verify', async () => {
    // No Sigstore here (offline): cosign cannot fetch the trust root, so nothing verifies; the identity
    // reached cosign whole and the deploy stops before the host.
    const error = await refused(pins(app, worker), {
      'verify-key': '',
      'verify-identity': `https://github.com/acme/shop/.github/workflows/build.yml@refs/heads/main" '$(id)`,
      'verify-issuer': 'https://token.actions.githubusercontent.com',
      'transparency-log': 'true',
    });
    expect(error).toMatch(/service app: image .* failed its signature check: cosign: /);
    expect(await hostState()).toBe(live);
  });
});
