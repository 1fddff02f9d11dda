// berth/deploy's preflight and hooks against the lab's SSH host, through the harness: the example's
// api migrates its schema in a pre-deploy hook, and /version (over HTTPS) shows what it recorded.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as example from './example-release.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { freePort, httpsGet as httpsGetWith, sshdConnections as connections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-hooks-${id}`;
const remoteDir = `/home/deploy/berth-hooks-${id}`;
const marker = `/tmp/pwned-hooks-${id}`;

const ssh = (command: string) => labSsh(lab, command);
let workdir: string;
let images: example.ExampleImages;
let httpsPort: number;
let httpPort: number;

const version = async (): Promise<{ version: string; schema: string }> =>
  JSON.parse((await httpsGetWith(lab.caFile, httpsPort, '/version')).body) as {
    version: string;
    schema: string;
  };

function deploy(extra: Record<string, string>): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      env: [`HTTPS_PORT=${httpsPort}`, `HTTP_PORT=${httpPort}`, 'BIND_ADDRESS=127.0.0.1'].join('\n'),
      secrets: example.exampleSecrets(lab, `pw-${id}`),
      images: example.pins(images, images.api1),
      ...example.registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '120',
      ...extra,
    },
  });
}

beforeAll(async () => {
  workdir = example.exampleWorkdir(lab, 'hooks');
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await example.exampleImages(lab, 'berth-hooks');
});

afterAll(async () => {
  for (const p of [project, `${project}-first`]) {
    await ssh(`docker compose -p ${p} down -v --remove-orphans >/dev/null 2>&1; true`).catch(() => undefined);
  }
  await ssh(`rm -rf ${remoteDir} ${remoteDir}-first`).catch(() => undefined);
});

