// berth/build main step: orchestration only; each decision lives in a small module.
import * as core from '@actions/core';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildxVersion,
  imageSize,
  inspectLocalImage,
  login,
  parseImageRef,
  push,
  remoteCompressedSize,
} from '../../../lib/tools/docker.js';
import { run } from '../../../lib/action/exec.js';
import { contextFromEnv } from '../../../lib/action/github.js';
import { buildxArgs, mergeLabels, ociLabels, type BuildMetadata } from './buildx.js';
import { chooseCacheBackend, localCacheStaging, type CacheSettings } from './cache.js';
import { checkSize, checkUser } from './checks.js';
import { Outputs, State } from './constants.js';
import { getInputs } from './inputs.js';
import { ProgressTracker } from './progress.js';
import { summaryMarkdown } from './summary.js';
import { computeTags } from './tags.js';

export async function main(): Promise<void> {
  const inputs = getInputs();
  const ctx = contextFromEnv();
  const computed =
    inputs.tags.length > 0 ? { tags: inputs.tags, version: inputs.tags[0]! } : computeTags(ctx);
  const refs = computed.tags.map((tag) => `${inputs.image}:${tag}`);
  core.info(`Image ${inputs.image}, tags: ${computed.tags.join(', ')}`);

  const backend = await core.group('Docker and buildx', async () => {
    const version = await buildxVersion();
    core.info(`buildx ${version}`);
    const choice = chooseCacheBackend(inputs.cache, process.env, version);
    if (choice.warning) core.warning(choice.warning);
    if (inputs['registry-username'] && inputs['registry-password']) {
      const registry = parseImageRef(inputs.image)!.registry;
      await login(registry, inputs['registry-username'], inputs['registry-password']);
      core.saveState(State.LoggedInRegistry, registry);
      core.info(`Logged in to ${registry} as ${inputs['registry-username']}`);
    }
    return choice.backend;
  });

  const previousCompressedSize = inputs.push ? await remoteCompressedSize(refs[0]!) : undefined;
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'berth-build-'));
  const cache: CacheSettings = {
    backend,
    mode: inputs['cache-mode'],
    scope: inputs['cache-scope'],
    ref: inputs['cache-ref'],
    dir: inputs['cache-dir'],
    dirExists: existsSync(join(inputs['cache-dir'], 'index.json')),
    inlineFrom: refs[0]!,
  };

  const tracker = new ProgressTracker();
  try {
    await core.group(`Build ${refs[0]}`, async () => {
      const secretFiles = writeSecretFiles(join(work, 'secrets'), inputs.secrets);
      const labels = mergeLabels(ociLabels(ctx, inputs.image, computed.version, new Date()), inputs.labels);
      const args = buildxArgs(inputs, {
        refs,
        labels,
        metadataFile: join(work, 'metadata.json'),
        secretFiles,
        cache,
      });
      // buildx needs the runner's cache-service variables for gha; they stay in this local process.
      const result = await run('docker', args, { ignoreReturnCode: true });
      for (const line of `${result.stderr}\n${result.stdout}`.split('\n')) tracker.line(line);
      if (result.exitCode !== 0) {
        throw new Error(`the build failed: ${tracker.failure() ?? `buildx exited with ${result.exitCode}`}`);
      }
    });
  } finally {
    rmSync(join(work, 'secrets'), { recursive: true, force: true });
  }
  if (backend === 'local') rotateLocalCache(inputs['cache-dir']);

  const metadata = JSON.parse(readFileSync(join(work, 'metadata.json'), 'utf8')) as BuildMetadata;
  const steps = tracker.stats();
  const local = await inspectLocalImage(refs[0]!);
  if (!local) throw new Error(`the build finished but ${refs[0]} is not in the local image store`);
  const size = await imageSize(refs[0]!);
  core.setOutput(Outputs.Image, inputs.image);
  core.setOutput(Outputs.Tags, refs.join('\n'));
  core.setOutput(Outputs.ImageId, local.id);
  core.setOutput(Outputs.Size, String(size));
  core.setOutput(Outputs.CacheHitRatio, String(Math.round(steps.ratio * 1000) / 1000));

  const checks = { size: checkSize(size, inputs['max-size']), user: checkUser(local.user) };
  const failures: string[] = [];
  if (!checks.size.ok) failures.push(checks.size.message);
  if (!checks.user.ok && inputs['require-non-root'] === 'error') failures.push(checks.user.message);
  if (!checks.user.ok && inputs['require-non-root'] === 'warn') core.warning(checks.user.message);
  const checkLines = [
    `${checks.size.ok ? '✅' : '❌'} ${checks.size.message}`,
    inputs['require-non-root'] === 'off'
      ? 'non-root check off'
      : `${checks.user.ok ? '✅' : inputs['require-non-root'] === 'warn' ? '⚠️' : '❌'} ${checks.user.message}`,
  ];

  let digest: string | undefined;
  let compressedSize: number | undefined;
  if (failures.length === 0 && inputs.push) {
    await core.group(`Push ${refs.length} tag(s)`, async () => {
      const digests = new Set<string>();
      for (const ref of refs) digests.add(await push(ref));
      if (digests.size !== 1)
        throw new Error(`the registry reports different digests for one image: ${[...digests].join(', ')}`);
      digest = [...digests][0]!;
      compressedSize = await remoteCompressedSize(`${inputs.image}@${digest}`);
    });
  }
  core.setOutput(Outputs.Digest, digest ?? '');
  core.setOutput(Outputs.Ref, digest ? `${inputs.image}@${digest}` : refs[0]!);
  core.setOutput(
    Outputs.Metadata,
    JSON.stringify({
      ...metadata,
      image: inputs.image,
      tags: refs,
      digest,
      size,
      'cache-hit-ratio': steps.ratio,
      steps,
    }),
  );

  if (!inputs.load) {
    // Untag only: layers stay in the build cache, the runner's image list stays clean.
    await run('docker', ['image', 'rm', ...refs], { silent: true, ignoreReturnCode: true });
  }
  await core.summary
    .addRaw(
      summaryMarkdown({
        image: inputs.image,
        refs,
        pushed: digest !== undefined,
        digest,
        imageId: local.id,
        size,
        compressedSize,
        previousCompressedSize,
        steps,
        cacheBackend: backend,
        checks: failures.length > 0 ? [...checkLines, `**Not pushed:** ${failures.join('; ')}`] : checkLines,
      }),
    )
    .write();
  if (failures.length > 0) throw new Error(failures.join('; '));
  core.info(`Cache: ${steps.cached} of ${steps.steps} build steps cached (${backend})`);
}

function writeSecretFiles(dir: string, secrets: Record<string, string>): Record<string, string> {
  const files: Record<string, string> = {};
  if (Object.keys(secrets).length === 0) return files;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [id, value] of Object.entries(secrets)) {
    const file = join(dir, id);
    writeFileSync(file, value, { mode: 0o600 });
    chmodSync(file, 0o600);
    files[id] = file;
  }
  return files;
}

/** buildx only adds to a local cache; replace the old directory with the one this build wrote. */
function rotateLocalCache(dir: string): void {
  const staging = localCacheStaging(dir);
  if (!existsSync(staging)) return;
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}
