// What the deploy benches share: the example's images (two api builds, so that every release
// changes the api) and the floor, the same release run by hand on the host.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../lab/harness.ts';
import { buildPush, repoRoot, sshInputs } from '../lab/lab.ts';

/** The example's images under `<registry>/<namespace>/`: `api` holds the two builds a and b. */
export async function exampleBenchImages(lab, namespace) {
  const repo = (n) => `${lab.registry}/${namespace}/${n}`;
  const [apiA, apiB, nginx, db] = await Promise.all([
    buildPush(lab, join(repoRoot, 'example/api'), repo('api:a'), ['--build-arg', 'VERSION=a']),
    buildPush(lab, join(repoRoot, 'example/api'), repo('api:b'), ['--build-arg', 'VERSION=b']),
    buildPush(lab, join(repoRoot, 'example/nginx'), repo('nginx:t')),
    buildPush(lab, join(repoRoot, 'example/db'), repo('db:t')),
  ]);
  return { api: [apiA, apiB], nginx, db };
}

/**
 * The floor: the current release's files on the host, compose run by hand (as root, no SSH, no lock,
 * no probes), with the api build `i % 2`. Returns its milliseconds; `dir` is the caller's to remove.
 */
export function floorRelease({ project, remoteDir, images, dir }, i) {
  execFileSync('bash', ['-c', `rm -rf ${dir}/r && cp -a "$(readlink -f ${remoteDir}/current)" ${dir}/r`]);
  writeFileSync(
    join(dir, 'r/docker-compose.berth-images.yml'),
    `services:\n  api:\n    image: "${images.api[i % 2]}"\n  nginx:\n    image: "${images.nginx}"\n  db:\n    image: "${images.db}"\n`,
  );
  // The release's own compose files (the user's, the project-files override, the images override),
  // without the pins of what ran when it was current: this floor release runs the other api.
  const files = readFileSync(join(dir, 'r/.berth/compose-files'), 'utf8')
    .split('\n')
    .filter((f) => f && f !== '.berth/pins.yml')
    .flatMap((f) => ['-f', join(dir, 'r', f)]);
  const base = ['compose', '-p', project, '--project-directory', join(dir, 'r'), ...files];
  const start = process.hrtime.bigint();
  execFileSync('docker', [...base, 'pull', '--quiet', '--ignore-buildable'], { stdio: 'ignore' });
  execFileSync(
    'docker',
    [...base, 'up', '-d', '--wait', '--wait-timeout', '180', '--remove-orphans', '--no-build'],
    { stdio: 'ignore' },
  );
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const floorDir = () => mkdtempSync(join(tmpdir(), 'berth-bench-floor-'));

/** A copy of example/ to deploy from. */
export function benchWorkdir(label) {
  const workdir = mkdtempSync(join(tmpdir(), `${label}-`));
  cpSync(join(repoRoot, 'example'), workdir, { recursive: true });
  return workdir;
}

/** The deploy inputs of release `i` (api build `i % 2`): secrets, pins and the registry login. */
export function releaseInputs(lab, images, i) {
  const secrets = {
    db_password: 'bench-password',
    tls_cert: readFileSync(lab.tlsCert, 'utf8').trim(),
    tls_key: readFileSync(lab.tlsKey, 'utf8').trim(),
  };
  return {
    secrets: Object.entries(secrets)
      .map(([k, v]) => `${k}<<EOF\n${v}\nEOF`)
      .join('\n'),
    images: `api=${images.api[i % 2]}\nnginx=${images.nginx}\ndb=${images.db}`,
    registry: lab.registry,
    'registry-username': lab.registryUser,
    'registry-password': lab.registryPassword,
  };
}

/** Deploys release `i` of the example (`extra`: more inputs); throws unless it deployed. */
export async function benchDeploy(lab, { workdir, project, remoteDir, env, images }, i, extra = {}) {
  const start = process.hrtime.bigint();
  const result = await runAction('deploy', {
    workspace: workdir,
    inputs: {
      ...sshInputs(lab),
      project,
      'remote-dir': remoteDir,
      env,
      ...releaseInputs(lab, images, i),
      ...extra,
    },
  });
  if (result.exitCode !== 0) throw new Error(`bench: deploy failed: ${result.errors.join('; ')}`);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}
