// The lab's BuildKit (scripts/lab/buildkit.sh): a docker-container builder made from the lab's image
// (nothing pulled from Docker Hub) builds with a RUN step on Debian's mirror, exports a mode=max cache,
// pushes by digest to the authenticated lab registry with max provenance and an SBOM from the lab's
// Trivy generator, and the registry's index holds them; BuildKit's default generator resolves to the
// same through the config's docker.io mirror. The builder is removed afterwards.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBuildkitLab, readLab } from '../scripts/lab/lab.js';

const run = promisify(execFile);
const lab = readLab();
const bk = readBuildkitLab();
const work = mkdtempSync(join(tmpdir(), 'berth-lab-buildkit-'));
// A docker config of the test's own: its login and its builder never touch ~/.docker.
const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker') };
const builder = `berth-labtest-${process.pid}`;
const repo = `${lab.registry}/berth-lab-buildkit/probe`;

function docker(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('docker', args, { env, maxBuffer: 64 << 20 });
}

beforeAll(async () => {
  execFileSync('docker', ['login', '-u', lab.registryUser, '--password-stdin', lab.registry], {
    env,
    input: lab.registryPassword,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  await docker([
    'buildx',
    'create',
    '--name',
    builder,
    '--driver',
    'docker-container',
    '--driver-opt',
    `image=${bk.image},network=host`,
    '--buildkitd-config',
    bk.buildkitdConfig,
    '--bootstrap',
  ]);
});

afterAll(async () => {
  await docker(['buildx', 'rm', builder]).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

/** The image's SBOM attestation lists the Debian base's dpkg packages, as the lab's Trivy found them. */
async function expectTrivySbom(digest: string): Promise<void> {
  const { stdout } = await docker([
    'buildx',
    'imagetools',
    'inspect',
    `${repo}@${digest}`,
    '--format',
    '{{json .SBOM}}',
  ]);
  const spdx = (
    JSON.parse(stdout) as { SPDX: { packages: { name: string }[]; creationInfo: { creators: string[] } } }
  ).SPDX;
  const names = spdx.packages.map((p) => p.name);
  expect(names).toEqual(expect.arrayContaining(['base-files', 'apt', 'bash', 'dpkg']));
  expect(spdx.creationInfo.creators.some((c) => c.startsWith('Tool: trivy-'))).toBe(true);
}

describe('lab BuildKit', () => {
  it('runs the BuildKit built from source in a docker-container builder', async () => {
    const { stdout } = await docker(['buildx', 'inspect', builder]);
    expect(stdout).toMatch(/Driver:\s+docker-container/);
    expect(stdout).toMatch(new RegExp(`BuildKit version:\\s+${bk.version.replace(/\./g, '\\.')}\\b`));
    expect(stdout).toContain(`image="${bk.image}"`);
  });

  it('builds, exports a cache, pushes by digest with provenance and a Trivy SBOM', async () => {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        'ARG BASE_IMAGE',
        'FROM ${BASE_IMAGE} AS build',
        'RUN apt-get update -q && apt-get install -y -q --no-install-recommends hello && hello > /greeting',
        'FROM ${BASE_IMAGE}',
        'COPY --from=build /greeting /greeting',
        '',
      ].join('\n'),
    );
    const meta = join(work, 'meta.json');
    await docker([
      'buildx',
      'build',
      '--builder',
      builder,
      '--build-arg',
      `BASE_IMAGE=${lab.baseImage}`,
      '--cache-to',
      `type=local,dest=${join(work, 'cache')},mode=max`,
      '--provenance',
      'mode=max',
      '--attest',
      `type=sbom,generator=${bk.sbomGenerator}`,
      '--output',
      `type=image,name=${repo},push-by-digest=true,name-canonical=true,push=true`,
      '--metadata-file',
      meta,
      ctx,
    ]);
    expect(existsSync(join(work, 'cache', 'index.json'))).toBe(true);
    const digest = (JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>)[
      'containerimage.digest'
    ];
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const { stdout: raw } = await docker(['buildx', 'imagetools', 'inspect', '--raw', `${repo}@${digest}`]);
    const index = JSON.parse(raw) as {
      mediaType: string;
      manifests: {
        digest: string;
        platform?: { architecture: string };
        annotations?: Record<string, string>;
      }[];
    };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const image = index.manifests.find((m) => m.platform?.architecture === 'amd64');
    const att = index.manifests.find(
      (m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
    );
    expect(image).toBeDefined();
    expect(att?.annotations?.['vnd.docker.reference.digest']).toBe(image!.digest);
    const { stdout: attRaw } = await docker([
      'buildx',
      'imagetools',
      'inspect',
      '--raw',
      `${repo}@${att!.digest}`,
    ]);
    const predicates = (
      JSON.parse(attRaw) as { layers: { annotations: Record<string, string> }[] }
    ).layers.map((l) => l.annotations['in-toto.io/predicate-type']);
    expect(predicates.sort()).toEqual(['https://slsa.dev/provenance/v1', 'https://spdx.dev/Document']);

    await expectTrivySbom(digest!);
  });

  it("serves BuildKit's default SBOM generator from the lab registry through the docker.io mirror", async () => {
    const meta = join(work, 'meta-default.json');
    const { stderr } = await docker([
      'buildx',
      'build',
      '--builder',
      builder,
      '--build-arg',
      `BASE_IMAGE=${lab.baseImage}`,
      '--sbom=true',
      '--provenance=false',
      '--output',
      `type=image,name=${repo},push-by-digest=true,name-canonical=true,push=true`,
      '--metadata-file',
      meta,
      join(work, 'ctx'),
    ]);
    expect(stderr).toContain('generating sbom using docker.io/docker/buildkit-syft-scanner:stable-1');
    const digest = (JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>)[
      'containerimage.digest'
    ];
    await expectTrivySbom(digest!);
  });
});
