// `npm run demo`: the pipeline against the local lab, with Berth's committed action bundles run
// exactly as the runner runs them (test/harness.ts), then a short report.
// Stages whose action has not landed yet are listed as such, never simulated.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readActionMetadata, actionDir, runAction, type ActionResult } from '../test/harness.js';
import { readLab, labDir, repoRoot } from '../test/lab.js';

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

function implemented(action: string): boolean {
  return Object.keys(readActionMetadata(actionDir(action)).inputs ?? {}).length > 0;
}

function expectOk(r: ActionResult, what: string): ActionResult {
  if (r.exitCode !== 0)
    throw new Error(`${what}: ${r.errors.join('; ') || 'exit ' + r.exitCode}\n${r.log.slice(-3000)}`);
  return r;
}

const dockerConfig = mkdtempSync(join(tmpdir(), 'berth-demo-docker-'));
function build(service: string, extra: Record<string, string> = {}): Promise<ActionResult> {
  return runAction('build', {
    eventName: 'push',
    ref: 'refs/heads/main',
    sha,
    event: { ref: 'refs/heads/main', repository: { default_branch: 'main' } },
    repository: 'berth-lab/example',
    env: { DOCKER_CONFIG: dockerConfig },
    inputs: {
      context: `example/${service}`,
      image: `${lab.registry}/berth-example/${service}`,
      'build-args': `BASE_IMAGE=${lab.baseImage}`,
      cache: 'local',
      'cache-dir': join(cacheRoot, service),
      push: true,
      'registry-username': lab.registryUser,
      'registry-password': lab.registryPassword,
      ...extra,
    },
  });
}

const pins: Record<string, string> = {};

await stage('build api (cold: empty build cache)', async () => {
  execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' });
  execFileSync('rm', ['-rf', join(cacheRoot, 'api')]);
  const r = expectOk(await build('api'), 'build api');
  return `${r.outputs['cache-hit-ratio']} of steps cached, ${(Number(r.outputs.size) / 1e6).toFixed(1)} MB`;
});

await stage('build api (warm: engine cache cleared, layers from the local cache)', async () => {
  execFileSync('docker', ['builder', 'prune', '--all', '--force'], { stdio: 'ignore' });
  const r = expectOk(await build('api'), 'build api');
  pins.api = r.outputs.ref!;
  return `${r.outputs['cache-hit-ratio']} of steps cached, pushed ${r.outputs.ref}`;
});

for (const service of ['nginx', 'db']) {
  await stage(`build ${service}`, async () => {
    const r = expectOk(await build(service), `build ${service}`);
    pins[service] = r.outputs.ref!;
    return `pushed ${r.outputs.ref}`;
  });
}

for (const [action, what] of [
  ['scan', 'scan by digest with the severity gate, compose audit'],
  ['deploy', 'deploy development, a broken release, automatic rollback'],
  ['backup', 'backup, verify by restore'],
] as const) {
  if (!implemented(action))
    stages.push({ name: `${action}: ${what}`, result: 'not available yet (its issue is open)' });
}

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
