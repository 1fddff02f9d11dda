import { describe, expect, it } from 'vitest';
import { HostReport } from '../../../lib/ssh/host-script.js';
import { preflightProblems, type PreflightFacts } from './preflight.js';

const facts: PreflightFacts = { remoteDir: '/opt/shop', mode: 'deploy', bundleKb: 100 };
const ready = [
  'user=deploy',
  'docker-root=/var/lib/docker',
  'docker-root-free-kb=50000000',
  'swarm=inactive false',
  'compose-version=2.26.1-4',
  'remote-dir-nearest=/opt/shop',
  'remote-dir-free-kb=50000000',
];
const report = (lines: string[]) => HostReport.parse(lines.map((l) => `::berth::${l}`).join('\n'));
const problems = (lines: string[], over: Partial<PreflightFacts> = {}) =>
  preflightProblems(report(lines), { ...facts, ...over });

describe('preflightProblems', () => {
  it('finds none on a ready host', () => {
    expect(problems(ready)).toEqual([]);
    expect(problems([...ready, 'missing-image=r/api@sha256:1'])).toEqual([]);
  });

  it('names the sudo fix for a remote-dir the user cannot create or write', () => {
    expect(problems([...ready, 'remote-dir-blocked=/opt not-writable'])).toEqual([
      'Input "remote-dir": /opt/shop is not writable by deploy: sudo install -d -o deploy /opt/shop',
    ]);
    expect(problems([...ready, 'remote-dir-blocked=/opt/shop/releases not-writable'])).toEqual([
      'Input "remote-dir": /opt/shop/releases is not writable by deploy: sudo chown -R deploy /opt/shop',
    ]);
    expect(problems([...ready, 'remote-dir-blocked=/opt/shop not-a-directory'])).toEqual([
      'Input "remote-dir": /opt/shop is not a directory',
    ]);
  });

  it('names metrics-dir when the textfile directory is missing or not writable', () => {
    const metrics = { input: 'metrics-dir', dir: '/var/lib/node-exporter', file: 'berth-deploy-shop.prom' };
    expect(problems([...ready, 'metrics-dir=ok'], { metrics })).toEqual([]);
    expect(problems([...ready, 'metrics-dir-blocked=not-writable'], { metrics })).toEqual([
      'Input "metrics-dir": /var/lib/node-exporter is not writable by deploy: sudo chown deploy /var/lib/node-exporter (or a group both share)',
    ]);
    expect(problems([...ready, 'metrics-dir-blocked=missing'], { metrics })[0]).toMatch(
      /^Input "metrics-dir": \/var\/lib\/node-exporter does not exist on the host/,
    );
  });

  it('names the package for a missing flock, compose or curl, and the group for the socket', () => {
    expect(
      problems([
        'user=deploy',
        'engine-error=permission denied while trying to connect to the Docker daemon socket',
        'missing=compose',
        'missing=flock',
        'missing=curl',
        'remote-dir-nearest=/opt',
      ]),
    ).toEqual([
      'deploy may not use the Docker engine (permission denied while trying to connect to the Docker daemon socket): sudo usermod -aG docker deploy, then log in again',
      'Docker Compose v2 is not installed; Berth needs 2.17.0 or newer: sudo apt-get install docker-compose-v2',
      'flock is not installed on the host (deploys take a lock): sudo apt-get install util-linux',
      'Input "health-urls": the probes need curl on the host: sudo apt-get install curl',
    ]);
    expect(problems(['user=deploy', 'missing=docker'])).toEqual([
      'the docker CLI is not installed on the host: sudo apt-get install docker.io docker-compose-v2',
    ]);
  });

  it('compares the compose version', () => {
    const old = ready.map((l) => (l.startsWith('compose-version=') ? 'compose-version=v2.12.2' : l));
    expect(problems(old)).toEqual([
      'Docker Compose v2 is v2.12.2; Berth needs 2.17.0 or newer: sudo apt-get install docker-compose-v2',
    ]);
    expect(problems([...ready.slice(0, -3), 'compose-version=2.17.0'])).toEqual([]);
  });

  it('wants a swarm manager for mode swarm', () => {
    expect(problems(ready, { mode: 'swarm' })).toEqual([
      'Input "mode": swarm needs a swarm manager; this host\'s swarm state is "inactive false" (docker swarm init)',
    ]);
  });

  it('checks free space against the bundle, and against the floor when images are to be pulled and their registry could not say', () => {
    const low = ready.map((l) =>
      l
        .replace('remote-dir-free-kb=50000000', 'remote-dir-free-kb=1000')
        .replace('root-free-kb=50000000', 'root-free-kb=1000'),
    );
    expect(problems(low, { bundleKb: 10_000 })).toEqual([
      'Input "remote-dir": /opt/shop has 1 MiB free, the release needs 74 MiB',
    ]);
    expect(problems([...low, 'missing-image=r/api@sha256:1'], { bundleKb: 1 })).toEqual([
      "/var/lib/docker (Docker's root dir) has 0.0 GiB free, under the 2.0 GiB kept for pulling r/api@sha256:1 (their registry could not be asked): free space on the host (docker image prune -a) or grow the disk",
      'Input "remote-dir": /opt/shop has 1 MiB free, the release needs 65 MiB',
    ]);
  });

  it('checks the pull against the sizes the registry gave', () => {
    const low = ready.map((l) => l.replace('root-free-kb=50000000', 'root-free-kb=400000'));
    const pull = [...low, 'missing-image=r/api@sha256:1'];
    const pullSizes = [{ ref: 'r/api@sha256:1', bytes: 100 * 1024 * 1024 }];
    expect(problems(pull, { pullSizes })).toEqual([
      "/var/lib/docker (Docker's root dir) has 0.4 GiB free; pulling r/api@sha256:1 (100 MiB compressed) needs 0.5 GiB (2.5 x the compressed size + 0.3 GiB): free space on the host (docker image prune -a) or grow the disk",
    ]);
    expect(problems(pull, { pullSizes: [{ ref: 'r/api@sha256:1', bytes: 50 * 1024 * 1024 }] })).toEqual([]);
  });

  it('keeps host text to one line', () => {
    const out = problems([...ready, 'engine-error=boom ::error::x']);
    expect(out[0]).toBe('the Docker engine does not answer: boom ::error::x');
  });
});
