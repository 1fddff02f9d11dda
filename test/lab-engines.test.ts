// The lab's second engine and foreign platforms (scripts/lab/classic-engine.sh): facts the build tests
// stand on. The second engine has the classic image store a stock runner has, so buildx's default
// driver refuses cache export there; arm64 runs under QEMU in containers and RUN steps; the
// multi-platform base is one manifest list for amd64 and arm64 in the lab registry.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readEnginesLab } from '../scripts/lab/lab.js';

const execFileP = promisify(execFile);
const engines = readEnginesLab();
const work = mkdtempSync(join(tmpdir(), 'berth-lab-engines-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** docker on the classic-store engine (or the main one with `main`), never a caller's DOCKER_HOST. */
async function docker(args: string[], main = false): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: engines.classicDockerHost };
  delete env.DOCKER_CONTEXT;
  if (main) delete env.DOCKER_HOST;
  return (await execFileP('docker', args, { env })).stdout;
}

/** A build context holding only `dockerfile`. */
function context(name: string, dockerfile: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

describe('lab engines', () => {
  it('runs a second engine with the classic image store beside the containerd-store one', async () => {
    const classic = await docker(['info', '--format', '{{.Driver}} {{json .DriverStatus}}']);
    expect(classic.split(' ')[0]).toBe('overlay2');
    expect(classic).not.toContain('io.containerd.snapshotter');
    const main = await docker(['info', '--format', '{{json .DriverStatus}}'], true);
    expect(main).toContain('io.containerd.snapshotter');
  });

  it("refuses cache export on the classic engine's default builder, as on a stock runner", async () => {
    const dir = context('cache', 'FROM scratch\n');
    const failed = await docker([
      'buildx',
      'build',
      '--cache-to',
      `type=local,dest=${join(work, 'cache-out')}`,
      dir,
    ]).then(
      () => '',
      (e: { stderr?: string }) => e.stderr ?? String(e),
    );
    expect(failed).toContain('Cache export is not supported for the docker driver');
  });

  it('serves the multi-platform base as one manifest list for amd64 and arm64', async () => {
    const raw = JSON.parse(
      await docker(['buildx', 'imagetools', 'inspect', '--raw', engines.multiarchBase], true),
    ) as {
      mediaType: string;
      manifests: { platform: { os: string; architecture: string } }[];
    };
    expect(raw.mediaType).toMatch(/manifest\.list|image\.index/);
    const platforms = raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort();
    expect(platforms).toEqual(['linux/amd64', 'linux/arm64']);
    expect(engines.multiarchPlatforms).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('runs an arm64 RUN step under QEMU on the classic engine, from the multi-platform base', async () => {
    const dir = context('arm64', `FROM ${engines.multiarchBase}\nRUN uname -m > /arch\n`);
    const out = join(work, 'arm64-out');
    await docker(['buildx', 'build', '--platform', 'linux/arm64', '--output', `type=local,dest=${out}`, dir]);
    expect(readFileSync(join(out, 'arch'), 'utf8').trim()).toBe('aarch64');
  });
});
