// berth/deploy against the lab's SSH host (this machine's engine behind sshd), through the harness.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  exampleImages,
  exampleWorkdir,
  pins,
  registryAndProbeInputs,
  type ExampleImages,
} from './example-release.js';
import { runAction, type ActionResult, type RunOptions } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { TARGET_ALIAS } from '../lib/ssh/config.js';
import { freePort, httpsGet as httpsGetWith, sshdConnections as connections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-it-${id}`;
const remoteDir = `/home/deploy/berth-it-${id}`;
const secrets = {
  db_password: `pw-${id}-$(touch /tmp/pwned-${id})'"`,
  tls_cert: readFileSync(lab.tlsCert, 'utf8'),
  tls_key: readFileSync(lab.tlsKey, 'utf8'),
};
const marker = `/tmp/pwned-${id}`;

const ssh = (command: string) => labSsh(lab, command);
const httpsGet = (port: number, path: string) => httpsGetWith(lab.caFile, port, path);

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let httpPort: number;

function deploy(
  extra: Record<string, string | undefined> = {},
  opts: Partial<RunOptions> = {},
): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    ...opts,
    inputs: {
      ...sshInputs(lab),
      project,
      environment: 'development',
      'remote-dir': remoteDir,
      env: [
        `HTTPS_PORT=${httpsPort}`,
        `HTTP_PORT=${httpPort}`,
        'BIND_ADDRESS=127.0.0.1',
        `HOSTILE=x; touch ${marker} $(touch ${marker}) \`touch ${marker}\` "quoted" 'single' \\`,
      ].join('\n'),
      secrets: Object.entries(secrets)
        .map(([k, v]) => `${k}<<BERTH_EOF\n${v.replace(/\n$/, '')}\nBERTH_EOF`)
        .join('\n'),
      images: pins(images, images.api1),
      ...registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '120',
      ...extra,
    },
  });
}

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'deploy');
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await exampleImages(lab, 'berth-it');
});

