// berth/build's supply chain against the real thing: an amd64+arm64 image (arm64 under QEMU) checked
// per platform, provenance and an SBOM from BuildKit's SBOM protocol (the lab's Trivy generator) in
// the registry without the build secret, and cosign signatures that the lab's cosign verifies.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runAction, type RunOptions } from '../scripts/lab/harness.js';
import { cosignKeyPair, readCosignLab } from '../scripts/lab/cosign.js';
import { readEnginesLab, readLab } from '../scripts/lab/lab.js';
import { builderInputs, buildkitLab } from './builders.js';
import { registryDigest } from './registry.js';

const exec = promisify(execFile);
const lab = readLab();
const engines = readEnginesLab();
const cosignLab = readCosignLab();
const run = Math.random().toString(36).slice(2, 8);
const repo = (name: string) => `berth-supply-${run}/${name}`;
const imageOf = (name: string) => `${lab.registry}/${repo(name)}`;

function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `berth-supply-${prefix}-`));
}

function context(dockerfile: string): string {
  const dir = tmp('ctx');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

function build(inputs: RunOptions['inputs'], dockerHost?: string) {
  const dockerConfig = tmp('dockercfg');
  return runAction('build', {
    env: { DOCKER_CONFIG: dockerConfig, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
    inputs: {
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'cosign-version': cosignLab.version,
      'cosign-download-url': cosignLab.downloadUrl,
      ...builderInputs,
      ...inputs,
    },
  });
}

/** A docker config logged in to the lab registry, for the lab's own cosign and imagetools calls. */
async function loggedInConfig(): Promise<string> {
  const dir = tmp('verifycfg');
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'docker',
      ['login', '--username', lab.registryUser, '--password-stdin', lab.registry],
      { env: { ...process.env, DOCKER_CONFIG: dir } },
      (error) => (error ? reject(error) : resolve()),
    );
    child.stdin!.end(lab.registryPassword);
  });
  return dir;
}

async function imagetools(ref: string, format: string): Promise<string> {
  const { stdout } = await exec('docker', ['buildx', 'imagetools', 'inspect', '--format', format, ref], {
    env: { ...process.env, DOCKER_CONFIG: await loggedInConfig() },
  });
  return stdout;
}

/** A key pair from `cosign generate-key-pair`, its public key in a file for the lab's cosign. */
async function keyPair(password: string): Promise<{ key: string; pub: string }> {
  const dir = tmp('cosign');
  const pair = await cosignKeyPair(cosignLab, dir, 'k', password);
  return { key: pair.privateKey, pub: join(dir, 'k.pub') };
}

