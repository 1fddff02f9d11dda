// berth/deploy's zero-downtime releases (inputs zero-downtime, proxy, drain-seconds) against the lab,
// with a bounded load client (scripts/lab/load.ts) running through every deploy that changes
// something: the api rolls start-first behind the example's nginx (its plain `proxy_pass`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exampleImages,
  exampleSecrets,
  exampleWorkdir,
  pins,
  registryAndProbeInputs,
  type ExampleImages,
} from './example-release.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { startLoad, type LoadResult } from '../scripts/lab/load.js';
import { freePort, httpsGet, sshdConnections } from '../scripts/lab/net.js';

const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-zd-${id}`;
const remoteDir = `/home/deploy/berth-zd-${id}`;
const ssh = (command: string) => labSsh(lab, command);

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let httpPort: number;
const BASE_FILES = ['docker-compose.yml'];

function deploy(extra: Record<string, string> = {}, files: string[] = []): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      'compose-files': [...BASE_FILES, ...files].join('\n'),
      'remote-dir': remoteDir,
      env: [`HTTPS_PORT=${httpsPort}`, `HTTP_PORT=${httpPort}`, 'BIND_ADDRESS=127.0.0.1'].join('\n'),
      secrets: exampleSecrets(lab, `pw-${id}`),
      images: pins(images, images.api1),
      ...registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '120',
      'zero-downtime': 'api',
      proxy: 'nginx',
      'drain-seconds': '2',
      ...extra,
    },
  });
}

/** A deploy while the load client (and a client of slow requests) runs through it. */
async function deployUnderLoad(
  extra: Record<string, string>,
  files: string[] = [],
): Promise<{ r: ActionResult; load: LoadResult; slow: LoadResult }> {
  const load = startLoad({ caFile: lab.caFile, port: httpsPort, path: '/healthz', maxSeconds: 300 });
  // Sequential 3 s requests: one is always in flight, so one is when the release switches.
  const slow = startLoad({
    caFile: lab.caFile,
    port: httpsPort,
    path: '/slow?ms=3000',
    intervalMs: 0,
    timeoutMs: 20_000,
    maxSeconds: 300,
  });
  await new Promise((r) => setTimeout(r, 1000));
  const since = Math.floor(Date.now() / 1000);
  const r = await deploy(extra, files);
  if (process.env.ZD_DEBUG) {
    const { stdout } = await ssh(
      `docker events --since ${since} --until $(date +%s) --format '{{.Time}} {{.Type}} {{.Action}} {{index .Actor.Attributes "name"}}' | grep -v 'exec_\\|health_status' | grep ${project}`,
    ).catch((e: unknown) => ({ stdout: String(e) }));
    console.log(
      stdout,
      r.summary,
      r.log
        .split('\n')
        .filter((l) => l.includes('berth:'))
        .join('\n'),
    );
  }
  await new Promise((r) => setTimeout(r, 1000));
  const [l, s] = await Promise.all([load.stop(), slow.stop()]);
  if (process.env.ZD_DEBUG && l.failed > 0) {
    const { stdout } = await ssh(
      `docker compose -p ${project} logs --timestamps nginx 2>&1 | grep -v '" 200 ' | tail -n 40`,
    );
    console.log(stdout);
  }
  console.log(
    `release: ${l.failed}/${l.total} failed, longest gap ${l.longestGapMs} ms; ` +
      `slow: ${s.failed}/${s.total} failed; ${JSON.stringify(l.failures.slice(0, 3))}`,
  );
  return { r, load: l, slow: s };
}

/** The api's version as nginx serves it. */
async function servedVersion(): Promise<string> {
  const res = await httpsGet(lab.caFile, httpsPort, '/healthz');
  return (JSON.parse(res.body) as { version: string }).version;
}

/** The REJECT rules in nginx's network namespace (read the same way the deploy sets them). */
async function rulesInProxy(): Promise<string> {
  const { stdout } = await ssh(
    `c=$(docker compose -p ${project} ps -q nginx) && docker run --rm --net container:$c --cap-add NET_ADMIN ` +
      `--user 0 -v /:/host:ro --entrypoint chroot $(docker inspect -f '{{.Image}}' $c) /host iptables -S OUTPUT`,
  );
  return stdout;
}

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'zero-downtime');
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await exampleImages(lab, 'berth-zd');
  writeFileSync(join(workdir, 'zd-container-name.yml'), 'services:\n  api:\n    container_name: fixed-api\n');
  // A change of nginx alone (a label): it is recreated, as every service not listed would be.
  writeFileSync(
    join(workdir, 'zd-nginx-change.yml'),
    'services:\n  nginx:\n    labels:\n      revision: "2"\n',
  );
});

afterAll(async () => {
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
  ).catch(() => undefined);
});

describe('zero-downtime: bad input fails before the host is touched', () => {
  it.each([
    [
      { 'zero-downtime': 'nginx', proxy: 'api' },
      [],
      /Input "zero-downtime": service "nginx" publishes ports \d+, \d+ on the host/,
    ],
    [{}, ['zd-container-name.yml'], /Input "zero-downtime": service "api" sets container_name \(fixed-api\)/],
    [{ proxy: 'traefik' }, [], /Input "proxy": service "traefik" is not in the compose files/],
  ])('%j %j', async (extra, files, message) => {
    const before = sshdConnections(lab.sshLog);
    const r = await deploy(extra, files);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0], r.log).toMatch(message);
    expect(sshdConnections(lab.sshLog) - before).toBe(0);
  });
});

describe('zero-downtime releases under load', () => {
  it('deploys the first release with a plain up', async () => {
    const r = await deploy();
    expect(r.exitCode, r.log).toBe(0);
    expect(await servedVersion()).toBe('v1');
  });

  it('rolls a routine api release start-first: 0 failed, the slow requests complete, v2 answers', async () => {
    const { r, load, slow } = await deployUnderLoad({ images: pins(images, images.api2) });
    expect(r.exitCode, r.log).toBe(0);
    expect(load.failures).toEqual([]);
    expect(load.total).toBeGreaterThan(20);
    expect(slow.failures).toEqual([]);
    expect(slow.total).toBeGreaterThan(1);
    expect(await servedVersion()).toBe('v2');
    expect(load.bodies.at(-1)).toContain('"version":"v2"');
    expect(r.summary).toMatch(
      /Service `api` \| start-first: new containers healthy after [\d.]+ s, the old ones drained 2 s/,
    );
    expect(r.summary).toMatch(/Service `db` \| unchanged/);
    // One api container, no refusal rule left in nginx's network namespace, no helper left.
    const { stdout } = await ssh(
      `docker compose -p ${project} ps -q api | wc -l; docker ps -a -q --filter label=berth.rollout-helper=${project} | wc -l`,
    );
    expect(stdout.split('\n').map((x) => x.trim())).toEqual(['1', '0', '']);
    expect(await rulesInProxy()).not.toContain('REJECT');
  });

  it('rolls back a release whose api never gets healthy: 0 failed, the old version answers', async () => {
    const { r, load } = await deployUnderLoad({ images: pins(images, images.broken), 'wait-timeout': '20' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toMatch(/failed at up: .*service api running\/(starting|unhealthy)/);
    expect(load.failures).toEqual([]);
    expect(await servedVersion()).toBe('v2');
    expect(r.summary).toMatch(
      /Service `api` \| start-first aborted after [\d.]+ s: the new containers were removed/,
    );
    // The rollback found the old api as the previous release wants it: nothing to roll.
    expect(r.summary).not.toMatch(/Service `api` \(rollback\)/);
    expect(await rulesInProxy()).not.toContain('REJECT');
  });

  it("recreates nginx (not listed): its gap is measured and the summary says it is the user's choice", async () => {
    const { r, load } = await deployUnderLoad({ images: pins(images, images.api2) }, ['zd-nginx-change.yml']);
    expect(r.exitCode, r.log).toBe(0);
    console.log(
      `nginx recreated: ${load.failed} of ${load.total} failed, longest gap ${load.longestGapMs} ms`,
    );
    expect(r.summary).toMatch(/Service `nginx` \| recreated .*its gap is your choice/);
    expect(r.summary).toMatch(/Service `api` \| unchanged/);
  });
});