describe('deploy hooks', () => {
  let live: ActionResult;

  it('a failing pre-deploy hook on a first deploy: failed, and what it started is down again', async () => {
    const first = `${project}-first`;
    const r = await deploy({
      project: first,
      'remote-dir': `${remoteDir}-first`,
      'pre-deploy': 'api: migrate v1 extra',
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('failed');
    expect(r.errors[0]).toMatch(
      /failed at pre-deploy: pre-deploy hook api exited with 2: usage: api migrate \[VERSION\]; there was no earlier release/,
    );
    // The database was started for the hook (its dependency), and is gone with the failed release.
    expect(r.log).toMatch(/first-db-1\s+Healthy/);
    const { stdout } = await ssh(
      `docker ps -aq --filter label=com.docker.compose.project=${first} | wc -l; ls ${remoteDir}-first/releases | wc -l`,
    );
    expect(stdout.split('\n').slice(0, 2)).toEqual(['0', '0']);
  });

  it('a first deploy runs its migration once the database it depends on is up', async () => {
    const r = await deploy({ 'pre-deploy': 'api: migrate' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.log).toMatch(/^\[pre-deploy api\] migrate: schema at "v1" \(was ""\)$/m);
    expect(await version()).toEqual({ version: 'v1', schema: 'v1' });
  });

  it("a succeeding migration's effect is visible to the new release", async () => {
    live = await deploy({ images: example.pins(images, images.api2), 'pre-deploy': 'api: migrate' });
    expect(live.exitCode, live.log).toBe(0);
    expect(live.log).toMatch(/^\[pre-deploy api\] migrate: schema at "v2" \(was "v1"\)$/m);
    expect(await version()).toEqual({ version: 'v2', schema: 'v2' });
  });

  it('a failing migration stops the deploy: the running release keeps serving, status rolled-back', async () => {
    const r = await deploy({ 'pre-deploy': 'api: migrate' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors).toEqual([
      `release ${r.outputs.release} failed at pre-deploy: pre-deploy hook api exited with 1: ` +
        `migrate: the schema is at "v2", newer than "v1": refusing to downgrade; release ${live.outputs.release} kept serving, untouched`,
    ]);
    expect(r.summary).toContain('| Failed hook | pre-deploy `api` exited with 1 |');
    expect(r.summary).toMatch(
      /\| Hook output \(last lines\) \| .*`migrate: the schema is at "v2", newer than "v1": refusing to downgrade`/,
    );
    expect(await version()).toEqual({ version: 'v2', schema: 'v2' });
    const { stdout } = await ssh(`readlink ${remoteDir}/current; ls ${remoteDir}/releases`);
    expect(stdout.split('\n')[0]).toBe(`releases/${live.outputs.release}`);
    expect(stdout).not.toContain(r.outputs.release!);
  });

  it('a pre-deploy hook that outlives wait-timeout is stopped and removed; the running release serves on', async () => {
    // The broken api's entrypoint ignores its arguments and sleeps: its migration never ends.
    const r = await deploy({
      images: example.pins(images, images.broken),
      'pre-deploy': 'api: migrate',
      'wait-timeout': '8',
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toContain('pre-deploy hook api exited with 124');
    expect(r.summary).toContain('no result within 8 s (wait-timeout): stopped');
    const { stdout } = await ssh(`docker ps -a -q --filter name=${project}-berth-pre-deploy | wc -l`);
    expect(stdout.trim()).toBe('0');
    expect(await version()).toEqual({ version: 'v2', schema: 'v2' });
  });

  it('a failing post-deploy hook fails the step while the release stays deployed', async () => {
    const r = await deploy({ images: example.pins(images, images.api2), 'post-deploy': 'api: migrate v0' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('deployed');
    expect(r.errors).toEqual([
      `release ${r.outputs.release} is live (status deployed), but its post-deploy hook for service api exited with 1; ` +
        'its last lines: migrate: the schema is at "v2", newer than "v0": refusing to downgrade',
    ]);
    expect(r.log).toMatch(/^\[post-deploy api\] migrate: the schema is at "v2"/m);
    const { stdout } = await ssh(`readlink ${remoteDir}/current`);
    expect(stdout.trim()).toBe(`releases/${r.outputs.release}`);
    live = r;
  });

  it('a stack someone took down: the migration first starts the database it needs, then the release deploys', async () => {
    // Not a first deploy (a release is current), yet nothing runs: the hook's depends_on must be started.
    await ssh(`docker compose -p ${project} down`);
    const r = await deploy({ images: example.pins(images, images.api2), 'pre-deploy': 'api: migrate' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.log).toMatch(/^\[pre-deploy api\] migrate: /m);
    expect(await version()).toEqual({ version: 'v2', schema: 'v2' });
  });

  it('a hook argument with shell metacharacters arrives intact and runs nothing on the host', async () => {
    const value = `v3 $(touch ${marker}) \`touch ${marker}\`; touch ${marker} | "q" * ~ && $HOME`;
    const r = await deploy({
      images: example.pins(images, images.api2),
      'pre-deploy': `api: migrate '${value}'`,
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(await version()).toEqual({ version: 'v2', schema: value });
    // The lab host is this machine.
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    [
      'an unknown service',
      'web: migrate',
      /^Input "pre-deploy": service "web" is not in the compose files \(services: /,
    ],
    [
      'an unbalanced quote',
      `api: migrate 'v4`,
      /^Input "pre-deploy": line 1 \(api\): unbalanced ' quote at column 14$/,
    ],
    ['a line without a colon', 'api migrate', /^Input "pre-deploy": line 1 is not "SERVICE: COMMAND"/],
  ])('%s fails before the host is touched, naming the input', async (_, hook, message) => {
    const before = connections(lab.sshLog);
    const r = await deploy({ 'pre-deploy': hook });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(message);
    expect(connections(lab.sshLog)).toBe(before);
  });
});

describe('deploy preflight', () => {
  it('a remote-dir the user cannot create: one error with the sudo fix, nothing written', async () => {
    const parent = `/opt/berth-noperm-${id}`;
    mkdirSync(parent, { mode: 0o755 });
    try {
      const before = connections(lab.sshLog);
      const r = await deploy({ 'remote-dir': `${parent}/shop` });
      expect(r.exitCode).toBe(1);
      expect(r.errors).toEqual([
        `Input "remote-dir": ${parent}/shop is not writable by deploy: sudo install -d -o deploy ${parent}/shop`,
      ]);
      expect(r.outputs.status).toBe('failed');
      expect(connections(lab.sshLog) - before).toBe(1);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('a host without flock: one error naming flock and its package, nothing written', async () => {
    const dir = `/home/${lab.noFlockUser}/berth-${id}`;
    const r = await deploy({ user: lab.noFlockUser, 'remote-dir': dir });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      'flock is not installed on the host (deploys take a lock): sudo apt-get install util-linux',
    ]);
    expect(existsSync(dir)).toBe(false);
    const { stdout } = await exec('ls', ['-A', `/home/${lab.noFlockUser}`]);
    expect(stdout).not.toContain('berth-');
  });
});
