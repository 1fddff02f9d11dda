// `npm run demo`: the pipeline against the local lab, with Berth's committed action bundles run
// exactly as the runner runs them (test/harness.ts), then a short report.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction, type ActionResult } from './lab/harness.js';
import { cosignKeyPair, readCosignLab } from './lab/cosign.js';
import {
  backupSigning,
  labDir,
  labSsh,
  MONITORING_SERVICES,
  readBuildkitLab,
  readEnginesLab,
  readLab,
  repoRoot,
  sshInputs,
} from './lab/lab.js';
import { startLoad } from './lab/load.js';
import { bareHostStages } from './demo-host.js';

const lab = readLab();
const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
const cacheRoot = join(labDir, 'demo-cache');
mkdirSync(cacheRoot, { recursive: true });

interface Stage {
  name: string;
  seconds?: number;
  result: string;
}
const stages: Stage[] = [];

async function stage(name: string, fn: () => Promise<string>): Promise<void> {
  process.stderr.write(`demo: ${name} ...\n`);
  const start = Date.now();
  try {
    const result = await fn();
    stages.push({ name, seconds: (Date.now() - start) / 1000, result });
  } catch (error) {
    stages.push({
      name,
      seconds: (Date.now() - start) / 1000,
      result: `FAILED: ${(error as Error).message}`,
    });
    report();
    process.exit(1);
  }
}

function expectOk(r: ActionResult, what: string): ActionResult {
  if (r.exitCode !== 0)
    throw new Error(`${what}: ${r.errors.join('; ') || 'exit ' + r.exitCode}\n${r.log.slice(-3000)}`);
  return r;
}

// The pipeline signs every image it pushes with a cosign key pair (no transparency log: nothing
// here reaches Rekor), and deploys verify the pins with its public key before the host is touched.
const cosignLab = readCosignLab();
const cosignPair = await cosignKeyPair(
  cosignLab,
  mkdtempSync(join(tmpdir(), 'berth-demo-cosign-')),
  'cosign',
  `demo-${sha.slice(0, 8)}`,
);
const cosignTool = {
  'cosign-version': cosignLab.version,
  'cosign-download-url': cosignLab.downloadUrl,
  'transparency-log': 'false',
};
const signing = {
  'cosign-key': cosignPair.privateKey,
  'cosign-password': cosignPair.password,
  ...cosignTool,
};
const verification = {
  'verify-key': cosignPair.publicKey,
  'allowed-registries': lab.registry,
  ...cosignTool,
};
const buildkit = readBuildkitLab();

const dockerConfig = mkdtempSync(join(tmpdir(), 'berth-demo-docker-'));
function build(
  service: string,
  extra: Record<string, string> = {},
  env: Record<string, string> = {},
): Promise<ActionResult> {
  return runAction('build', {
    eventName: 'push',
    ref: 'refs/heads/main',
    sha,
    event: { ref: 'refs/heads/main', repository: { default_branch: 'main' } },
    repository: 'berth-lab/example',
    env: { DOCKER_CONFIG: dockerConfig, ...env },
    inputs: {
      context: `example/${service}`,
      image: `${lab.registry}/berth-example/${service}`,
      'build-args': `BASE_IMAGE=${lab.baseImage}`,
      cache: 'local',
      'cache-dir': join(cacheRoot, service),
      push: 'true',
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      // The docker-container builder the action creates for the push by digest: the lab's BuildKit.
      'driver-opts': `image=${buildkit.image}\nnetwork=host`,
      ...signing,
      ...extra,
    },
  });
}

const pins: Record<string, string> = {};

await stage('build api (cold: empty build cache)', async () => {
  execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' });
  execFileSync('rm', ['-rf', join(cacheRoot, 'api')]);
  const r = expectOk(await build('api'), 'build api');
  return `cache-hit-ratio ${r.outputs['cache-hit-ratio']}, ${(Number(r.outputs.size) / 1e6).toFixed(1)} MB`;
});

