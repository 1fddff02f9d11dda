// berth/deploy's modes status and rollback, and retention that cannot remove a release, against the
// lab's SSH host (this machine's engine behind sshd), through the harness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exampleImages,
  exampleSecrets,
  exampleWorkdir,
  pins,
  registryAndProbeInputs,
  type ExampleImages,
} from './example-release.js';
import type { ReleaseInfo } from '../actions/deploy/src/modes/status.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { freePort, httpsGet as httpsGetWith, sshdConnections as connections } from '../scripts/lab/net.js';

const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-modes-${id}`;
const remoteDir = `/home/deploy/berth-modes-${id}`;

const ssh = (command: string) => labSsh(lab, command);
/** `command` as root in a container with `dir` at /x: what a service writing into a bind mount leaves. */
const asRoot = (dir: string, command: string) =>
  ssh(`docker run --rm --user 0 --entrypoint sh -v '${dir}:/x' '${images.nginx}' -c '${command}'`);
const httpsGet = (port: number, path: string) => httpsGetWith(lab.caFile, port, path);
const version = async () =>
  (JSON.parse((await httpsGet(httpsPort, '/healthz')).body) as { version: string }).version;

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let httpPort: number;

function run(extra: Record<string, string | undefined>, sha?: string): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    sha,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      env: `HTTPS_PORT=${httpsPort}\nHTTP_PORT=${httpPort}\nBIND_ADDRESS=127.0.0.1`,
      environment: 'development',
      secrets: exampleSecrets(lab, `pw-${id}`),
      ...registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '120',
      ...extra,
    },
  });
}

/** What a run could have changed on the host: the audit log, the current link, the releases. */
async function hostState(): Promise<string> {
  const { stdout } = await ssh(`cd ${remoteDir} && wc -l <deploy.log && readlink current && ls -a releases`);
  return stdout;
}

const shas = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40), 'd'.repeat(40)];
const ids: string[] = [];

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'modes');
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await exampleImages(lab, 'berth-modes');
});

afterAll(async () => {
  // The retention test left a root-owned file the deploy user cannot delete.
  await asRoot(remoteDir, 'rm -rf /x/releases/.removing-*').catch(() => undefined);
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
  ).catch(() => undefined);
});

describe('deploy modes', () => {
  it('deploys three releases: api v1, v2, v1', async () => {
    for (const [i, api] of [images.api1, images.api2, images.api1].entries()) {
      const r = await run({ images: pins(images, api) }, shas[i]);
      expect(r.exitCode, r.log).toBe(0);
      ids.push(r.outputs.release!);
    }
    expect(await version()).toBe('v1');
  });

  it('mode status lists the kept releases as JSON, while a deploy holds the lock, changing nothing', async () => {
    const before = await hostState();
    const holder = ssh(`cd ${remoteDir} && exec 9>>.lock && flock 9 && sleep 20`);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await run({ mode: 'status', 'lock-timeout': '1' });
    await holder;
    expect(r.exitCode, r.log).toBe(0);
    const releases = JSON.parse(r.outputs.releases!) as ReleaseInfo[];
    expect(releases.map((x) => x.id)).toEqual(ids);
    expect(releases.map((x) => x.commit)).toEqual(shas.slice(0, 3));
    expect(releases.map((x) => x.current)).toEqual([false, false, true]);
    expect(releases.map((x) => x.images.api)).toEqual([images.api1, images.api2, images.api1]);
    expect(releases.map((x) => x.result)).toEqual(['deployed', 'deployed', 'deployed']);
    expect(releases.every((x) => x.orchestrator === 'compose' && x.images.db === images.db)).toBe(true);
    expect(Date.parse(releases[0]!.created)).toBeLessThan(Date.parse(releases[2]!.created));
    expect(r.outputs.release).toBe(ids[2]);
    expect(r.outputs.status).toBe('');
    expect(r.summary).toContain(`\`${ids[2]}\` **current**`);
    expect(await hostState()).toBe(before);
  });

  it('mode rollback with release previous brings the previous api back over HTTPS, audited as a rollback', async () => {
    const r = await run({ mode: 'rollback', release: 'previous' });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'deployed', release: ids[1], 'previous-release': ids[2] });
    expect(await version()).toBe('v2');
    expect(r.summary).toContain(`\`${ids[1]}\` (rollback)`);
    const { stdout } = await ssh(
      `cd ${remoteDir} && readlink current && tail -n 1 deploy.log && grep -c pins.yml releases/${ids[1]}/.berth/compose-files && find releases -path '*/.berth/probes*' -o -name registry-password -o -name '.incoming-*' | wc -l`,
    );
    const [link, audit, pinsListed, leftovers] = stdout.trim().split('\n');
    expect(link).toBe(`releases/${ids[1]}`);
    expect(JSON.parse(audit!)).toMatchObject({
      action: 'rollback',
      requested: 'previous',
      release: ids[1],
      orchestrator: 'compose',
      status: 'deployed',
      actor: 'lab-tester',
    });
    expect(pinsListed).toBe('1');
    expect(leftovers).toBe('0');
  });

  it('mode rollback with an explicit id brings that release back', async () => {
    const r = await run({ mode: 'rollback', release: ids[2] });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs).toMatchObject({ status: 'deployed', release: ids[2], 'previous-release': ids[1] });
    expect(await version()).toBe('v1');
  });

  it('refuses an unknown release on the host, naming the input, changing nothing', async () => {
    const before = await hostState();
    const r = await run({ mode: 'rollback', release: '20200101T000000Z-0123456-abcd' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /^Input "release": 20200101T000000Z-0123456-abcd is not a kept release on this host/,
    );
    expect(await hostState()).toBe(before);
  });

  it('refuses a malformed release before connecting, naming the input', async () => {
    const ssh = connections(lab.sshLog);
    const r = await run({ mode: 'rollback', release: `../${ids[0]}` });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "release": .* is not a release id/);
    expect(connections(lab.sshLog)).toBe(ssh);
  });

  it('returns to the current release when the rollback target fails its gates', async () => {
    // This run's probe wants 204 from /healthz, which answers 200: the target never passes.
    const r = await run({
      mode: 'rollback',
      release: 'previous',
      'health-urls': `https://localhost:${httpsPort}/healthz 204`,
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs).toMatchObject({ status: 'rolled-back', release: ids[1], 'previous-release': ids[2] });
    expect(r.errors[0]).toMatch(
      new RegExp(
        `release ${ids[1]} failed at probe: .*answered HTTP 200, expected 204.*rolled back to ${ids[2]}`,
      ),
    );
    expect(await version()).toBe('v1');
    const { stdout } = await ssh(
      `cd ${remoteDir} && readlink current && tail -n 1 deploy.log && ls releases`,
    );
    const [link, audit] = stdout.split('\n');
    expect(link).toBe(`releases/${ids[2]}`);
    expect(JSON.parse(audit!)).toMatchObject({ action: 'rollback', release: ids[1], status: 'rolled-back' });
    // The target is a kept release: it stays.
    expect(stdout).toContain(ids[1]);
  });

  it('deploys with a warning when retention cannot remove a release (a root-owned file in it)', async () => {
    // The first release stays anyway: the db, never recreated since, mounts its secret from there.
    await asRoot(`${remoteDir}/releases/${ids[1]}`, 'mkdir /x/owned && touch /x/owned/f');
    const r = await run({ images: pins(images, images.api2), 'keep-releases': '1' }, shas[3]);
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.warnings).toEqual([
      expect.stringMatching(new RegExp(`^retention: release ${ids[1]} could not be removed`)),
    ]);
    expect(r.summary).toContain(`retention: release ${ids[1]} could not be removed`);
    expect(r.summary).toContain(`${ids[0]} (mounted by container`);
    expect(await version()).toBe('v2');
    const { stdout } = await ssh(`cd ${remoteDir} && ls -a releases && tail -n 1 deploy.log`);
    expect(stdout).toContain(`.removing-${ids[1]}`);
    expect(stdout).not.toMatch(new RegExp(`^${ids[1]}$`, 'm'));
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({
      release: r.outputs.release,
      status: 'deployed',
    });
    // The release that could not be removed is no longer listed, nor a rollback target.
    const status = await run({ mode: 'status' });
    expect((JSON.parse(status.outputs.releases!) as ReleaseInfo[]).map((x) => x.id)).toEqual([
      ids[0],
      ids[2],
      r.outputs.release,
    ]);
  });
});