afterAll(async () => {
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; rm -rf ${remoteDir}`,
  ).catch(() => undefined);
});

describe('deploy', () => {
  let r1: ActionResult;
  let r2: ActionResult;

  it('deploys release 1 in one SSH connection and serves it over HTTPS', async () => {
    const before = connections(lab.sshLog);
    r1 = await deploy();
    expect(r1.exitCode, r1.log).toBe(0);
    expect(connections(lab.sshLog) - before).toBe(1);
    expect(r1.outputs.status).toBe('deployed');
    expect(r1.outputs['previous-release']).toBe('');
    const { stdout } = await ssh(`readlink ${remoteDir}/current`);
    expect(stdout.trim()).toBe(`releases/${r1.outputs.release}`);
    const res = await httpsGet(httpsPort, '/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ok', version: 'v1' });
  });

  it('deploys release 2 with a changed api: current switches, release 1 is kept', async () => {
    r2 = await deploy({ images: pins(images, images.api2) });
    expect(r2.exitCode, r2.log).toBe(0);
    expect(r2.outputs['previous-release']).toBe(r1.outputs.release);
    const { stdout } = await ssh(`readlink ${remoteDir}/current; ls ${remoteDir}/releases`);
    expect(stdout.split('\n')[0]).toBe(`releases/${r2.outputs.release}`);
    expect(stdout).toContain(r1.outputs.release!);
    expect(JSON.parse((await httpsGet(httpsPort, '/healthz')).body).version).toBe('v2');
    expect(r2.summary).toMatch(/Probe .*healthz 200 \d+ms/);
    expect(r2.summary).toMatch(
      /\| Certificate \| `https:\/\/localhost:\d+\/healthz` expires \d{4}-\d\d-\d\d \(\d+ days\) \|/,
    );
  });

  it('rolls back release 3 whose api never gets healthy, and fails naming the service', async () => {
    const r3 = await deploy({
      images: pins(images, images.broken),
      'wait-timeout': '25',
    });
    expect(r3.exitCode).toBe(1);
    expect(r3.outputs.status, r3.log).toBe('rolled-back');
    expect(r3.errors[0]).toMatch(/failed at up: .*service api running\/(starting|unhealthy).*rolled back to/);
    expect(r3.summary).toContain('rolled-back');
    // The failing container's log reached the log, and none of the workflow commands in it was obeyed.
    expect(r3.log).toMatch(/^::error::pwned$/m);
    expect(r3.errors).toHaveLength(1);
    expect([...r3.errors, ...r3.warnings].filter((x) => x.includes('pwned'))).toEqual([]);
    expect(r3.masks).not.toContain('pwned');
    const { stdout } = await ssh(`readlink ${remoteDir}/current; ls ${remoteDir}/releases`);
    expect(stdout.split('\n')[0]).toBe(`releases/${r2.outputs.release}`);
    expect(stdout).not.toContain(r3.outputs.release!);
    expect(JSON.parse((await httpsGet(httpsPort, '/healthz')).body).version).toBe('v2');
  });

  it('fails on a probe over its latency budget and rolls back', async () => {
    const r = await deploy({ 'health-urls': `https://localhost:${httpsPort}/healthz 200 1` });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toMatch(
      /failed at probe: probe https:\/\/localhost:\d+\/healthz took \d+ ms, budget 1 ms/,
    );
  });

  it('fails a release whose served certificate has fewer days left than cert-min-days, and rolls back', async () => {
    // The lab's server certificate is valid for 825 days.
    const r = await deploy({ 'cert-min-days': '3650' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toMatch(
      /failed at probe: probe https:\/\/localhost:\d+\/healthz was served a certificate that expires in \d+ days \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\), fewer than cert-min-days 3650/,
    );
    expect(JSON.parse((await httpsGet(httpsPort, '/healthz')).body).version).toBe('v2');
  });

  it('serializes two deploys at once through the lock', async () => {
    const [a, b] = await Promise.all([deploy(), deploy()]);
    expect(a.exitCode, a.log).toBe(0);
    expect(b.exitCode, b.log).toBe(0);
    const { stdout } = await ssh(`ls -a ${remoteDir}/releases`);
    expect(stdout).not.toMatch(/\.incoming-/);
  });

  it('times out on a held lock and names the holder, leaving nothing half-written', async () => {
    const holder = ssh(
      `cd ${remoteDir} && exec 9>>.lock && flock 9 && echo '{"release":"held-by-test","actor":"someone-else"}' >.lock && sleep 12`,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const r = await deploy({ 'lock-timeout': '3' });
    await holder;
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(
      /^Input "lock-timeout": .* stayed locked for 3 s by another deploy: .*held-by-test.*someone-else/,
    );
    const { stdout } = await ssh(`ls -a ${remoteDir}/releases`);
    expect(stdout).not.toMatch(/\.incoming-/);
    expect(stdout).not.toContain(r.outputs.release!);
  });

  it('keeps secrets out of logs and the audit log, and writes one audit line per attempt', async () => {
    const { stdout: audit } = await ssh(`cat ${remoteDir}/deploy.log`);
    const lines = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.status)).toEqual([
      'deployed',
      'deployed',
      'rolled-back',
      'rolled-back',
      'rolled-back',
      'deployed',
      'deployed',
      'failed',
    ]);
    expect(lines[0]).toMatchObject({ project, actor: 'lab-tester', release: r1.outputs.release });
    for (const value of [
      secrets.db_password,
      lab.registryPassword,
      'BEGIN PRIVATE KEY',
      'BEGIN OPENSSH PRIVATE KEY',
    ]) {
      expect(audit).not.toContain(value);
      expect(r1.log).not.toContain(value);
      expect(r2.log).not.toContain(value);
      expect(r1.summary).not.toContain(value);
    }
    // The registry password file is gone from every release.
    const { stdout: left } = await ssh(`find ${remoteDir}/releases -name registry-password | wc -l`);
    expect(left.trim()).toBe('0');
  });

  it('never runs hostile values: the marker file never appears, values arrive intact', async () => {
    const { stdout } = await ssh(
      `test -e ${marker} && echo present || echo absent; cat ${remoteDir}/current/secrets/db_password`,
    );
    expect(stdout.split('\n')[0]).toBe('absent');
    expect(stdout.slice('absent\n'.length)).toBe(secrets.db_password);
    const { stdout: cfg } = await ssh(
      `cd ${remoteDir}/current && docker compose --project-directory . -f docker-compose.yml config --format json`,
    );
    expect(cfg).toBeTruthy();
    await expect(exec('test', ['-e', marker])).rejects.toThrow();
  });

  it('masks every line of a multi-line secret and of the key, and every env value', () => {
    const middle = (text: string) => text.trim().split('\n').slice(1, -1);
    const keyLines = middle(readFileSync(lab.sshKey, 'utf8'));
    const certLines = middle(secrets.tls_key);
    expect(keyLines.length).toBeGreaterThan(1);
    for (const line of [...keyLines, ...certLines]) {
      expect(r1.masks).toContain(line.trim());
      expect(r1.log).not.toContain(line.trim());
    }
    expect(r1.masks).toContain(`${httpsPort}`);
    expect(r1.masks).toContain('127.0.0.1');
    expect(r1.masks.some((m) => m.startsWith('x; touch'))).toBe(true);
  });

  it('probes a URL with a token in its query and a header without putting them on a command line', async () => {
    const token = `tok-${id}-query`;
    const agent = `berth-probe-${id}-header`;
    // `|` used to split the host's probe fields; `[` is a curl glob without --globoff.
    const url = `https://localhost:${httpsPort}/healthz?token=${token}&g=[&p=a|b`;
    const r = await deploy({
      'health-urls': `${url} 200 2000`,
      'health-headers': `User-Agent: ${agent}`,
    });
    expect(r.exitCode, r.log).toBe(0);
    expect(r.outputs.status).toBe('deployed');
    expect(r.masks).toEqual(expect.arrayContaining([token, agent]));
    for (const text of [r.log, r.summary]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(agent);
    }
    expect(r.summary).toMatch(/Probe .*healthz\?token=\*\*\*&g=\*\*\*&p=\*\*\* 200 \d+ms/);
    // The request arrived as written (no globbing), with the header, once per try.
    const { stdout: access } = await ssh(
      `docker compose -p ${project} logs --no-log-prefix nginx 2>&1 | grep ${id}`,
    );
    expect(access).toContain(`/healthz?token=${token}&g=[&p=a|b`);
    expect(access).toContain(agent);
    const { stdout: left } = await ssh(
      `cat ${remoteDir}/deploy.log; find ${remoteDir}/releases -path '*/.berth/probes*' | wc -l`,
    );
    expect(left).not.toContain(token);
    expect(left.trim().split('\n').at(-1)).toBe('0');
  });
});