await stage('build api (warm: engine cache cleared, layers from the local cache)', async () => {
  execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' });
  const r = expectOk(await build('api'), 'build api');
  pins.api = r.outputs.ref!;
  const attestations = r.outputs.attestations!.split('\n').map((a) => a.replace(/^https:\/\//, ''));
  return `cache-hit-ratio ${r.outputs['cache-hit-ratio']}, pushed ${r.outputs.ref}, ${attestations.join(', ')}`;
});

// A stock runner's engine keeps images in the classic store, where buildx's docker driver can neither
// push by digest nor export a cache: the action creates a docker-container builder for the step.
await stage('build api on an engine with the classic image store (a stock runner)', async () => {
  const r = expectOk(
    await build('api', { tags: 'classic' }, { DOCKER_HOST: readEnginesLab().classicDockerHost }),
    'build api (classic)',
  );
  const why = /cannot [^:]+: creating docker-container builder/.exec(r.log)?.[0] ?? '';
  return `${why}; cache-hit-ratio ${r.outputs['cache-hit-ratio']}, pushed ${r.outputs.ref}`;
});

for (const service of ['nginx', 'db']) {
  await stage(`build ${service}`, async () => {
    const r = expectOk(await build(service), `build ${service}`);
    pins[service] = r.outputs.ref!;
    return `pushed ${r.outputs.ref}`;
  });
}

// The next api: one build argument changed (the warm cache makes it quick), what a routine release is.
await stage('build the next api (v2)', async () => {
  const r = expectOk(
    await build('api', { tags: 'v2', 'build-args': `BASE_IMAGE=${lab.baseImage}\nVERSION=v2` }),
    'build api v2',
  );
  pins.v2 = r.outputs.ref!;
  return `pushed ${r.outputs.ref}`;
});

// A release whose api starts but never answers its health check: what the rollback is for.
await stage('build a broken api (never healthy)', async () => {
  const context = mkdtempSync(join(tmpdir(), 'berth-demo-broken-'));
  writeFileSync(
    join(context, 'Dockerfile'),
    `FROM ${pins.api}\nENTRYPOINT ["/bin/sh", "-c", "exec sleep infinity"]\n`,
  );
  const r = expectOk(
    await build('api', { context, tags: 'broken', 'build-args': '', cache: 'none' }),
    'build broken api',
  );
  pins.broken = r.outputs.ref!;
  return `pushed ${r.outputs.ref}`;
});

// The api by digest, as a pipeline scans it before the deploy: the lab DB flags its tar as CRITICAL,
// so the gate blocks it until a dated ignore entry accepts the risk for now.
const scanWorkspace = mkdtempSync(join(tmpdir(), 'berth-demo-scan-'));
cpSync(join(repoRoot, 'example'), join(scanWorkspace, 'example'), { recursive: true });
function scan(): Promise<ActionResult> {
  return runAction('scan', {
    workspace: scanWorkspace,
    toolCache: join(cacheRoot, 'tool-cache'),
    inputs: {
      image: pins.api,
      'compose-files': 'example/docker-compose.yml\nexample/docker-compose.production.yml',
      'trivy-download-url': lab.trivyDownloadUrl,
      'db-repository': lab.trivyDbRepository,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      // No GitHub cache service here: the DB stays in the cache dir between runs instead.
      'cache-db': false,
      'cache-dir': join(cacheRoot, 'trivy'),
    },
  });
}

await stage('scan api by digest (severity gate, compose audit)', async () => {
  const r = await scan();
  if (r.exitCode === 0) throw new Error("expected the gate to fail on the lab DB's CRITICAL advisory");
  return `blocked: ${r.errors.at(-1)}`;
});

await stage('scan api again, the CRITICAL accepted for 30 days in .trivyignore', async () => {
  const until = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  writeFileSync(join(scanWorkspace, '.trivyignore'), `BERTH-LAB-2026-0001 exp:${until}\n`);
  const r = expectOk(await scan(), 'scan api');
  return `passed: critical ${r.outputs.critical}, high ${r.outputs.high}, DB ${r.outputs['db-age-hours']} h old`;
});

const workdir = mkdtempSync(join(tmpdir(), 'berth-demo-deploy-'));
cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
writeFileSync(join(workdir, 'ca.pem'), readFileSync(lab.caFile));
const httpsPort = 28443;
const releases: string[] = [];
function deploy(api: string, waitTimeout: string, extra: Record<string, string> = {}): Promise<ActionResult> {
  const secret = (name: string, file: string) => `${name}<<EOF\n${readFileSync(file, 'utf8').trim()}\nEOF`;
  return runAction('deploy', {
    workspace: workdir,
    sha,
    repository: 'berth-lab/example',
    inputs: {
      ...sshInputs(lab),
      project: 'berth-demo',
      environment: 'development',
      'remote-dir': '/home/deploy/berth-demo',
      env: `HTTPS_PORT=${httpsPort}\nHTTP_PORT=28080\nBIND_ADDRESS=127.0.0.1`,
      secrets: [
        `db_password=demo-${sha.slice(0, 8)}`,
        secret('tls_cert', lab.tlsCert),
        secret('tls_key', lab.tlsKey),
      ].join('\n'),
      images: `api=${api}\nnginx=${pins.nginx}\ndb=${pins.db}`,
      registry: lab.registry,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      'health-urls': `https://localhost:${httpsPort}/healthz 200 1000`,
      'ca-file': 'ca.pem',
      'wait-timeout': waitTimeout,
      // The api is updated start-first behind nginx: a release fails no request (README).
      'zero-downtime': 'api',
      proxy: 'nginx',
      'drain-seconds': '2',
      // Its schema migration, in a one-off container of the new release before it takes traffic
      // (the broken api's entrypoint ignores its arguments: it would only sleep).
      'pre-deploy': api === pins.broken ? '' : 'api: migrate',
      ...verification,
      ...extra,
    },
  });
}

/** mode status: the kept releases, as the `releases` output lists them. */
async function keptReleases(): Promise<string> {
  const r = expectOk(
    await runAction('deploy', {
      workspace: workdir,
      inputs: {
        ...sshInputs(lab),
        project: 'berth-demo',
        'remote-dir': '/home/deploy/berth-demo',
        mode: 'status',
      },
    }),
    'status',
  );
  const releases = JSON.parse(r.outputs.releases ?? '[]') as { id: string; current: boolean }[];
  return releases.map((x) => `${x.id}${x.current ? ' (current)' : ''}`).join(', ');
}

/** A deploy while the lab's load client sends requests through nginx: its result and the failed count. */
async function deployUnderLoad(api: string, waitTimeout: string): Promise<[ActionResult, string]> {
  const load = startLoad({ caFile: lab.caFile, port: httpsPort, path: '/healthz', maxSeconds: 300 });
  const r = await deploy(api, waitTimeout);
  const l = await load.stop();
  const why =
    l.failures.length > 0
      ? `: ${l.failures
          .slice(0, 3)
          .map((f) => `${f.error} at ${f.at} ms`)
          .join('; ')}`
      : '';
  return [r, `under load ${l.failed} of ${l.total} requests failed${why} (longest gap ${l.longestGapMs} ms)`];
}

function healthz(): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: 'localhost', port: httpsPort, path: '/healthz', ca: readFileSync(lab.caFile) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(`HTTP ${res.statusCode} ${body.trim()}`));
    })
      .on('error', reject)
      .end();
  });
}

