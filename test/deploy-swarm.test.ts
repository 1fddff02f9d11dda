// berth/deploy with mode: swarm against the lab host's engine as a single-node swarm: the same
// example app and bundle as the compose tests, deployed with docker stack deploy.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exampleImages,
  exampleSecrets,
  exampleVersion,
  exampleWorkdir,
  pins,
  registryAndProbeInputs,
  type ExampleImages,
} from './example-release.js';
import { startAlertmanager } from '../scripts/lab/alertmanager.js';
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { startLoad, type LoadResult } from '../scripts/lab/load.js';
import { freePort, httpsGet, sshdConnections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-sw-${id}`;
const remoteDir = `/home/deploy/berth-sw-${id}`;
const marker = `/tmp/pwned-sw-${id}`;
const ssh = (command: string) => labSsh(lab, command);

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let initialisedSwarm = false;

// The test's own override. A secret of the api only this test has, changed between releases:
// swarm secrets are immutable, so each content needs its own versioned name. And the lab's kernel
// has no IPVS, which swarm's virtual IPs and ingress routing mesh need: services are reached by
// DNS round robin and nginx publishes its ports on the host, as swarm allows on any kernel. With
// DNS round robin nginx reaches api tasks by address, so it must re-resolve `api` within the 2 s
// swarm leaves between taking a task out of DNS and stopping it (with a virtual IP, a plain
// `proxy_pass http://api:8080;` needs nothing): its locations, a swarm config, say so.
const TEST_OVERRIDE = 'docker-compose.swarm-test.yml';
const TEST_OVERRIDE_TEXT = `services:
  api:
    secrets: [app_token]
    deploy: { endpoint_mode: dnsrr }
  db:
    deploy: { endpoint_mode: dnsrr }
  nginx:
    deploy: { endpoint_mode: dnsrr }
    ports: !override
      - { target: 8443, published: "\${HTTPS_PORT}", mode: host }
      - { target: 8080, published: "\${HTTP_PORT}", mode: host }
    volumes: !reset []
    configs:
      - { source: locations, target: /etc/nginx/conf.d/locations.conf }
secrets:
  app_token:
    file: ./secrets/app_token
configs:
  locations:
    file: ./swarm-test-locations.conf
`;
const TEST_LOCATIONS = 'swarm-test-locations.conf';
const TEST_LOCATIONS_TEXT = `location = /nginx-health {
    access_log off;
    default_type text/plain;
    return 200 "ok\\n";
}

location / {
    resolver 127.0.0.11 valid=1s ipv6=off;
    set $api http://api:8080;
    proxy_pass $api;
    proxy_set_header Host $host;
    proxy_connect_timeout 5s;
}
`;
let httpPort: number;

function deploy(extra: Record<string, string> = {}, token = 'token-1'): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      mode: 'swarm',
      project,
      'compose-files': `docker-compose.yml\n${TEST_OVERRIDE}`,
      'remote-dir': remoteDir,
      env: [`HTTPS_PORT=${httpsPort}`, `HTTP_PORT=${httpPort}`, `HOSTILE=$(touch ${marker})`].join('\n'),
      secrets: exampleSecrets(lab, `pw-${id}-$(touch ${marker})`, [`app_token=${token}`]),
      images: pins(images, images.api1),
      ...registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '150',
      ...extra,
    },
  });
}

const projectSecrets = async (): Promise<string[]> =>
  (
    await ssh(
      `docker secret ls --filter label=com.docker.stack.namespace=${project} --format '{{.Name}}' | sort`,
    )
  ).stdout
    .split('\n')
    .filter(Boolean);

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'swarm');
  writeFileSync(join(workdir, TEST_OVERRIDE), TEST_OVERRIDE_TEXT);
  writeFileSync(join(workdir, TEST_LOCATIONS), TEST_LOCATIONS_TEXT);
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await exampleImages(lab, 'berth-sw');
});