async function cosign(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(cosignLab.bin, args, {
      env: { ...process.env, DOCKER_CONFIG: await loggedInConfig() },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const offline = ['--insecure-ignore-tlog=true', '--allow-insecure-registry', '--allow-http-registry'];

describe('multi-platform', () => {
  // The foreign platform's stage only COPYs: the one RUN runs on the build platform.
  const multi = (arm64User: string) =>
    [
      `FROM --platform=$BUILDPLATFORM ${engines.multiarchBase} AS build`,
      'ARG TARGETARCH',
      'RUN echo "built for $TARGETARCH" > /built',
      `FROM ${engines.multiarchBase} AS final-amd64`,
      'USER 10001',
      `FROM ${engines.multiarchBase} AS final-arm64`,
      ...(arm64User ? [`USER ${arm64User}`] : []),
      'FROM final-${TARGETARCH}',
      'COPY --from=build /built /built',
    ].join('\n');

  it('checks each platform: a root arm64 image is refused by name and gets no tag', async () => {
    const r = await build(
      {
        context: context(multi('')),
        image: imageOf('multi'),
        tags: 'refused',
        platforms: 'linux/amd64,linux/arm64',
        push: 'true',
        cache: 'none',
      },
      engines.classicDockerHost,
    );
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/the linux\/arm64 image runs as root/);
    expect(r.errors.join('\n')).not.toMatch(/linux\/amd64 image runs as root/);
    expect(await registryDigest(lab, repo('multi'), 'refused')).toBeUndefined();
  });

  it('pushes one index with both platforms from the classic engine, each checked', async () => {
    const r = await build(
      {
        context: context(multi('10002')),
        image: imageOf('multi'),
        tags: 'v1',
        platforms: 'linux/amd64,linux/arm64',
        push: 'true',
        cache: 'none',
        'max-size': '5MB',
      },
      engines.classicDockerHost,
    );
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.platforms).toBe('linux/amd64,linux/arm64');
    expect(r.summary).toMatch(
      /✅ linux\/arm64 image size \(compressed, in the registry\) [\d.]+ [kM]B \(\d+ bytes\) within max-size/,
    );
    expect(r.summary).toContain('✅ the linux/arm64 image runs as 10002');
    const digest = r.outputs.digest!;
    expect(await registryDigest(lab, repo('multi'), 'v1')).toBe(digest);
    const index = JSON.parse(await imagetools(`${imageOf('multi')}@${digest}`, '{{json .Manifest}}')) as {
      manifests: { platform: { os: string; architecture: string } }[];
    };
    const platforms = index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`);
    expect(platforms.filter((p) => p !== 'unknown/unknown').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    // The arm64 image holds what its stage built for arm64 (the build stage ran once per target).
    const configs = JSON.parse(
      await imagetools(`${imageOf('multi')}@${digest}`, '{{json .Image}}'),
    ) as Record<string, { architecture: string; config: { User: string } }>;
    expect(configs['linux/arm64']).toMatchObject({ architecture: 'arm64', config: { User: '10002' } });
  });
});

describe('attestations and signing', () => {
  const secret = `build-secret-${Date.now()}-value`;
  const dockerfile = [
    `FROM ${lab.baseImage}`,
    'ARG PUBLIC_ARG',
    'RUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token > /token.sha256',
    'USER 10001',
  ].join('\n');

  it('stores provenance and an SBOM with the image, neither holding the build secret, and signs both', async () => {
    const password = `pw-${run}-'"$(x)`;
    const pair = await keyPair(password);
    const r = await build({
      context: context(dockerfile),
      image: imageOf('signed'),
      tags: 'v1',
      push: 'true',
      cache: 'none',
      'build-args': 'PUBLIC_ARG=visible',
      secrets: `token=${secret}`,
      provenance: 'max',
      sbom: 'true',
      'sbom-generator': buildkitLab.sbomGenerator,
      'cosign-key': pair.key,
      'cosign-password': password,
      'transparency-log': 'false',
    });
    expect(r.exitCode, r.log).toBe(0);
    const ref = r.outputs.ref!;
    const attestations = r.outputs.attestations!.split('\n');
    expect(attestations).toEqual(
      expect.arrayContaining([
        'https://spdx.dev/Document',
        'cosign-signature',
        expect.stringMatching(/^cosign-attestation:slsaprovenance/),
      ]),
    );
    const provenance = await imagetools(ref, '{{json .Provenance}}');
    const sbom = await imagetools(ref, '{{json .SBOM}}');
    expect(provenance).toContain('PUBLIC_ARG'); // mode=max: build arguments are recorded
    expect(sbom).toMatch(/"name":\s*"(?:dpkg|bash|coreutils)"/);
    for (const text of [provenance, sbom, r.log, r.summary, r.post?.log ?? '']) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(password);
      expect(text).not.toContain(pair.key.split('\n')[1]!);
    }
    expect(r.masks).toEqual(expect.arrayContaining([secret, password]));

    // The lab's own cosign, with the public key: the signature and the provenance attestation verify.
    const signature = await cosign(['verify', `--key=${pair.pub}`, ...offline, ref]);
    expect(signature.code, signature.out).toBe(0);
    const type = attestations.find((a) => a.startsWith('cosign-attestation:'))!.split(':')[1]!;
    const attestation = await cosign([
      'verify-attestation',
      `--key=${pair.pub}`,
      `--type=${type}`,
      ...offline,
      ref,
    ]);
    expect(attestation.code, attestation.out).toBe(0);
    // Another key does not verify it.
    const other = await keyPair('other');
    expect((await cosign(['verify', `--key=${other.pub}`, ...offline, ref])).code).not.toBe(0);
  });

  it('refuses a key that is not a cosign key, naming the input, before anything is built', async () => {
    const r = await build({
      context: context(dockerfile),
      image: imageOf('badkey'),
      push: 'true',
      secrets: `token=${secret}`,
      'cosign-key': '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^Input "cosign-key": is not a cosign private key/)]);
    expect(r.log).not.toContain('AAAA');
    expect(r.log).not.toMatch(/buildx build/);
  });

  it('a wrong password fails the step before any tag exists', async () => {
    const pair = await keyPair('right');
    const r = await build({
      context: context(dockerfile),
      image: imageOf('wrongpw'),
      tags: 'v1',
      push: 'true',
      cache: 'none',
      secrets: `token=${secret}`,
      'cosign-key': pair.key,
      'cosign-password': 'wrong',
      'transparency-log': 'false',
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/Signing .*@sha256:[0-9a-f]{64} failed/);
    expect(await registryDigest(lab, repo('wrongpw'), 'v1')).toBeUndefined();
    // The summary says why, too.
    expect(r.summary).toMatch(/\*\*Failed after the checks:\*\* Signing .* failed/);
  });
});