await stage('deploy development (over SSH, pinned host key)', async () => {
  // From a clean slate: an earlier run's database volume was initialised with that run's password.
  execFileSync('docker', ['compose', '-p', 'berth-demo', 'down', '--volumes', '--remove-orphans'], {
    stdio: 'ignore',
  });
  const r = expectOk(await deploy(pins.api!, '180'), 'deploy');
  releases.push(r.outputs.release!);
  const builtBy =
    /Built by[^\n]*/
      .exec(r.summary)?.[0]
      ?.replace(/\s*\|\s*/g, ' ')
      .trim() ?? '';
  return `release ${r.outputs.release} ${r.outputs.status}, every pin verified (cosign); ${builtBy}; ${await healthz()}`;
});

// An image the pipeline did not sign (built and pushed outside it): verified on the runner, refused
// before anything reaches the host, which keeps serving the release above.
await stage('deploy an unsigned api: refused before the host is touched', async () => {
  const unsigned = expectOk(
    await build('api', { tags: 'unsigned', 'cosign-key': '', 'cosign-password': '' }),
    'build unsigned api',
  );
  const r = await deploy(unsigned.outputs.ref!, '30');
  if (r.exitCode === 0) throw new Error('an unsigned image was deployed');
  return `${r.errors[0]?.slice(0, 200) ?? ''}; still serving ${releases[0]}: ${await healthz()}`;
});

await stage('deploy a broken release', async () => {
  const [r, load] = await deployUnderLoad(pins.broken!, '30');
  if (r.outputs.status !== 'rolled-back')
    throw new Error(`expected a rollback, got ${r.outputs.status}: ${r.errors.join('; ')}`);
  releases.push(r.outputs.release!);
  return `release ${r.outputs.release} ${r.outputs.status}: ${r.errors[0]?.split('; ')[1] ?? ''}; ${load}`;
});

