// The example with docker-compose.acme.yml, deployed to the lab host by berth/deploy with no TLS
// secret: certbot obtains its certificate from the lab's Pebble (a real ACME server that validates
// every HTTP-01 challenge through nginx's port 80), nginx serves it, a forced renewal is served after
// a graceful reload while a load client sees no failed request, port 80 serves the challenges and
// redirects everything else to HTTPS, and a name that leads elsewhere gets no certificate.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab } from '../scripts/lab/lab.js';
import { startLoad, type LoadResult } from '../scripts/lab/load.js';
import { clearARecord, readPebbleLab, setARecord } from '../scripts/lab/pebble.js';
import {
  acmeImages,
  containerOf,
  forceRenewal,
  servedCertificate,
  type AcmeImages,
} from '../scripts/lab/acme.js';
import { acmeTarget, deployAcmeExample, type AcmeTarget } from './example-acme.js';
import { removeExample } from './example-release.js';

const lab = readLab();
const pebble = readPebbleLab();
let images: AcmeImages;
let t: AcmeTarget;
let root: string;
let deployed: ActionResult;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plain-HTTP GET to nginx's published port 80 (HTTP_PORT) for the target's domain. */
function httpGet(path: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: t.httpPort, path, headers: { host: t.domain }, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** nginx's container: its id, main process and start time (a reload keeps all three). */
async function nginxProcess(): Promise<string> {
  const id = await containerOf(lab, t.project, 'nginx');
  const { stdout } = await labSsh(
    lab,
    `docker inspect -f '{{.Id}} {{.State.Pid}} {{.State.StartedAt}}' ${id}`,
  );
  return stdout.trim();
}

beforeAll(async () => {
  images = await acmeImages(lab, 'berth-acme');
  t = await acmeTarget(lab, pebble, 'acme');
  deployed = await deployAcmeExample(lab, pebble, t, images);
  root = readFileSync(join(t.workdir, t.rootFile), 'utf8');
  if (deployed.exitCode !== 0) throw new Error(`the deploy failed:\n${deployed.log}`);
});

afterAll(async () => {
  if (t) await removeExample(lab, t);
});

describe('the example with certificates from an ACME server (Pebble)', () => {
  it('gets its first certificate from Pebble on the first deploy, without a certificate in secrets', async () => {
    expect(deployed.outputs.status, deployed.log).toBe('deployed');
    // The deploy's own probe trusted Pebble's root only, for the domain's name.
    expect(deployed.summary).toContain(`https://${t.domain}:${t.httpsPort}/healthz 200 `);
    // ... and reported the certificate's expiry: Pebble's certificates live certDays days.
    const days = /\| Certificate \| `https:\/\/[^`]+` expires \d{4}-\d\d-\d\d \((\d+) days\) \|/.exec(
      deployed.summary,
    )?.[1];
    expect([pebble.certDays - 1, pebble.certDays]).toContain(Number(days));
    const cert = await servedCertificate(t.httpsPort, t.domain, root);
    expect(cert.subjectaltname).toBe(`DNS:${t.domain}`);
    expect(cert.issuer.CN).toMatch(/^Pebble Intermediate CA /);
    const lifetimeDays = (Date.parse(cert.valid_to) - Date.parse(cert.valid_from)) / 86_400_000;
    expect(Math.round(lifetimeDays)).toBe(pebble.certDays);
    // Not the lab CA's certificate, nor a self-signed one: a client trusting the lab CA refuses it.
    await expect(
      servedCertificate(t.httpsPort, t.domain, readFileSync(lab.caFile, 'utf8')),
    ).rejects.toThrow();
  });

  it('serves the ACME challenges on HTTP and redirects everything else to HTTPS', async () => {
    const certbot = await containerOf(lab, t.project, 'certbot');
    const token = `berth-test-${Math.random().toString(36).slice(2, 10)}`;
    const dir = '/var/www/acme/.well-known/acme-challenge';
    await labSsh(
      lab,
      `docker exec ${certbot} sh -c 'mkdir -p ${dir} && printf %s ${token} >${dir}/${token}'`,
    );
    try {
      expect(await httpGet(`/.well-known/acme-challenge/${token}`)).toMatchObject({
        status: 200,
        body: token,
      });
      // A challenge that is not there is a 404 from the webroot, not a redirect.
      expect((await httpGet('/.well-known/acme-challenge/nope')).status).toBe(404);
    } finally {
      await labSsh(lab, `docker exec ${certbot} rm -f ${dir}/${token}`);
    }
    expect(await httpGet('/items?page=2')).toMatchObject({
      status: 301,
      location: `https://${t.domain}/items?page=2`,
    });
  });

  it('serves a forced renewal after nginx reloads it, with no failed request meanwhile', async () => {
    const before = await servedCertificate(t.httpsPort, t.domain, root);
    const nginxBefore = await nginxProcess();
    const load = startLoad({
      caFile: join(t.workdir, t.rootFile),
      servername: t.domain,
      port: t.httpsPort,
      path: '/healthz',
      maxSeconds: 300,
    });
    let after = before;
    let result: LoadResult;
    try {
      await sleep(1000);
      const out = await forceRenewal(lab, t.project);
      expect(out).toContain('published the certificate');
      // nginx's health check notices the new certificate and reloads nginx.
      for (let i = 0; i < 60 && after.serialNumber === before.serialNumber; i++) {
        await sleep(1000);
        after = await servedCertificate(t.httpsPort, t.domain, root);
      }
      await sleep(1000); // the load client sees the new certificate too
    } finally {
      result = await load.stop();
    }
    expect(result.failed, JSON.stringify(result.failures)).toBe(0);
    expect(result.certificates).toEqual([before.serialNumber, after.serialNumber]);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(after.subjectaltname).toBe(`DNS:${t.domain}`);
    // Reloaded, not restarted: the same container and main process.
    expect(await nginxProcess()).toBe(nginxBefore);
    const { stdout } = await labSsh(lab, `docker logs ${await containerOf(lab, t.project, 'nginx')} 2>&1`);
    expect(stdout).toContain('berth-tls: reloading nginx');
  });

  it('fails a release whose certificate has fewer days left than cert-min-days, and rolls back', async () => {
    const r = await deployAcmeExample(lab, pebble, t, images, {
      'cert-min-days': String(pebble.certDays + 1),
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toMatch(
      new RegExp(
        `failed at probe: probe https://${t.domain}:${t.httpsPort}/healthz was served a certificate that expires in \\d+ days .*, fewer than cert-min-days ${pebble.certDays + 1}`,
      ),
    );
  });

  it('gets no certificate for a name that does not lead to this nginx: Pebble validates every challenge', async () => {
    const other = `other-${t.project}.localhost`;
    await setARecord(pebble, other, ['127.0.0.2']); // port 80 there: nothing listens
    try {
      const certbot = await containerOf(lab, t.project, 'certbot');
      const dirs = '--config-dir /tmp/other/c --work-dir /tmp/other/w --logs-dir /tmp/other/l';
      const err = await labSsh(
        lab,
        `docker exec ${certbot} certbot certonly --non-interactive --agree-tos --register-unsafely-without-email ` +
          `--webroot -w /var/www/acme -d ${other} --server ${pebble.url} ${dirs} 2>&1`,
      ).then(
        () => undefined,
        (e: { stdout?: string }) => e.stdout ?? String(e),
      );
      expect(err, 'certbot must fail').toBeDefined();
      expect(err).toMatch(/Some challenges have failed/);
      expect(err).toContain(other);
    } finally {
      await clearARecord(pebble, other);
    }
  });
});