/** The staged bundles and SSH session directories a run left in its RUNNER_TEMP. */
const leftInTemp = (r: ActionResult, prefix: string) =>
  readdirSync(join(r.runnerDir, 'temp')).filter((f) => f.startsWith(prefix));

describe('deploy cleanup on the runner', () => {
  it('leaves no staged bundle when the host is unreachable', async () => {
    // A closed port on the lab host, with its key pinned there: the connection itself fails.
    const port = await freePort();
    const pinned = readFileSync(lab.knownHosts, 'utf8')
      .split('\n')
      .find((l) => l.includes(`]:${lab.sshPort} `))!;
    const r = await deploy(
      {
        port: String(port),
        'known-hosts': pinned.replace(`]:${lab.sshPort} `, `]:${port} `),
        'connect-timeout': '3',
      },
      { post: false },
    );
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "(host|port|connect-timeout)": /);
    expect(r.state['staging-dir']).toMatch(/berth-release-/);
    expect(leftInTemp(r, 'berth-release-')).toEqual([]);
  });

  it('the post step removes the staged bundle of a main step that was killed', async () => {
    const dir = `${remoteDir}-killed`;
    await ssh(`mkdir -p ${dir}`);
    // The lock is held past the deploy's lock-timeout: the killed step's host script gives up on its own.
    const holder = ssh(`cd ${dir} && exec 9>>.lock && flock 9 && sleep 25`);
    await new Promise((r) => setTimeout(r, 1500));
    const r = await deploy({ 'remote-dir': dir, 'lock-timeout': '15' }, { timeoutMs: 8000 });
    expect(r.log).toContain('[harness: killed by SIGKILL');
    expect(r.state['staging-dir']).toMatch(/berth-release-/);
    expect(r.post?.log).toContain('Removed the staged release bundle');
    expect(existsSync(r.state['staging-dir']!)).toBe(false);
    expect(leftInTemp(r, 'berth-release-')).toEqual([]);
    // The killed step's SSH master outlives it (a runner ends it with the job): end it here.
    for (const session of leftInTemp(r, 'berth-ssh-')) {
      const config = join(r.runnerDir, 'temp', session, 'ssh_config');
      await exec('ssh', ['-F', config, '-O', 'exit', '--', TARGET_ALIAS]).catch(() => undefined);
    }
    await holder;
    await ssh(`rm -rf ${dir}`);
  }, 60_000);
});