await stage('after the automatic rollback', async () => `${releases[0]} still serves: ${await healthz()}`);

await stage('release api v2 under load (start-first behind nginx)', async () => {
  const [r, load] = await deployUnderLoad(pins.v2!, '180');
  expectOk(r, 'release v2');
  releases.push(r.outputs.release!);
  return `release ${r.outputs.release} ${r.outputs.status}; ${load}; now ${await healthz()}`;
});

// Monitoring (example/docker-compose.monitoring.yml): Prometheus with the example's alert rules,
// Alertmanager and the exporters, one Dockerfile with a target per service, built like the app.
const monitoringPins: string[] = [];
const textfileDir = '/home/deploy/berth-demo-textfile';
const monitoringPorts = { prometheus: 29090, alertmanager: 29093 };
const monitoringStart = Date.now();

await stage('build the monitoring images (one Debian stage, a target per service)', async () => {
  for (const service of MONITORING_SERVICES) {
    const r = expectOk(
      await build('monitoring', { target: service, image: `${lab.registry}/berth-example/${service}` }),
      `build ${service}`,
    );
    monitoringPins.push(`${service}=${r.outputs.ref}`);
  }
  return `pushed ${MONITORING_SERVICES.join(', ')}`;
});

/** deploy's inputs for the example with monitoring; the deploy and backup textfiles in textfileDir. */
function withMonitoring(api: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'compose-files': 'docker-compose.yml\ndocker-compose.monitoring.yml',
    'host-paths': '/',
    env: [
      `HTTPS_PORT=${httpsPort}`,
      'HTTP_PORT=28080',
      'BIND_ADDRESS=127.0.0.1',
      `PROMETHEUS_PORT=${monitoringPorts.prometheus}`,
      `ALERTMANAGER_PORT=${monitoringPorts.alertmanager}`,
      `BERTH_TEXTFILE_DIR=${textfileDir}`,
    ].join('\n'),
    images: `api=${api}\nnginx=${pins.nginx}\ndb=${pins.db}\n${monitoringPins.join('\n')}`,
    'metrics-dir': textfileDir,
    ...extra,
  };
}

/** Prometheus' answer to a query path, read on the host (it listens on the host's loopback). */
async function prometheus<T>(path: string): Promise<T> {
  const url = `http://127.0.0.1:${monitoringPorts.prometheus}${path}`;
  return JSON.parse((await labSsh(lab, `curl -fsS --max-time 10 '${url}'`)).stdout) as T;
}

await stage('deploy development with monitoring (Prometheus, Alertmanager, exporters)', async () => {
  await labSsh(lab, `mkdir -p ${textfileDir}`);
  const r = expectOk(await deploy(pins.v2!, '180', withMonitoring(pins.v2!)), 'deploy with monitoring');
  releases.push(r.outputs.release!);
  type Targets = { data: { activeTargets: { health: string }[] } };
  let up = 0;
  let total = 0;
  for (let i = 0; i < 45 && (total === 0 || up < total); i++) {
    if (i > 0) await new Promise((res) => setTimeout(res, 2000));
    const t = await prometheus<Targets>('/api/v1/targets').catch(() => undefined);
    total = t?.data.activeTargets.length ?? 0;
    up = t?.data.activeTargets.filter((x) => x.health === 'up').length ?? 0;
  }
  const rules = await prometheus<{ data: { groups: { rules: unknown[] }[] } }>('/api/v1/rules');
  const count = rules.data.groups.reduce((n, g) => n + g.rules.length, 0);
  return `release ${r.outputs.release} ${r.outputs.status}; ${up} of ${total} Prometheus targets up, ${count} alert rules loaded`;
});

