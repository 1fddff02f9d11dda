// berth/build main step: orchestration only; each decision lives in a small module.
import * as core from '@actions/core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../lib/action/exec.js';
import { contextFromEnv } from '../../../lib/action/github.js';
import { remoteCompressedSize } from '../../../lib/tools/docker.js';
import { builtImage, cacheSettings, runBuild } from './build.js';
import { imageChecks } from './checks.js';
import { getInputs } from './inputs.js';
import { prepareLocalCache, rotateLocalCache } from './local-cache.js';
import { setImageOutputs, setPushOutputs } from './outputs.js';
import { ProgressTracker } from './progress.js';
import { pushTags } from './push.js';
import { prepareBuilder } from './setup.js';
import { summaryMarkdown } from './summary.js';
import { computeTags } from './tags.js';

export async function main(): Promise<void> {
  const inputs = getInputs();
  const ctx = contextFromEnv();
  const computed =
    inputs.tags.length > 0 ? { tags: inputs.tags, version: inputs.tags[0]! } : computeTags(ctx);
  const refs = computed.tags.map((tag) => `${inputs.image}:${tag}`);
  core.info(`Image ${inputs.image}, tags: ${computed.tags.join(', ')}`);

  const backend = await core.group('Docker and buildx', () => prepareBuilder(inputs));
  if (backend === 'local') prepareLocalCache(inputs['cache-dir']);
  const previousCompressedSize = inputs.push ? await remoteCompressedSize(refs[0]!) : undefined;
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'berth-build-'));
  const cache = cacheSettings(inputs, backend, refs[0]!);
  const tracker = new ProgressTracker();
  await core.group(`Build ${refs[0]}`, () =>
    runBuild(inputs, ctx, { refs, version: computed.version, cache, work }, tracker),
  );
  if (backend === 'local') rotateLocalCache(inputs['cache-dir']);

  const built = await builtImage(work, refs[0]!, tracker);
  setImageOutputs(inputs.image, refs, built);
  const checks = imageChecks(built.size, built.local.user, inputs['max-size'], inputs['require-non-root']);
  if (checks.warning) core.warning(checks.warning);
  const pushed =
    checks.failures.length === 0 && inputs.push
      ? await core.group(`Push ${refs.length} tag(s)`, () => pushTags(inputs.image, refs))
      : undefined;
  setPushOutputs(inputs.image, refs, built, pushed?.digest);

  if (!inputs.load) {
    // Untag only: layers stay in the build cache, the runner's image list stays clean.
    await run('docker', ['image', 'rm', '--', ...refs], { silent: true, ignoreReturnCode: true });
  }
  await core.summary
    .addRaw(
      summaryMarkdown({
        image: inputs.image,
        refs,
        pushed: pushed !== undefined,
        digest: pushed?.digest,
        imageId: built.local.id,
        size: built.size,
        compressedSize: pushed?.compressedSize,
        previousCompressedSize,
        steps: built.steps,
        cacheBackend: backend,
        checks: checks.lines,
      }),
    )
    .write();
  if (checks.failures.length > 0) throw new Error(checks.failures.join('; '));
  core.info(`Cache: ${built.steps.cached} of ${built.steps.steps} build steps cached (${backend})`);
}
