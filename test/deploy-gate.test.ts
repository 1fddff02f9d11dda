// berth/deploy's Alertmanager gate (alertmanager-url, alert-filter, bake-seconds) against the lab and
// a real Alertmanager (Debian's) on the lab host's loopback, with alerts posted to its API as
// Prometheus posts them: the example stack deploys, and an alert for the project stops a release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deployExample,
  exampleImages,
  exampleTarget,
  exampleVersion,
  removeExample,
  type ExampleImages,
  type ExampleTarget,
} from './example-release.js';
import { startAlertmanager, type LabAlertmanager } from '../scripts/lab/alertmanager.js';
import type { ActionResult } from '../scripts/lab/harness.js';
import { labSsh, readLab } from '../scripts/lab/lab.js';
import { freePort, sshdConnections } from '../scripts/lab/net.js';

const lab = readLab();
let t: ExampleTarget;
let images: ExampleImages;
let am: LabAlertmanager;

const deploy = (api: string, extra: Record<string, string> = {}): Promise<ActionResult> =>
  deployExample(lab, t, images, api, { 'alertmanager-url': am.url, 'bake-seconds': '8', ...extra });
const version = () => exampleVersion(lab, t.httpsPort);

/** Resolves once the example serves `want` (the new release is up, its probes and bake next). */
async function serving(want: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await version()) === want) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the example never served ${want}`);
}

/** What the host has: `current`'s target and the release directories (uploads included). */
async function hostState(): Promise<{ current: string; releases: string[] }> {
  const { stdout } = await labSsh(lab, `readlink ${t.remoteDir}/current; ls -A ${t.remoteDir}/releases`);
  const [current, ...releases] = stdout.trim().split('\n');
  return { current: current!, releases };
}

const critical = (): Record<string, string> => ({
  alertname: 'ApiErrorRate',
  severity: 'critical',
  project: t.project,
});

beforeAll(async () => {
  [t, images, am] = await Promise.all([
    exampleTarget(lab, 'gate'),
    exampleImages(lab, 'berth-gate'),
    startAlertmanager(),
  ]);
});

afterAll(async () => {
  await am?.stop();
  await removeExample(lab, t);
});

describe('the Alertmanager gate', () => {
  let r1: ActionResult;
  let r2: ActionResult;

  it('passes a clean release after watching for bake-seconds, in the one SSH connection', async () => {
    const before = sshdConnections(lab.sshLog);
    r1 = await deploy(images.api1);
    expect(r1.exitCode, r1.log).toBe(0);
    expect(r1.outputs.status).toBe('deployed');
    expect(sshdConnections(lab.sshLog) - before).toBe(1);
    expect(r1.summary).toMatch(
      new RegExp(
        `Alert gate \\| watched \`severity="critical",project="${t.project}"\` at \`${am.url}\` for \\d+\\.\\d s of 8 s, \\d+ polls: no matching alert fired`,
      ),
    );
    expect(r1.summary).toMatch(/Time on the host \|.* bake \d+\.\d s, switch/);
    expect(await version()).toBe('v1');
  });

  it('lets a release out past a silenced alert and alerts the filter does not match', async () => {
    const silenced = { alertname: 'Silenced', severity: 'critical', project: t.project };
    await am.silence({ alertname: 'Silenced' });
    await am.fire(silenced);
    await am.fire({ ...critical(), project: `other-${t.project}` });
    await am.fire({ ...critical(), severity: 'warning' });
    // Alertmanager has them: only the filter and the silence keep them from the gate.
    expect(await am.firing([`project="${t.project}"`])).toHaveLength(1);
    expect(await am.firing([`alertname="Silenced"`]).then((a) => a.length)).toBe(0);
    r2 = await deploy(images.api2);
    expect(r2.exitCode, r2.log).toBe(0);
    expect(r2.outputs.status).toBe('deployed');
    expect(await version()).toBe('v2');
    for (const labels of [
      silenced,
      { ...critical(), project: `other-${t.project}` },
      { ...critical(), severity: 'warning' },
    ])
      await am.resolve(labels);
  });

  it('rolls back a release when a matching alert fires during the bake, naming it', async () => {
    const deploying = deploy(images.api1, { 'bake-seconds': '60' });
    await serving('v1');
    await am.fire(critical(), { summary: '5xx ratio over 5% ::error::pwned' });
    const r = await deploying;
    await am.resolve(critical());
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      new RegExp(
        `failed at bake: an alert matching alert-filter fired \\d+ s into the bake; firing: ApiErrorRate \\{alertname="ApiErrorRate", project="${t.project}", severity="critical"\\} since .*: 5xx ratio over 5% ::error::pwned; rolled back to ${r2.outputs.release}`,
      ),
    );
    expect(r.summary).toMatch(/Alert gate \| stopped the release after \d+\.\d s of 60 s/);
    expect(r.summary).toContain('🔥 Firing alert | `ApiErrorRate {alertname="ApiErrorRate"');
    expect(r.log).not.toMatch(/^::error::pwned/m);
    expect(await version()).toBe('v2');
    const host = await hostState();
    expect(host.current).toBe(`releases/${r2.outputs.release}`);
    expect(host.releases).not.toContain(r.outputs.release);
  });

  it('refuses to deploy into a stack whose alert already fires, before anything changes', async () => {
    const before = await hostState();
    await am.fire(critical());
    const r = await deploy(images.api1);
    await am.resolve(critical());
    expect(r.exitCode).toBe(1);
    expect(r.outputs.status).toBe('failed');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      new RegExp(
        `^Input "alert-filter": 1 alert matching severity="critical",project="${t.project}" already firing at ${am.url}, and a release does not go out into a burning stack.*: ApiErrorRate \\{`,
      ),
    );
    expect(await hostState()).toEqual(before);
    expect(await version()).toBe('v2');
  });

  it('fails naming alertmanager-url when nothing or no Alertmanager answers there, before anything changes', async () => {
    const before = await hostState();
    const nothing = `http://127.0.0.1:${await freePort()}`;
    const down = await deploy(images.api1, { 'alertmanager-url': nothing });
    expect(down.exitCode).toBe(1);
    expect(down.errors).toEqual([
      expect.stringMatching(
        new RegExp(`^Input "alertmanager-url": ${nothing} does not answer from the host: curl: \\(7\\)`),
      ),
    ]);
    const other = await deploy(images.api1, { 'alertmanager-url': lab.releasesUrl });
    expect(other.errors).toEqual([
      expect.stringMatching(
        /^Input "alertmanager-url": .* is not an Alertmanager: GET \/api\/v2\/status answered HTTP 404/,
      ),
    ]);
    expect(await hostState()).toEqual(before);
    expect(await version()).toBe('v2');
  });

  it('rolls back when Alertmanager stops answering during the bake (the gate cannot vouch for it)', async () => {
    const deploying = deploy(images.api1, { 'bake-seconds': '60' });
    await serving('v1');
    await am.stop();
    const r = await deploying;
    expect(r.outputs.status, r.log).toBe('rolled-back');
    expect(r.errors[0]).toMatch(
      /failed at bake: Alertmanager \(alertmanager-url\) did not answer 3 polls in a row \d+ s into the bake: 000 curl: \(7\)/,
    );
    expect(r.summary).toMatch(/Alert gate \| stopped the release after .*: Alertmanager stopped answering/);
    expect(await version()).toBe('v2');
    expect((await hostState()).current).toBe(`releases/${r2.outputs.release}`);
  });
});