await stage('release a denied api version, gated by Alertmanager: its alert rolls it back', async () => {
  // A rule the release carries (prometheus/rules.d): the first api build's version is denied.
  const ruleFile = join(workdir, 'prometheus/rules.d/denied-versions.yml');
  writeFileSync(
    ruleFile,
    'groups:\n  - name: denied-versions\n    rules:\n      - alert: ApiVersionDenied\n' +
      '        expr: api_build_info{version="dev"} > 0\n        labels:\n          severity: critical\n' +
      "          project: '{{ $externalLabels.project }}'\n",
  );
  const gate = {
    'alertmanager-url': `http://127.0.0.1:${monitoringPorts.alertmanager}`,
    'bake-seconds': '60',
  };
  // The denied build is older than the schema v2 recorded: its migration would refuse it at
  // pre-deploy, before the gate had a say. Without the hook, the gate is what stops it.
  const r = await deploy(pins.api!, '180', withMonitoring(pins.api!, { ...gate, 'pre-deploy': '' }));
  rmSync(ruleFile);
  if (r.outputs.status !== 'rolled-back')
    throw new Error(`expected the gate to roll back, got ${r.outputs.status}: ${r.errors.join('; ')}`);
  releases.push(r.outputs.release!);
  const alert = /firing: (\S+)/.exec(r.errors[0] ?? '')?.[1] ?? r.errors[0];
  return `release ${r.outputs.release} ${r.outputs.status} on ${alert}; ${await healthz()}`;
});

await stage('monitoring, wall time of the stages above', async () => {
  const q = encodeURIComponent('berth_deploy_last_timestamp_seconds{project="berth-demo"}');
  type Vector = { data: { result: { metric: Record<string, string> }[] } };
  const seen = await prometheus<Vector>(`/api/v1/query?query=${q}`).catch(() => undefined);
  const results = seen?.data.result.map((x) => x.metric.result).join(', ') || 'not scraped yet';
  return `${((Date.now() - monitoringStart) / 1000).toFixed(1)} s; deploy results in Prometheus (textfile): ${results}`;
});

await stage('kept releases (mode status)', keptReleases);

// The deployed development stack backed up (its PostgreSQL dump and volumes, encrypted with age to
// host: on the lab host), then proven by a restore into scratch volumes and a scratch PostgreSQL.
const identity = await generateIdentity();
const backupInputs = {
  ...sshInputs(lab),
  project: 'berth-demo',
  // deploy's remote-dir: backup, restore and deploy of the app share the lock in it
  'remote-dir': '/home/deploy/berth-demo',
  databases: 'db:postgres:app',
  'stop-services': 'db',
  destinations: 'host:/home/deploy/berth-demo-backups',
  'encryption-recipients': await identityToRecipient(identity),
  'signing-key': backupSigning(lab).key,
  retention: 'daily=7,weekly=4,monthly=12',
  'metrics-dir': textfileDir,
};
let backupId = '';

await stage('backup development (encrypted, to host:)', async () => {
  const r = expectOk(await runAction('backup', { inputs: backupInputs }), 'backup');
  backupId = r.outputs['backup-id']!;
  const manifest = JSON.parse(r.outputs.manifest!) as { files: { source: string }[] };
  return `backup ${backupId}: ${manifest.files.map((f) => f.source).join(', ')}; ${(Number(r.outputs.bytes) / 1e6).toFixed(1)} MB, age-encrypted; pruned ${r.outputs.pruned}`;
});

await stage('verify the backup by a restore (scratch volumes, scratch PostgreSQL)', async () => {
  const r = expectOk(
    await runAction('backup', {
      inputs: { ...backupInputs, mode: 'verify', 'backup-id': backupId, 'decryption-key': identity },
    }),
    'verify',
  );
  const checks = r.log
    .split('\n')
    .filter((l) => /contents identical|row counts identical/.test(l))
    .map((l) => l.trim());
  return `verified=${r.outputs.verified} for ${r.outputs['backup-id']}: ${checks.length} archives restored and compared (${checks.join('; ')})`;
});

// A bare server bootstrapped by Berth, then the example on it with a certificate from ACME.
await bareHostStages({ lab, stage, build, expectOk, pins });

function report(): void {
  const width = Math.max(...stages.map((s) => s.name.length));
  console.log('\nBerth demo against the local lab');
  console.log(
    `commit ${sha.slice(0, 12)}, registry ${lab.registry}, host ${lab.sshUser}@${lab.sshHost}:${lab.sshPort}\n`,
  );
  for (const s of stages) {
    const time = s.seconds === undefined ? '      -' : `${s.seconds.toFixed(1).padStart(6)}s`;
    console.log(`${s.name.padEnd(width)}  ${time}  ${s.result}`);
  }
  if (Object.keys(pins).length > 0) {
    console.log('\nimages, pinned by digest:');
    for (const [service, ref] of Object.entries(pins)) console.log(`  ${service}=${ref}`);
  }
}

report();
