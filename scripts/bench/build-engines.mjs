// Build rows of #22: the build action pushing by digest from a docker-container builder it creates
// (and removes), against bare buildx doing the same work by hand (create the builder, build and push
// the tag, remove the builder), warm from a local cache, on the classic-store engine and on the
// containerd one; the fixed cost on a tiny, fully cached context (action vs bare `buildx build
// --load`); what signing and attestations add per image.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../lab/harness.ts';
import { verifyImage } from '../../lib/tools/cosign.ts';
import { cosignKeyPair, labCosign, readCosignLab } from '../lab/cosign.ts';
import { readBuildkitLab, readEnginesLab, readLab, repoRoot } from '../lab/lab.ts';
import { median } from './_measure.mjs';

const lab = readLab();
const engines = readEnginesLab();
const buildkitImage = readBuildkitLab().image;
const cosignLab = readCosignLab();
const runId = Math.random().toString(36).slice(2, 8);
const dockerConfig = mkdtempSync(join(tmpdir(), 'berth-bench-dc-'));

function docker(dockerHost, args, opts = {}) {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_CONFIG: dockerConfig, ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
    stdio: opts.input ? ['pipe', 'pipe', 'ignore'] : 'ignore',
    input: opts.input,
  });
}

function context(dockerfile) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-ctx-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

async function action(dockerHost, inputs, outputs = {}) {
  const start = process.hrtime.bigint();
  const r = await runAction('build', {
    // Its own docker config, as on a fresh runner (its post step logs out).
    env: {
      DOCKER_CONFIG: inputs.push ? mkdtempSync(join(tmpdir(), 'berth-bench-adc-')) : dockerConfig,
      ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
    },
    // A push logs in (and its post step out) in a fresh config; a load uses the config bare buildx
    // uses, already logged in, so both do the same work.
    inputs: {
      ...(inputs.push
        ? { 'registry-username': lab.registryUser, 'registry-password': lab.registryPassword }
        : {}),
      ...inputs,
    },
  });
  const took = ms(start);
  if (r.exitCode !== 0) throw new Error(`bench: build action failed: ${r.errors.join('; ')}`);
  Object.assign(outputs, r.outputs);
  return took;
}

async function pushRows(store, dockerHost) {
  // The example api: a real multi-stage build (Go toolchain from Debian packages), warm from its local cache.
  const ctx = join(repoRoot, 'example', 'api');
  const image = `${lab.registry}/berth-bench-${runId}/api-${store}`;
  const cacheDir = join(mkdtempSync(join(tmpdir(), 'berth-bench-cache-')), 'api');
  const inputs = {
    context: ctx,
    image,
    tags: 'bench',
    push: 'true',
    'build-args': `BASE_IMAGE=${lab.baseImage}`,
    cache: 'local',
    'cache-dir': cacheDir,
    'driver-opts': `image=${buildkitImage}\nnetwork=host`,
  };
  await action(dockerHost, inputs); // cold: fills the cache
  const a = [];
  const b = [];
  for (let i = 0; i < 3; i++) {
    a.push(await action(dockerHost, inputs));
    b.push(bareWithArgs(dockerHost, ctx, image, cacheDir));
  }
  const ratio = median(a) / median(b);
  return {
    area: 'build',
    metric: `${store} store: action / bare buildx (builder created, build pushed, builder removed), example api warm from a local cache (median of 3: ${(median(a) / 1000).toFixed(2)} s / ${(median(b) / 1000).toFixed(2)} s)`,
    value: ratio.toFixed(3),
    target: '<= 1.10',
    ok: ratio <= 1.1,
  };
}

/** What a user does by hand for the same push: a builder, a build that pushes the tag, the builder removed. */
function bareWithArgs(dockerHost, ctx, image, cacheDir) {
  const name = `bench-${Math.random().toString(36).slice(2, 8)}`;
  const start = process.hrtime.bigint();
  docker(dockerHost, [
    'buildx',
    'create',
    '--name',
    name,
    '--driver',
    'docker-container',
    '--driver-opt',
    `image=${buildkitImage}`,
    '--driver-opt',
    'network=host',
    '--bootstrap',
  ]);
  docker(dockerHost, [
    'buildx',
    'build',
    '--builder',
    name,
    '--progress',
    'plain',
    '--provenance',
    'mode=min',
    '--build-arg',
    `BASE_IMAGE=${lab.baseImage}`,
    '--cache-from',
    `type=local,src=${cacheDir}`,
    '--cache-to',
    `type=local,dest=${cacheDir}-new,mode=max`,
    '--tag',
    `${image}:bare`,
    '--push',
    ctx,
  ]);
  rmSync(cacheDir, { recursive: true, force: true });
  execFileSync('mv', [`${cacheDir}-new`, cacheDir]);
  docker(dockerHost, ['buildx', 'rm', name]);
  return ms(start);
}