describe('deploy input errors', () => {
  it.each([
    ['an unknown project name', { project: 'Bad Name;' }, /^Input "project": /],
    [
      'a missing compose file',
      { 'compose-files': 'docker-compose.yml\nnope.yml' },
      /^Input "compose-files": .*nope\.yml does not exist/,
    ],
    [
      'an image not pinned by digest',
      { images: 'api=localhost:5000/x/api:latest' },
      /^Input "images": line 1: .* not pinned by digest/,
    ],
    ['a relative remote-dir', { 'remote-dir': 'opt/x' }, /^Input "remote-dir": /],
    ['a bad probe', { 'health-urls': 'ftp://x/ 200' }, /^Input "health-urls": line 1: only http and https/],
    [
      'a probe URL with credentials',
      { 'health-urls': 'https://user:pass@localhost/healthz' },
      /^Input "health-urls": line 1: credentials in the URL .* "health-headers"/,
    ],
    ['a registry that reads as an option', { registry: '-Hx' }, /^Input "registry": /],
    ['a malformed probe header', { 'health-headers': 'not a header' }, /^Input "health-headers": line 1 /],
    [
      'cert-min-days of days gone by',
      { 'cert-min-days': '-1' },
      /^Input "cert-min-days": "-1" is not a whole number from 0 to 3650/,
    ],
  ])('%s fails before connecting, naming the input', async (_, extra, message) => {
    const before = connections(lab.sshLog);
    const r = await deploy(extra);
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(message);
    expect(connections(lab.sshLog)).toBe(before);
  });

  it('a host key that does not match fails before anything runs on the host', async () => {
    const jumpLine = readFileSync(lab.knownHosts, 'utf8')
      .split('\n')
      .find((l) => l.includes(`]:${lab.jumpPort} `))!;
    const r = await deploy({
      'known-hosts': jumpLine.replace(`]:${lab.jumpPort} `, `]:${lab.sshPort} `),
      'remote-dir': `${remoteDir}-mitm`,
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "known-hosts": /);
    await expect(ssh(`test -e ${remoteDir}-mitm`)).rejects.toThrow();
  });

  it('a key the host does not accept fails naming ssh-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-key-'));
    await exec('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const r = await deploy({ 'ssh-key': readFileSync(join(dir, 'k'), 'utf8') });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^Input "ssh-key": /);
  });

  it('deploys through the jump host with one connection to each sshd', async () => {
    const host = connections(lab.sshLog);
    const jump = connections(lab.jumpLog);
    const r = await deploy({ 'jump-host': `${lab.jumpUser}@${lab.sshHost}:${lab.jumpPort}` });
    expect(r.exitCode, r.log).toBe(0);
    expect(connections(lab.sshLog) - host).toBe(1);
    expect(connections(lab.jumpLog) - jump).toBe(1);
  });
});
