// End-to-end check of the example app (example/): builds its three images from the lab's Debian
// base image, runs the stack with the development override under a throwaway project name, and
// talks to it over real TLS the way a user's browser would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLab, repoRoot, type Lab } from '../scripts/lab/lab.js';

const exampleDir = join(repoRoot, 'example');
const services = ['api', 'nginx', 'db'] as const;
const images = {
  api: 'berth-example/api:dev',
  nginx: 'berth-example/nginx:dev',
  db: 'berth-example/db:dev',
};

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; rejects with its output on a non-zero exit. */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 600_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        if (err) {
          const tail = (s: string) => s.split('\n').slice(-60).join('\n');
          reject(
            new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${tail(stdout)}\n${tail(stderr)}`),
          );
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** A TCP port that was free a moment ago (bind to 0, read it, release it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  tlsProtocol?: string | null;
  authorized?: boolean;
}

/**
 * One request to localhost over IPv4 (the development override publishes on 127.0.0.1 only).
 * For https, `ca` is the only trust anchor: no rejectUnauthorized escape hatch anywhere.
 */
function request(
  scheme: 'http' | 'https',
  port: number,
  method: string,
  path: string,
  opts: { body?: Buffer | string; headers?: http.OutgoingHttpHeaders; ca?: string | readonly string[] } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = {
      host: 'localhost',
      family: 4,
      port,
      method,
      path,
      headers: opts.headers,
      agent: false,
    } as const;
    const onResponse = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const sock = res.socket as TLSSocket | null;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          tlsProtocol: scheme === 'https' ? sock?.getProtocol?.() : undefined,
          authorized: scheme === 'https' ? sock?.authorized : undefined,
        });
      });
    };
    const req =
      scheme === 'https'
        ? https.request(
            { ...common, ca: opts.ca as string | string[] | undefined, servername: 'localhost' },
            onResponse,
          )
        : http.request(common, onResponse);
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

const json = (r: Reply): unknown => JSON.parse(r.body.toString('utf8'));

/** Compose prints memory as a byte count (number or string) and cpus as a number or string. */
const positive = (v: unknown): boolean => Number(v) > 0;

const isRootUser = (user: string): boolean => {
  const name = user.split(':')[0] ?? '';
  return name === '' || name === '0' || name === 'root';
};

describe('example app', () => {
  let lab: Lab;
  let workDir: string | undefined;
  let project: string;
  let composeEnv: NodeJS.ProcessEnv;
  let ca: string;
  let httpPort: number;
  let httpsPort: number;
  let dbPassword: string;
  let composeUp = false;

  const compose = (args: string[], timeoutMs?: number) =>
    run(
      'docker',
      ['compose', '-p', project, '-f', 'docker-compose.yml', '-f', 'docker-compose.development.yml', ...args],
      { cwd: workDir, env: composeEnv, timeoutMs },
    );

  beforeAll(async () => {
    lab = readLab();
    ca = readFileSync(lab.caFile, 'utf8');

    // The three builds are mostly apt downloads: run them side by side.
    const t0 = Date.now();
    await Promise.all(
      services.map((svc) =>
        run(
          'docker',
          [
            'buildx',
            'build',
            '--load',
            '--tag',
            images[svc],
            '--build-arg',
            `BASE_IMAGE=${lab.baseImage}`,
            join(exampleDir, svc),
          ],
          { timeoutMs: 1_500_000 },
        ),
      ),
    );
    console.log(`example: built ${services.length} images in ${((Date.now() - t0) / 1000).toFixed(1)}s`);

    // A private copy of example/, as Berth's deploy would lay out a release directory.
    workDir = mkdtempSync(join(tmpdir(), 'berth-example-')); // mode 0700: only root gets in
    cpSync(exampleDir, workDir, {
      recursive: true,
      filter: (src) => !src.startsWith(join(exampleDir, 'secrets')),
    });
    const secrets = join(workDir, 'secrets');
    mkdirSync(secrets, { mode: 0o700 });
    dbPassword = randomBytes(24).toString('base64url');
    writeFileSync(join(secrets, 'db_password'), dbPassword);
    writeFileSync(join(secrets, 'tls_cert'), readFileSync(lab.tlsCert));
    writeFileSync(join(secrets, 'tls_key'), readFileSync(lab.tlsKey));
    // Compose (without swarm) bind-mounts file secrets as they are: owner and mode come from the
    // host, and its secret uid/gid/mode settings are ignored. The containers run as different
    // non-root users (db 999, api 10001, nginx 10002), and db_password is read by two of them, so
    // the files must be world-readable; what keeps them private on the host is the 0700
    // directories above them (a container sees only the single file mounted into it).
    for (const name of ['db_password', 'tls_cert', 'tls_key']) chmodSync(join(secrets, name), 0o644);

    [httpPort, httpsPort] = [await freePort(), await freePort()];
    project = `berth-example-${process.pid}-${randomBytes(3).toString('hex')}`;
    composeEnv = {
      ...process.env,
      BASE_IMAGE: lab.baseImage,
      API_IMAGE: images.api,
      NGINX_IMAGE: images.nginx,
      DB_IMAGE: images.db,
      HTTP_PORT: String(httpPort),
      HTTPS_PORT: String(httpsPort),
    };

    const t1 = Date.now();
    composeUp = true; // from here on, afterAll must tear down whatever got created
    try {
      await compose(
        ['up', '-d', '--wait', '--wait-timeout', '180', '--no-build', '--pull', 'never'],
        300_000,
      );
    } catch (err) {
      const ps = await compose(['ps', '-a']).catch((e: Error) => ({ stdout: e.message }));
      const logs = await compose(['logs', '--no-color', '--tail', '80']).catch((e: Error) => ({
        stdout: e.message,
      }));
      throw new Error(`${(err as Error).message}\n--- ps ---\n${ps.stdout}\n--- logs ---\n${logs.stdout}`);
    }
    console.log(`example: stack healthy in ${((Date.now() - t1) / 1000).toFixed(1)}s`);
  }, 1_800_000);

  afterAll(async () => {
    try {
      if (composeUp) await compose(['down', '-v', '--remove-orphans', '--timeout', '10'], 180_000);
    } finally {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    }
  }, 240_000);

  it('reports healthy with the database over verified TLS', async () => {
    const r = await request('https', httpsPort, 'GET', '/healthz', { ca });
    expect(r.status).toBe(200);
    expect(r.authorized).toBe(true);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(r.tlsProtocol);
    expect(json(r)).toEqual({ status: 'ok', db: 'ok', version: 'dev' });

    const v = await request('https', httpsPort, 'GET', '/version', { ca });
    expect(v.status).toBe(200);
    // No migration has run against this database (deploys run `api migrate` as a pre-deploy hook).
    expect(json(v)).toEqual({ version: 'dev', schema: '' });
  });

  it('rejects the certificate for a client that does not trust the test CA', async () => {
    // Public roots only, explicitly, so NODE_EXTRA_CA_CERTS cannot make this pass by accident.
    const err = await request('https', httpsPort, 'GET', '/healthz', { ca: rootCertificates }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err, 'a client without the lab CA must not connect').toBeDefined();
    expect(err?.code).toMatch(
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)$/,
    );
  });

  it('redirects plain HTTP to HTTPS, keeping the path', async () => {
    const r = await request('http', httpPort, 'GET', '/healthz?probe=1');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe('https://localhost/healthz?probe=1');

    const health = await request('http', httpPort, 'GET', '/nginx-health');
    expect(health.status).toBe(200);
  });

  it('stores items in PostgreSQL', async () => {
    const name = `item-${randomBytes(4).toString('hex')}`;
    const created = await request('https', httpsPort, 'POST', '/items', {
      ca,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(created.status).toBe(201);
    expect(json(created)).toMatchObject({ name, id: expect.any(Number) });

    const list = await request('https', httpsPort, 'GET', '/items', { ca });
    expect(list.status).toBe(200);
    expect((json(list) as { name: string }[]).map((i) => i.name)).toContain(name);

    const bad = await request('https', httpsPort, 'POST', '/items', { ca, body: '{"name":""}' });
    expect(bad.status).toBe(400);
  });

  it('round-trips an upload through the uploads volume', async () => {
    const data = randomBytes(256 * 1024);
    const put = await request('https', httpsPort, 'PUT', '/uploads/x', { ca, body: data });
    expect(put.status).toBe(201);

    const get = await request('https', httpsPort, 'GET', '/uploads/x', { ca });
    expect(get.status).toBe(200);
    expect(get.body.equals(data)).toBe(true);

    expect((await request('https', httpsPort, 'GET', '/uploads/missing', { ca })).status).toBe(404);
    expect((await request('https', httpsPort, 'PUT', '/uploads/bad%20name', { ca, body: 'x' })).status).toBe(
      400,
    );
  });

  it('declares a hardened configuration for every service', async () => {
    const { stdout } = await compose(['config', '--format', 'json']);
    const cfg = JSON.parse(stdout) as {
      services: Record<string, Record<string, unknown>>;
      networks: Record<string, { internal?: boolean }>;
    };
    expect(Object.keys(cfg.services).sort()).toEqual([...services].sort());

    for (const svc of services) {
      const s = cfg.services[svc]!;
      const where = `service ${svc}`;
      const user = typeof s.user === 'string' && s.user !== '' ? s.user : await imageUser(images[svc]);
      expect(isRootUser(user), `${where} runs as ${JSON.stringify(user)}`).toBe(false);
      const hc = s.healthcheck as { test?: string[]; disable?: boolean } | undefined;
      expect(hc?.disable, where).not.toBe(true);
      expect(hc?.test?.length, `${where} healthcheck`).toBeGreaterThan(1);
      expect(['unless-stopped', 'always'], where).toContain(s.restart);
      const limits = (
        s.deploy as { resources?: { limits?: { memory?: unknown; cpus?: unknown } } } | undefined
      )?.resources?.limits;
      expect(positive(limits?.memory), `${where} memory limit`).toBe(true);
      expect(positive(limits?.cpus), `${where} cpu limit`).toBe(true);
      expect(s.security_opt, where).toContain('no-new-privileges:true');
      expect(s.read_only, where).toBe(true);
      // Secrets come in as files, never as environment values.
      const env = JSON.stringify(s.environment ?? {});
      expect(env.includes(dbPassword), `${where} environment`).toBe(false);
      if (svc !== 'nginx') expect(s.ports, `${where} publishes nothing`).toBeUndefined();
    }
    expect(cfg.networks.backend?.internal).toBe(true);
    expect(Object.keys(cfg.services.db!.networks as object)).toEqual(['backend']);
  });

  // Last on purpose: it takes the database away from the running stack.
  it('reports 503 while the database is down and recovers without crashing', async () => {
    await compose(['stop', 'db']);
    const down = await request('https', httpsPort, 'GET', '/healthz', { ca });
    expect(down.status).toBe(503);
    expect(json(down)).toMatchObject({ status: 'unavailable', db: 'unavailable' });

    // A restart with no database must leave the api running and retrying, not crash-looping.
    await compose(['restart', 'api']);
    await new Promise((r) => setTimeout(r, 3000));
    const { stdout } = await compose(['ps', '--format', '{{.Service}} {{.State}}', 'api']);
    expect(stdout.trim()).toBe('api running');

    await compose(['start', 'db']);
    // The restarted api may have a new address: nginx, proxying to `api` plainly (no resolver),
    // follows it on a reload, which deploys do on every switch (README of actions/deploy).
    await compose(['exec', '-T', 'nginx', 'nginx', '-s', 'reload']);
    const deadline = Date.now() + 90_000;
    let last: Reply | Error | undefined;
    while (Date.now() < deadline) {
      last = await request('https', httpsPort, 'GET', '/healthz', { ca }).catch((e: Error) => e);
      if (!(last instanceof Error) && last.status === 200) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(last instanceof Error ? last.message : last?.status).toBe(200);
    // The data outlived the database restart (it is on the db-data volume).
    const list = await request('https', httpsPort, 'GET', '/items', { ca });
    expect((json(list) as unknown[]).length).toBeGreaterThan(0);
  });

  it('builds images that run as non-root users', async () => {
    expect(await imageUser(images.api)).toBe('10001:10001');
    for (const svc of services) {
      const user = await imageUser(images[svc]);
      expect(isRootUser(user), `${images[svc]} runs as ${JSON.stringify(user)}`).toBe(false);
    }
  });
});

async function imageUser(image: string): Promise<string> {
  const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Config.User}}', image]);
  return stdout.trim();
}
