// The preflight's pull measure against the lab registry: the compressed size of a pushed image read
// through real basic auth equals what `docker buildx imagetools inspect --raw` shows for the same
// ref; wrong credentials or no registry never fail the deploy (the floor stands in, and the log
// says so). The lab's disk is not filled: the failure message is unit-tested (pull-space.test.ts).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import * as example from './example-release.js';
import { runAction } from '../scripts/lab/harness.js';
import { buildPush, readLab, sshInputs } from '../scripts/lab/lab.js';
import { compressedImageSize, parsePlatform, type Platform } from '../lib/tools/registry.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const credentials = { username: lab.registryUser, password: lab.registryPassword };
let image: string;
let platform: Platform;

type Raw = { manifests?: { digest: string; platform?: { os: string; architecture: string } }[] } & {
  config?: { size: number };
  layers?: { size: number }[];
};
const raw = async (ref: string): Promise<Raw> =>
  JSON.parse((await exec('docker', ['buildx', 'imagetools', 'inspect', '--raw', ref])).stdout) as Raw;

/** What docker itself reads from the registry: config plus layers, of the host platform's image. */
async function imagetoolsSize(ref: string): Promise<number> {
  let manifest = await raw(ref);
  if (manifest.manifests) {
    const entry = manifest.manifests.find(
      (m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture,
    );
    manifest = await raw(`${ref.split('@')[0]!.replace(/:[^/:]+$/, '')}@${entry!.digest}`);
  }
  return manifest.config!.size + manifest.layers!.reduce((s, l) => s + l.size, 0);
}

beforeAll(async () => {
  platform = parsePlatform(
    (await exec('docker', ['info', '--format', '{{.OSType}}/{{.Architecture}}'])).stdout,
  )!;
  const context = mkdtempSync(join(tmpdir(), 'berth-pull-space-'));
  writeFileSync(
    join(context, 'Dockerfile'),
    'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN head -c 3000000 /dev/urandom > /blob\n',
  );
  image = await buildPush(lab, context, `${lab.registry}/berth-pull-space/api:${id}`);
  // Absent on the host (this engine), so the deploy's preflight must measure it.
  await exec('docker', ['image', 'rm', '--force', image, `${lab.registry}/berth-pull-space/api:${id}`]);
});

describe('registry sizes', () => {
  it('reads the compressed size of a pushed image through basic auth, as imagetools does', async () => {
    const size = await compressedImageSize(image, platform, { credentials });
    expect(size).toBe(await imagetoolsSize(image));
    expect(size).toBeGreaterThan(3_000_000);
    // The base image by tag (an index or not), the same way.
    expect(await compressedImageSize(lab.baseImage, platform, { credentials })).toBe(
      await imagetoolsSize(lab.baseImage),
    );
  });

  it('is refused without the right credentials, and says so without the password', async () => {
    await expect(compressedImageSize(image, platform)).rejects.toThrow(
      'the registry refused the request (401)',
    );
    const wrong = { username: lab.registryUser, password: `not-${lab.registryPassword}` };
    const e = (await compressedImageSize(image, platform, { credentials: wrong }).catch(
      (x: unknown) => x,
    )) as Error;
    expect(e.message).toMatch(/^the registry answered 401/);
    expect(e.message).not.toContain(lab.registryPassword);
  });
});

describe('deploy preflight measures the pull', () => {
  const deploy = async (extra: Record<string, string>) => {
    const workdir = example.exampleWorkdir(lab, 'pull-space');
    // A remote-dir the user cannot create: the deploy stops at the preflight, nothing is written.
    const parent = `/opt/berth-pull-space-${id}`;
    mkdirSync(parent, { mode: 0o755 });
    try {
      return await runAction('deploy', {
        workspace: workdir,
        inputs: {
          ...sshInputs(lab),
          project: `berth-pull-space-${id}`,
          'remote-dir': `${parent}/shop`,
          secrets: example.exampleSecrets(lab, 'pw'),
          images: `api=${image}`,
          ...example.registryAndProbeInputs(lab, 8443),
          ...extra,
        },
      });
    } finally {
      rmSync(parent, { recursive: true, force: true });
      rmSync(workdir, { recursive: true, force: true });
    }
  };

  it("logs the registry's size of the image the host lacks", async () => {
    const r = await deploy({});
    const mib = Math.ceil((await imagetoolsSize(image)) / 1024 / 1024);
    expect(r.log).toContain(`${image}: ${mib} MiB compressed`);
    expect(r.errors).toEqual([expect.stringMatching(/^Input "remote-dir": .* is not writable by deploy/)]);
  });

  it('keeps the floor, saying why, when the registry refuses: never a failure of its own', async () => {
    const r = await deploy({ 'registry-password': `not-${lab.registryPassword}` });
    expect(r.log).toContain(`the registry could not say the size of ${image} (the registry answered 401`);
    expect(r.log).toContain('keeping 2.0 GiB free for the pull');
    expect(r.log).not.toContain(`not-${lab.registryPassword}`);
    expect(r.errors).toEqual([expect.stringMatching(/^Input "remote-dir": .* is not writable by deploy/)]);
  });
});
