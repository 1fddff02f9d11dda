// berth/deploy carries the whole project (#17): the example's config files (nginx/conf.d, the api's
// env_file) travel with each release and come back with a rollback; a writable bind mount's data
// lives in <remote-dir>/shared/ across releases, retention and rollback; hostile paths are refused
// before the host is touched.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
import { runAction, type ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab, sshInputs } from '../scripts/lab/lab.js';
import { freePort, httpsGet as httpsGetWith, sshdConnections as connections } from '../scripts/lab/net.js';

const exec = promisify(execFile);
const lab = readLab();
const id = Math.random().toString(36).slice(2, 8);
const project = `berth-proj-${id}`;
const remoteDir = `/home/deploy/berth-proj-${id}`;
const ssh = (command: string) => labSsh(lab, command);
const httpsGet = (port: number, path: string) => httpsGetWith(lab.caFile, port, path);

let workdir: string;
let images: ExampleImages;
let httpsPort: number;
let httpPort: number;

// A small service that writes into ./data (a writable relative bind mount) each time it starts:
// MARK changes with each release, so each release recreates it.
const DATA_COMPOSE = `services:
  writer:
    image: \${WRITER_IMAGE}
    user: '0:0'
    entrypoint: ['/bin/sh', '-c', 'echo "start $$MARK" >>/data/starts; exec sleep infinity']
    environment:
      MARK: \${MARK}
    healthcheck:
      test: ['CMD', 'test', '-s', '/data/starts']
      interval: 10s
      start_period: 30s
      start_interval: 1s
    volumes:
      - ./data:/data
    configs:
      - source: writer_conf
        target: /etc/writer.conf
configs:
  writer_conf:
    file: ./writer.conf
`;

function setConfigVersion(version: string): void {
  const file = join(workdir, 'nginx/conf.d/locations.conf');
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(/return 200 "[^"]*\\n";\n}\n$/, `return 200 "${version}\\n";\n}\n`),
  );
}

function deploy(mark: string, extra: Record<string, string> = {}): Promise<ActionResult> {
  return runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      environment: 'development',
      'compose-files': 'docker-compose.yml\ndocker-compose.data.yml',
      'remote-dir': remoteDir,
      env: [
        `HTTPS_PORT=${httpsPort}`,
        `HTTP_PORT=${httpPort}`,
        'BIND_ADDRESS=127.0.0.1',
        `WRITER_IMAGE=${images.api1}`,
        `MARK=${mark}`,
      ].join('\n'),
      secrets: [
        `db_password=pw-${id}`,
        `tls_cert<<EOF\n${readFileSync(lab.tlsCert, 'utf8').trim()}\nEOF`,
        `tls_key<<EOF\n${readFileSync(lab.tlsKey, 'utf8').trim()}\nEOF`,
      ].join('\n'),
      images: pins(images, images.api1),
      ...registryAndProbeInputs(lab, httpsPort),
      'wait-timeout': '120',
      'keep-releases': '1',
      ...extra,
    },
  });
}

const configVersion = async () => (await httpsGet(httpsPort, '/config-version')).body.trim();
const starts = async () => (await ssh(`cat ${remoteDir}/shared/data/starts`)).stdout.trim().split('\n');
/** service -> container id of the project's running containers */
async function containers(): Promise<Record<string, string>> {
  const { stdout } = await ssh(
    `docker ps --filter label=com.docker.compose.project=${project} --format '{{.Label "com.docker.compose.service"}} {{.ID}}'`,
  );
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
}
const dataInode = async () => (await ssh(`stat -c %i ${remoteDir}/shared/data`)).stdout.trim();

beforeAll(async () => {
  workdir = exampleWorkdir(lab, 'project');
  writeFileSync(join(workdir, 'docker-compose.data.yml'), DATA_COMPOSE);
  writeFileSync(join(workdir, 'writer.conf'), 'one\n');
  httpsPort = await freePort();
  httpPort = await freePort();
  images = await exampleImages(lab, 'berth-proj');
});

afterAll(async () => {
  // The writer wrote as root: its files go with a root container, then the directory.
  await ssh(
    `docker compose -p ${project} down -v --remove-orphans >/dev/null 2>&1; ` +
      `docker run --rm --user 0 --entrypoint rm -v ${remoteDir}:/r ${images?.api1} -rf /r/shared >/dev/null 2>&1; rm -rf ${remoteDir}`,
  ).catch(() => undefined);
});

