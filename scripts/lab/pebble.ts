// The lab's ACME server (scripts/lab/pebble.sh, run by lab:up): where Pebble and its challenge test
// DNS server listen, Pebble's current root (a new one at each Pebble start), and A records.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { envFile, labDir } from './lab.js';

export interface PebbleLab {
  /** the ACME directory as containers with `extra_hosts: [pebble:host-gateway]` reach it */
  url: string;
  /** the same from this machine */
  hostUrl: string;
  /** the docker0 address Pebble listens on (what host-gateway resolves to on the lab engine) */
  gateway: string;
  /** https://<gateway>:15000: /roots/0 is the root of every certificate Pebble issues */
  managementUrl: string;
  /** the port Pebble validates HTTP-01 challenges on: nginx's HTTP must be published there */
  httpPort: number;
  /** how long Pebble's certificates live */
  certDays: number;
  /** pebble-challtestsrv's management API (A records Pebble resolves) */
  challtestsrvUrl: string;
  /** the lab CA that Pebble's own HTTPS certificate chains to */
  caFile: string;
}

export function readPebbleLab(): PebbleLab {
  const { get } = envFile(join(labDir, 'pebble', 'env'), '.lab/pebble/env');
  return {
    url: get('LAB_PEBBLE_URL'),
    hostUrl: get('LAB_PEBBLE_HOST_URL'),
    gateway: get('LAB_PEBBLE_GATEWAY'),
    managementUrl: get('LAB_PEBBLE_MANAGEMENT_URL'),
    httpPort: Number(get('LAB_PEBBLE_HTTP_PORT')),
    certDays: Number(get('LAB_PEBBLE_CERT_DAYS')),
    challtestsrvUrl: get('LAB_CHALLTESTSRV_URL'),
    caFile: join(labDir, 'tls', 'ca.crt'),
  };
}

/** The root of the certificates Pebble issues now (it makes a new one each time it starts). */
export function pebbleRoot(p: PebbleLab): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${p.managementUrl}/roots/0`,
      { ca: readFileSync(p.caFile), timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () =>
          res.statusCode === 200 && body.includes('BEGIN CERTIFICATE')
            ? resolve(body)
            : reject(new Error(`Pebble's /roots/0 answered HTTP ${res.statusCode}: ${body.slice(0, 200)}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error("Pebble's management interface did not answer")));
    req.on('error', reject);
    req.end();
  });
}

function challtestsrv(p: PebbleLab, path: string, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${p.challtestsrvUrl}${path}`, { method: 'POST', timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200
          ? resolve()
          : reject(new Error(`challtestsrv ${path}: HTTP ${res.statusCode}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`challtestsrv ${path}: no answer`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Points `host` at `addresses` in the DNS Pebble validates through (every other name resolves to
 * 127.0.0.1), e.g. a second host's address; clearARecord() undoes it.
 */
export function setARecord(p: PebbleLab, host: string, addresses: string[]): Promise<void> {
  return challtestsrv(p, '/add-a', { host: `${host.replace(/\.$/, '')}.`, addresses });
}

export function clearARecord(p: PebbleLab, host: string): Promise<void> {
  return challtestsrv(p, '/clear-a', { host: `${host.replace(/\.$/, '')}.` });
}