async function tinyRow() {
  const ctx = context(
    `FROM ${engines.multiarchBase} AS build\nRUN echo tiny > /tiny\nFROM ${engines.multiarchBase}\nCOPY --from=build /tiny /tiny\nUSER 10001\n`,
  );
  const image = `${lab.registry}/berth-bench-${runId}/tiny`;
  docker(undefined, ['buildx', 'build', '--load', '--tag', `${image}:bare`, ctx]);
  const a = [];
  const b = [];
  for (let i = 0; i < 7; i++) {
    let start = process.hrtime.bigint();
    docker(undefined, ['buildx', 'build', '--load', '--tag', `${image}:bare`, ctx]);
    b.push(ms(start));
    a.push(await action(undefined, { context: ctx, image, tags: 'tiny', cache: 'none' }));
  }
  const ratio = median(a) / median(b);
  return {
    area: 'build',
    metric: `fixed cost: action / bare \`buildx build --load\`, tiny two-stage context fully cached, containerd store (median of 7: ${(median(a) / 1000).toFixed(2)} s / ${(median(b) / 1000).toFixed(2)} s)`,
    value: ratio.toFixed(2),
    target: '<= 2.0',
    ok: ratio <= 2.0,
  };
}

async function signingRows() {
  const pair = await cosignKeyPair(
    cosignLab,
    mkdtempSync(join(tmpdir(), 'berth-bench-cosign-')),
    'k',
    'bench',
  );
  const ctx = context(
    `FROM ${lab.baseImage} AS build\nRUN echo signed > /s\nFROM ${lab.baseImage}\nCOPY --from=build /s /s\nUSER 10001\n`,
  );
  const cacheDir = join(mkdtempSync(join(tmpdir(), 'berth-bench-cache-')), 's');
  const base = {
    context: ctx,
    image: `${lab.registry}/berth-bench-${runId}/signed`,
    tags: 'bench',
    push: 'true',
    cache: 'local',
    'cache-dir': cacheDir,
    'driver-opts': `image=${buildkitImage}\nnetwork=host`,
    'cosign-version': cosignLab.version,
    'cosign-download-url': cosignLab.downloadUrl,
  };
  await action(undefined, { ...base, provenance: 'false' });
  const plain = [];
  const attested = [];
  const signed = [];
  const last = {};
  for (let i = 0; i < 3; i++) {
    plain.push(await action(undefined, { ...base, provenance: 'false' }));
    attested.push(await action(undefined, { ...base, provenance: 'min' }));
    signed.push(
      await action(
        undefined,
        {
          ...base,
          provenance: 'min',
          'cosign-key': pair.privateKey,
          'cosign-password': pair.password,
          'transparency-log': 'false',
        },
        last,
      ),
    );
  }
  // What deploy does per pinned image before the host is touched: the signature and the signed
  // provenance, verified by the lab's cosign (lib/tools/cosign.ts, as actions/deploy calls it).
  const policy = {
    cosign: labCosign(cosignLab),
    signer: { publicKey: pair.publicKey },
    transparencyLog: false,
    dockerConfig,
  };
  await verifyImage(last.ref, policy);
  const verify = [];
  for (let i = 0; i < 5; i++) {
    const start = process.hrtime.bigint();
    await verifyImage(last.ref, policy);
    verify.push(ms(start));
  }
  return [
    {
      area: 'build',
      metric: `provenance attestation per image: push by digest with - without (median of 3: ${(median(attested) / 1000).toFixed(2)} s / ${(median(plain) / 1000).toFixed(2)} s) (s)`,
      value: ((median(attested) - median(plain)) / 1000).toFixed(2),
    },
    {
      area: 'build',
      metric: `cosign signature + signed provenance attestation per image (no transparency log), with - without (median of 3: ${(median(signed) / 1000).toFixed(2)} s / ${(median(attested) / 1000).toFixed(2)} s) (s)`,
      value: ((median(signed) - median(attested)) / 1000).toFixed(2),
    },
    {
      area: 'deploy',
      metric:
        'verification per pinned image on the runner (cosign verify + verify-attestation, median of 5) (s)',
      value: (median(verify) / 1000).toFixed(2),
    },
  ];
}

export async function rows() {
  docker(undefined, ['login', '--username', lab.registryUser, '--password-stdin', lab.registry], {
    input: lab.registryPassword,
  });
  docker(
    engines.classicDockerHost,
    ['login', '--username', lab.registryUser, '--password-stdin', lab.registry],
    {
      input: lab.registryPassword,
    },
  );
  // A group that fails is a row that says so; the others still measure.
  // BERTH_BENCH_ONLY=<words>: only the groups whose name holds them (e.g. `fixed cost`).
  const guarded = async (what, fn) => {
    if (process.env.BERTH_BENCH_ONLY && !what.includes(process.env.BERTH_BENCH_ONLY)) return [];
    try {
      const r = await fn();
      return Array.isArray(r) ? r : [r];
    } catch (error) {
      return [{ area: 'build', metric: what, value: `failed: ${error.message.split('\n')[0]}`, ok: false }];
    }
  };
  return [
    ...(await guarded('classic store: action / bare', () => pushRows('classic', engines.classicDockerHost))),
    ...(await guarded('containerd store: action / bare', () => pushRows('containerd', undefined))),
    ...(await guarded('fixed cost', tinyRow)),
    ...(await guarded('signing and attestations', signingRows)),
  ];
}