describe('deploy: the release carries the config files; data lives in shared/', () => {
  let r1: ActionResult;
  let r2: ActionResult;
  let inode: string;
  let before: Record<string, string>;

  it('deploys the example with its config files and a data directory', async () => {
    setConfigVersion('v1');
    r1 = await deploy('1');
    expect(r1.exitCode, r1.log).toBe(0);
    expect(await configVersion()).toBe('v1');
    expect(await starts()).toEqual(['start 1']);
    inode = await dataInode();
    before = await containers();
    expect(r1.log).toMatch(/Project files: \d+: .*config\/api\.env.*nginx\/conf\.d\/locations\.conf/);
    expect(r1.summary).toMatch(/Data directories.*shared\/data/);
    expect(r1.summary).toMatch(/Bundle.*\d+(\.\d)? [kKM]?B, \d+ project files/);
    // The api's env_file reached the host: without DB_HOST it could not reach the database.
    const { stdout } = await ssh(`cat ${remoteDir}/releases/${r1.outputs.release}/config/api.env`);
    expect(stdout).toContain('DB_HOST=db');
  });

  it('serves a changed config file after the next deploy; the data stays', async () => {
    setConfigVersion('v2');
    r2 = await deploy('2');
    expect(r2.exitCode, r2.log).toBe(0);
    expect(await configVersion()).toBe('v2');
    expect(await starts()).toEqual(['start 1', 'start 2']);
    expect(await dataInode()).toBe(inode);
    // Exactly the service whose file changed (and the writer, whose MARK did) was recreated.
    const after = await containers();
    expect(after.nginx).not.toBe(before.nginx);
    expect(after.db).toBe(before.db);
    expect(after.api).toBe(before.api);
    // nginx mounts the config from files/<id>/, stored once; the release keeps its own copy.
    const { stdout } = await ssh(
      `docker inspect -f '{{range .Mounts}}{{if eq .Destination "/etc/nginx/conf.d"}}{{.Source}}{{end}}{{end}}' ${after.nginx}`,
    );
    expect(stdout.trim()).toMatch(new RegExp(`^${remoteDir}/files/[0-9a-f]{32}/conf\\.d$`));
    expect((await ssh(`cat ${stdout.trim()}/locations.conf`)).stdout).toContain('"v2\\n"');
    const copy = await ssh(`cat ${remoteDir}/releases/${r2.outputs.release}/nginx/conf.d/locations.conf`);
    expect(copy.stdout).toContain('"v2\\n"');
    before = after;
  });

  it('recreates only what a release changes: not nginx for a release that changes none of its files', async () => {
    // Only the writer's MARK changes: before content-addressed files, nginx's bind source (a path in
    // each release's directory) recreated it at every release.
    const r = await deploy('2b');
    expect(r.exitCode, r.log).toBe(0);
    const after = await containers();
    expect(after.writer).not.toBe(before.writer);
    expect(after.nginx).toBe(before.nginx);
    expect(after.api).toBe(before.api);
    expect(after.db).toBe(before.db);
    before = after;
  });

  it('recreates exactly the service whose config file (configs:) changed, which then reads the new one', async () => {
    writeFileSync(join(workdir, 'writer.conf'), 'two\n');
    const r = await deploy('2b');
    expect(r.exitCode, r.log).toBe(0);
    const after = await containers();
    expect(after.writer).not.toBe(before.writer);
    expect(after.nginx).toBe(before.nginx);
    expect(after.api).toBe(before.api);
    expect(after.db).toBe(before.db);
    expect((await ssh(`docker exec ${after.writer} cat /etc/writer.conf`)).stdout).toBe('two\n');
    before = after;
  });

  it('keeps the db for a release that changes only the api', async () => {
    // (nginx depends_on api: compose recreates a dependent with its dependency in one `up`, #18.)
    const r = await deploy('2b', { images: pins(images, images.api2) });
    expect(r.exitCode, r.log).toBe(0);
    const after = await containers();
    expect(after.api).not.toBe(before.api);
    expect(after.db).toBe(before.db);
    expect(after.writer).toBe(before.writer);
    expect(await configVersion()).toBe('v2');
  });

  it('rolls back a release with a third config and a broken api: the second config serves again', async () => {
    setConfigVersion('v3');
    const r3 = await deploy('3', { images: pins(images, images.broken), 'wait-timeout': '25' });
    expect(r3.exitCode).toBe(1);
    expect(r3.outputs.status, r3.log).toBe('rolled-back');
    expect(await configVersion()).toBe('v2');
    const lines = await starts();
    expect(lines.slice(0, 2)).toEqual(['start 1', 'start 2']);
    expect(lines).toContain('start 3');
  });

  it('keeps the data through a third release and keep-releases 1', async () => {
    setConfigVersion('v4');
    const r4 = await deploy('4');
    expect(r4.exitCode, r4.log).toBe(0);
    expect(r4.summary).toMatch(
      new RegExp(`Kept release \\| \`${r1.outputs.release} \\(mounted by container ${project}-db-1\\)\``),
    );
    // files/ holds what the kept releases name (the first one is kept: see below), not v3's (failed).
    const { stdout: stored } = await ssh(
      `grep -rl 'return 200' ${remoteDir}/files | xargs cat | grep -o '"v[0-9]'`,
    );
    expect(stored.trim().split('\n').sort()).toEqual(['"v1', '"v2', '"v4']);
    expect(await configVersion()).toBe('v4');
    expect((await starts()).slice(0, 2)).toEqual(['start 1', 'start 2']);
    expect(await starts()).toContain('start 4');
    expect(await dataInode()).toBe(inode);
  });

  it('keeps the releases a running container mounts from: the db restarts after releases that did not change it', async () => {
    // The db, created by the first release and never recreated since, mounts its secret from it.
    const db = (await containers()).db!;
    const { stdout: mounts } = await ssh(
      `docker inspect -f '{{range .Mounts}}{{println .Source}}{{end}}' ${db}`,
    );
    const sources = mounts.trim().split('\n');
    expect(sources.some((s) => s.startsWith(`${remoteDir}/releases/${r1.outputs.release}/`))).toBe(true);
    for (const source of sources.filter((s) => s.startsWith(`${remoteDir}/`)))
      expect((await ssh(`test -e '${source}' && echo ok`)).stdout.trim()).toBe('ok');
    await ssh(`docker restart ${db} >/dev/null`);
    const { stdout: state } = await ssh(`docker inspect -f '{{.State.Status}}' ${db}`);
    expect(state.trim()).toBe('running');
    expect((await ssh(`ls ${remoteDir}/releases`)).stdout).toContain(r1.outputs.release!);
  });
});