afterAll(async () => {
  await exec('docker', ['stack', 'rm', project]).catch(() => undefined);
  await ssh(`rm -rf ${remoteDir}`).catch(() => undefined);
  if (initialisedSwarm) {
    // Services and networks go first; then this engine leaves the swarm it did not have before.
    for (let i = 0; i < 30; i++) {
      const { stdout } = await exec('docker', [
        'network',
        'ls',
        '-q',
        '--filter',
        `label=com.docker.stack.namespace=${project}`,
      ]);
      if (!stdout.trim()) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await exec('docker', ['swarm', 'leave', '--force']).catch(() => undefined);
  }
});

// First, while the lab engine is not in a swarm (as in CI; skipped where it already is one).
describe('deploy mode: swarm on a host that is not a swarm manager', () => {
  it('fails in preflight naming the swarm state, before anything is uploaded', async (ctx) => {
    const { stdout } = await exec('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
    if (stdout.trim() !== 'inactive') ctx.skip('the lab engine is already in a swarm');
    const r = await deploy();
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.errors[0]).toMatch(
      /^Input "mode": swarm needs a swarm manager; this host's swarm state is "inactive false" \(docker swarm init\)$/,
    );
    const { stdout: left } = await ssh(`test -e ${remoteDir} || echo no-remote-dir`);
    expect(left.trim()).toBe('no-remote-dir');
  });
});

describe('deploy mode: swarm', () => {
  let r1: ActionResult;
  let r2: ActionResult;

  beforeAll(async () => {
    const { stdout } = await exec('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}']);
    if (stdout.trim() !== 'active') {
      await exec('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
      initialisedSwarm = true;
    }
  });

  it('deploys release 1 as a stack in one SSH connection and serves it over HTTPS', async () => {
    const before = sshdConnections(lab.sshLog);
    r1 = await deploy();
    expect(r1.exitCode, r1.log).toBe(0);
    expect(sshdConnections(lab.sshLog) - before).toBe(1);
    expect(r1.outputs.status).toBe('deployed');
    const { stdout } = await ssh(
      `readlink ${remoteDir}/current; docker stack services ${project} --format '{{.Name}} {{.Replicas}}' | sort`,
    );
    expect(stdout.split('\n')).toEqual([
      `releases/${r1.outputs.release}`,
      `${project}_api 1/1`,
      `${project}_db 1/1`,
      `${project}_nginx 1/1`,
      '',
    ]);
    const res = await httpsGet(lab.caFile, httpsPort, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok', version: 'v1' });
    // What swarm could not do is said, per service, not dropped in silence.
    expect(r1.warnings.join('\n')).toMatch(/service db: swarm cannot set tmpfs uid=999,gid=999,mode=0775/);
    expect(r1.warnings.join('\n')).toMatch(/service api: swarm services take no security_opt/);
    // Images run by digest, pinned for a rollback.
    const { stdout: pinned } = await ssh(`cat ${remoteDir}/current/.berth/pins.yml`);
    expect(pinned).toContain(`image: "${images.api1.split('@')[0]}`);
    expect(pinned).toMatch(/@sha256:[0-9a-f]{64}"/);
  });

  it('deploys release 2: api updated, a changed secret gets a new version, the old one is kept', async () => {
    const secretsBefore = await projectSecrets();
    r2 = await deploy({ images: pins(images, images.api2) }, 'token-2');
    expect(r2.exitCode, r2.log).toBe(0);
    expect(r2.outputs['previous-release']).toBe(r1.outputs.release);
    expect(JSON.parse((await httpsGet(lab.caFile, httpsPort, '/healthz')).body).version).toBe('v2');
    const secretsAfter = await projectSecrets();
    const tokens = secretsAfter.filter((s) => s.startsWith(`${project}_app_token_`));
    expect(tokens).toHaveLength(2); // this release's and the previous release's
    expect(secretsAfter.filter((s) => s.includes('_db_password_'))).toEqual(
      secretsBefore.filter((s) => s.includes('_db_password_')),
    );
    // The running api has the new token.
    const { stdout } = await ssh(
      `docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=${project}_api | head -n 1) cat /run/secrets/app_token`,
    );
    expect(stdout).toBe('token-2');
  });

  it('rolls back a release whose api never gets healthy to release 2, naming the service', async () => {
    const r3 = await deploy({ images: pins(images, images.broken), 'wait-timeout': '40' }, 'token-3');
    expect(r3.exitCode).toBe(1);
    expect(r3.outputs.status, r3.log).toBe('rolled-back');
    expect(r3.errors[0]).toMatch(/failed at up: .*service api .*rolled back to/);
    const { stdout } = await ssh(`readlink ${remoteDir}/current; ls ${remoteDir}/releases`);
    expect(stdout.split('\n')[0]).toBe(`releases/${r2.outputs.release}`);
    expect(stdout).not.toContain(r3.outputs.release!);
    expect(JSON.parse((await httpsGet(lab.caFile, httpsPort, '/healthz')).body).version).toBe('v2');
    const { stdout: api } = await ssh(
      `docker service inspect ${project}_api -f '{{.Spec.TaskTemplate.ContainerSpec.Image}}'`,
    );
    expect(api.trim()).toContain(images.api2.split('@')[1]!);
  });

  it('the alert gate rolls the stack back to release 2 when a matching alert fires during the bake', async () => {
    const am = await startAlertmanager();
    try {
      // The same token as release 2: no new secret version.
      const deploying = deploy({ images: pins(images, images.api1), 'alertmanager-url': am.url }, 'token-2');
      for (let i = 0; i < 900 && (await exampleVersion(lab, httpsPort)) !== 'v1'; i++)
        await new Promise((r) => setTimeout(r, 200));
      await am.fire({ alertname: 'ApiDown', severity: 'critical', project });
      const r = await deploying;
      expect(r.outputs.status, r.log).toBe('rolled-back');
      expect(r.errors[0]).toMatch(
        new RegExp(
          `failed at bake: .*firing: ApiDown \\{alertname="ApiDown", project="${project}", severity="critical"\\}.*; rolled back to ${r2.outputs.release}`,
        ),
      );
    } finally {
      await am.stop();
    }
    expect(await exampleVersion(lab, httpsPort)).toBe('v2');
    const { stdout } = await ssh(`readlink ${remoteDir}/current`);
    expect(stdout.trim()).toBe(`releases/${r2.outputs.release}`);
  });

  it('mode rollback brings release 1 back as a stack (its digests, its secret versions), then release 2', async () => {
    const back = await deploy({ mode: 'rollback', release: r1.outputs.release! });
    expect(back.exitCode, back.log).toBe(0);
    expect(back.outputs).toMatchObject({ status: 'deployed', 'previous-release': r2.outputs.release });
    expect(JSON.parse((await httpsGet(lab.caFile, httpsPort, '/healthz')).body).version).toBe('v1');
    const { stdout } = await ssh(
      `docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=${project}_api --filter status=running | head -n 1) cat /run/secrets/app_token; echo; tail -n 1 ${remoteDir}/deploy.log`,
    );
    expect(stdout.split('\n')[0]).toBe('token-1');
    expect(JSON.parse(stdout.split('\n')[1]!)).toMatchObject({ action: 'rollback', orchestrator: 'swarm' });
    const again = await deploy({ mode: 'rollback', release: r2.outputs.release! });
    expect(again.exitCode, again.log).toBe(0);
    expect(JSON.parse((await httpsGet(lab.caFile, httpsPort, '/healthz')).body).version).toBe('v2');
  });

  it('removes secret versions no kept release uses', async () => {
    const r = await deploy({ images: pins(images, images.api2), 'keep-releases': '1' }, 'token-4');
    expect(r.exitCode, r.log).toBe(0);
    const tokens = (await projectSecrets()).filter((s) => s.startsWith(`${project}_app_token_`));
    // token-4 (current) and token-2 (previous); token-1's version is gone with release 1.
    expect(tokens).toHaveLength(2);
    const { stdout } = await ssh(`ls ${remoteDir}/releases`);
    expect(stdout).not.toContain(r1.outputs.release!);
    expect(
      await exec('test', ['-e', marker]).then(
        () => 'present',
        () => 'absent',
      ),
    ).toBe('absent');
  });

  // Under load: a client sends sequential HTTPS requests through nginx to the api the whole time.
  async function deployUnderLoad(api: string): Promise<{ r: ActionResult; load: LoadResult }> {
    const load = startLoad({ caFile: lab.caFile, port: httpsPort, path: '/healthz', maxSeconds: 240 });
    // The same token as the release before: only the api's image changes, a routine release.
    const r = await deploy({ images: pins(images, api), 'zero-downtime': 'api' }, 'token-4').catch(
      async (e: unknown) => {
        await load.stop();
        throw e;
      },
    );
    return { r, load: await load.stop() };
  }
  const versionOf = (body: string) => (JSON.parse(body) as { version: string }).version;

  it('zero-downtime: api is updated start-first by swarm, and a routine release under load fails 0 requests', async () => {
    // v2 -> v1, then the release the issue names: v1 -> v2.
    for (const [api, version] of [
      [images.api1, 'v1'],
      [images.api2, 'v2'],
    ] as const) {
      const { r, load } = await deployUnderLoad(api);
      expect(r.exitCode, r.log).toBe(0);
      expect(load.failed, JSON.stringify(load.failures)).toBe(0);
      expect(load.total).toBeGreaterThan(100);
      // The new version answered during the load, and is what answers now.
      expect(load.bodies.map(versionOf)).toContain(version);
      expect(versionOf((await httpsGet(lab.caFile, httpsPort, '/healthz')).body)).toBe(version);
      // The lab's DNS round robin is what the warning is about; the test's nginx re-resolves.
      expect(r.warnings.join('\n')).toMatch(/service api: zero-downtime: endpoint_mode is dnsrr/);
      // A row per service: the api updated start-first by swarm, the rest left as they were.
      expect(r.summary).toMatch(
        /Service `api` \| start-first \(swarm\): new tasks healthy after [\d.]+ s, then the old ones left/,
      );
      expect(r.summary).toMatch(/Service `nginx` \| unchanged/);
      expect(r.summary).toMatch(/Service `db` \| unchanged/);
    }
    const { stdout } = await ssh(
      `docker service inspect ${project}_api -f '{{json .Spec.UpdateConfig}} {{json .Spec.RollbackConfig}}'`,
    );
    expect(stdout).toMatch(/"FailureAction":"rollback"/);
    expect(stdout).toMatch(/"Monitor":10000000000/);
    expect(stdout.match(/"Order":"start-first"/g)).toHaveLength(2);
  });

  it('refuses a port bound to one address before touching the host, naming compose-files', async () => {
    const before = sshdConnections(lab.sshLog);
    const r = await deploy({ environment: 'development' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /^Input "compose-files": mode swarm: service "nginx" publishes \d+ on 127\.0\.0\.1; swarm publishes on every interface/,
    );
    expect(sshdConnections(lab.sshLog)).toBe(before);
  });
});
