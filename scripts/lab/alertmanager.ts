// A real Alertmanager (Debian's prometheus-alertmanager) on loopback, for the deploy gate's tests and
// bench: no cluster, a receiver that sends nothing, its own storage directory. Alerts are posted to
// its API as Prometheus posts them; resolving one is posting it again with an end in the past.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

export type Labels = Record<string, string>;

export interface LabAlertmanager {
  /** http://127.0.0.1:PORT */
  url: string;
  /** posts a firing alert (ending in an hour unless resolved) */
  fire(labels: Labels, annotations?: Labels): Promise<void>;
  resolve(labels: Labels): Promise<void>;
  /** silences alerts with these label values; returns the silence's id */
  silence(labels: Labels): Promise<string>;
  /** the alerts the gate would see for `filter` matchers (`name="value"`) */
  firing(filters: string[]): Promise<unknown[]>;
  stop(): Promise<void>;
}

const CONFIG = 'route:\n  receiver: none\nreceivers:\n  - name: none\n';

async function call(url: string, method: string, body?: unknown): Promise<string> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
  return text;
}

async function ready(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`alertmanager exited: ${log()}`);
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`alertmanager did not get ready: ${log()}`);
}

export async function startAlertmanager(): Promise<LabAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-alertmanager-'));
  writeFileSync(join(dir, 'alertmanager.yml'), CONFIG);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  await ready(url, child, () => stderr);
  const post = (labels: Labels, endsAt: Date, annotations: Labels = {}) =>
    call(`${url}/api/v2/alerts`, 'POST', [{ labels, annotations, endsAt: endsAt.toISOString() }]);
  return {
    url,
    fire: async (labels, annotations) =>
      void (await post(labels, new Date(Date.now() + 3600_000), annotations)),
    resolve: async (labels) => void (await post(labels, new Date(Date.now() - 1000))),
    silence: async (labels) => {
      const now = Date.now();
      const text = await call(`${url}/api/v2/silences`, 'POST', {
        matchers: Object.entries(labels).map(([name, value]) => ({
          name,
          value,
          isRegex: false,
          isEqual: true,
        })),
        startsAt: new Date(now - 1000).toISOString(),
        endsAt: new Date(now + 3600_000).toISOString(),
        createdBy: 'berth tests',
        comment: 'silenced by a test',
      });
      return (JSON.parse(text) as { silenceID: string }).silenceID;
    },
    firing: async (filters) => {
      const query = filters.map((f) => `&filter=${encodeURIComponent(f)}`).join('');
      return JSON.parse(
        await call(`${url}/api/v2/alerts?active=true&silenced=false&inhibited=false${query}`, 'GET'),
      ) as unknown[];
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