describe('deploy: hostile paths are refused before the host is touched', () => {
  const hostileDir = `${remoteDir}-hostile`;
  let server: Server | undefined;

  afterAll(() => server?.close());

  async function refused(volume: string, extra: Record<string, string> = {}): Promise<ActionResult> {
    writeFileSync(
      join(workdir, 'docker-compose.hostile.yml'),
      `services:\n  intruder:\n    image: busybox\n    volumes:\n      - ${volume}\n`,
    );
    const before = connections(lab.sshLog);
    const r = await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...sshInputs(lab),
        project: `${project}-hostile`,
        'compose-files': 'docker-compose.yml\ndocker-compose.hostile.yml',
        'remote-dir': hostileDir,
        secrets: 'db_password=x\ntls_cert=x\ntls_key=x',
        ...extra,
      },
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors, r.log).toHaveLength(1);
    expect(connections(lab.sshLog) - before).toBe(0);
    expect((await ssh(`test -e ${hostileDir} && echo exists || echo absent`)).stdout.trim()).toBe('absent');
    return r;
  }

  it('refuses ../secret', async () => {
    const r = await refused('../secret:/x:ro');
    expect(r.errors[0]).toMatch(
      /docker-compose\.hostile\.yml: service intruder bind-mounts \.\.\/secret .*outside working-directory/,
    );
  });

  it('refuses an absolute bind source not in host-paths; one it lists passes on to the next check', async () => {
    const r = await refused('/etc/passwd:/x:ro');
    expect(r.errors[0]).toMatch(
      /docker-compose\.hostile\.yml: service intruder bind-mounts \/etc\/passwd .*"host-paths"/,
    );
    // Listed, the same source passes the checks (the run then fails for another reason: the lab
    // registry holds no busybox, which only the host finds out).
    const listed = await refused('/etc/passwd:/x:ro', {
      'host-paths': '/etc/passwd',
      'max-bundle-size': '1KB',
    });
    expect(listed.errors[0]).toMatch(
      /Input "max-bundle-size": the release bundle is .* over the limit of 1\.0 KB; largest files: docker-compose\.yml/,
    );
  });

  it('refuses a symlink to /etc, as a bind source and as a "files" entry', async () => {
    symlinkSync('/etc', join(workdir, 'etc-link'));
    const r = await refused('./etc-link:/x:ro');
    expect(r.errors[0]).toMatch(
      /docker-compose\.hostile\.yml: service intruder bind-mounts \.\/etc-link, which is a symlink to \/etc/,
    );
    const viaFiles = await refused('./nginx/conf.d:/x:ro', { files: 'etc-link' });
    expect(viaFiles.errors[0]).toMatch(
      /Input "files": entry etc-link: etc-link is a symlink to \/etc, outside working-directory/,
    );
    rmSync(join(workdir, 'etc-link'));
  });

  it('refuses a fifo and a socket', async () => {
    mkdirSync(join(workdir, 'special'));
    await exec('mkfifo', [join(workdir, 'special/fifo')]);
    const fifo = await refused('./special/fifo:/x:ro');
    expect(fifo.errors[0]).toMatch(
      /docker-compose\.hostile\.yml: service intruder bind-mounts \.\/special\/fifo, which is a socket, fifo or device/,
    );
    server = createServer();
    await new Promise<void>((resolve) => server!.listen(join(workdir, 'special/sock'), resolve));
    const socket = await refused('./special:/x:ro');
    expect(socket.errors[0]).toMatch(
      /docker-compose\.hostile\.yml: service intruder: special\/(fifo|sock) is a socket, fifo or device/,
    );
  });
});
