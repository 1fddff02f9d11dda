// berth/build main step: orchestration only; each decision lives in a small module.
import * as core from '@actions/core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../lib/action/exec.js';
import { contextFromEnv, runUrl, type GitHubContext } from '../../../lib/action/github.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { dockerConfigLogin } from '../../../lib/tools/docker-config.js';
import { parseImageRef, remoteCompressedSize } from '../../../lib/tools/docker.js';
import {
  cacheSettings,
  loadedImage,
  pushedImage,
  registryImage,
  runBuild,
  type BuiltImage,
} from './build.js';
import { imageChecks } from './checks.js';
import type { CacheBackend } from './constants.js';
import { getInputs, type Inputs } from './inputs.js';
import { prepareLocalCache, rotateLocalCache } from './local-cache.js';
import { setImageOutputs, setPushOutputs } from './outputs.js';
import { ProgressTracker } from './progress.js';
import { loadPushed, tagPushed } from './promote.js';
import { loginOnce, prepareBuilder } from './setup.js';
import { signPushed, type Signed } from './sign.js';
import { summaryMarkdown } from './summary.js';
import { computeTags } from './tags.js';

interface Made {
  built: BuiltImage;
  backend: CacheBackend | 'none';
  /** the builder that built it; undefined for an image pushed by an earlier step */
  builder?: string;
}

/** Builds the image (pushed by digest, or loaded) and reads back what it produced. */
async function buildImage(
  inputs: Inputs,
  ctx: GitHubContext,
  refs: string[],
  version: string,
  work: string,
): Promise<Made> {
  const { backend, builder } = await core.group('Docker and buildx', () => prepareBuilder(inputs));
  if (backend === 'local') prepareLocalCache(inputs['cache-dir']);
  const pushing = inputs.push !== 'false';
  const cache = cacheSettings(inputs, backend, refs[0]!);
  const tracker = new ProgressTracker();
  const builderId = ctx.runId && ctx.repository ? runUrl(ctx) : undefined;
  await core.group(`Build ${pushing ? `${inputs.image} (pushed by digest)` : refs[0]}`, () =>
    runBuild(inputs, ctx, { builder, builderId, refs, version, cache, work }, tracker),
  );
  if (backend === 'local') rotateLocalCache(inputs['cache-dir']);
  const built = pushing
    ? await core.group('Read the pushed image back', () => pushedImage(work, inputs.image, tracker))
    : await loadedImage(work, refs[0]!, tracker);
  return { built, backend, builder };
}

/** An image an earlier step pushed by digest (`from-digest`): read back to be checked, signed, tagged. */
async function earlierImage(inputs: Inputs, digest: string): Promise<Made> {
  if (inputs['registry-username'] && inputs['registry-password']) await loginOnce(inputs);
  const built = await core.group(`Read ${inputs.image}@${digest}`, () => registryImage(inputs.image, digest));
  return { built, backend: 'none' };
}

/** The registry login the registry client uses: the inputs', else the one `docker login` stored. */
function registryLogin(inputs: Inputs): { username: string; password: string } | undefined {
  if (inputs['registry-username'] && inputs['registry-password'])
    return { username: inputs['registry-username'], password: inputs['registry-password'] };
  return dockerConfigLogin(parseImageRef(inputs.image)!.registry);
}

/**
 * A digest that passed the checks: signed (before any tag: a failed signature leaves no tag), tagged,
 * and pulled back into the engine when it is also to be loaded.
 */
async function releaseDigest(
  inputs: Inputs,
  r: { builder?: string; built: BuiltImage; digest: string; refs: string[]; work: string },
): Promise<Signed | undefined> {
  const pushed = r.built.pushed!;
  const signed =
    inputs['cosign-key'] || inputs.keyless
      ? await core.group('Sign with cosign', () => signPushed(inputs, r.work, pushed))
      : undefined;
  if (inputs.push === 'true') {
    const target = {
      image: inputs.image,
      digest: r.digest,
      index: pushed.index,
      credentials: registryLogin(inputs),
    };
    await core.group(`Tag ${r.refs.length} tag(s)`, () => tagPushed(r.builder, target, r.refs));
  }
  if (inputs.load) await core.group('Load into the engine', () => loadPushed(inputs.image, r.digest, r.refs));
  return signed;
}

export async function main(): Promise<void> {
  const inputs = getInputs();
  const ctx = contextFromEnv();
  const computed =
    inputs.tags.length > 0 ? { tags: inputs.tags, version: inputs.tags[0]! } : computeTags(ctx);
  const refs = computed.tags.map((tag) => `${inputs.image}:${tag}`);
  core.info(`Image ${inputs.image}, tags: ${computed.tags.join(', ')}`);
  const previous = inputs.push === 'true' ? remoteCompressedSize(refs[0]!).catch(() => undefined) : undefined;
  const work = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'berth-build-'));
  const fromDigest = inputs['from-digest'];
  const { built, backend, builder } = fromDigest
    ? await earlierImage(inputs, fromDigest)
    : await buildImage(inputs, ctx, refs, computed.version, work);

  setImageOutputs(inputs.image, refs, built);
  const checks = imageChecks(built.subjects, inputs['max-size'], inputs['require-non-root']);
  if (checks.warning) core.warning(checks.warning);
  const passed = checks.failures.length === 0;
  const digest = built.pushed?.digest;
  let signed: Signed | undefined;
  let failure: Error | undefined;
  if (passed && digest) {
    // The summary says why, when signing, tagging or loading fails: the error is thrown after it.
    try {
      signed = await releaseDigest(inputs, { builder, built, digest, refs, work });
    } catch (error) {
      failure = error as Error;
    }
  }
  const released = passed && !failure ? digest : undefined;
  setPushOutputs(inputs.image, refs, built, released, signed);

  if (!inputs.load && inputs.push === 'false') {
    // Untag only: layers stay in the build cache, the runner's image list stays clean.
    await run('docker', ['image', 'rm', '--', ...refs], { silent: true, ignoreReturnCode: true });
  }
  await core.summary
    .addRaw(
      summaryMarkdown({
        image: inputs.image,
        refs,
        push: inputs.push,
        digest: released,
        imageId: built.imageId,
        size: built.size,
        compressedSize: released ? built.pushed!.platforms[0]!.size : undefined,
        previousCompressedSize: await previous,
        steps: built.steps,
        cacheBackend: backend,
        builder: fromDigest
          ? { words: 'none: pushed earlier by digest' }
          : builder
            ? { name: builder }
            : { words: "buildx's current builder" },
        platforms: built.pushed?.platforms.map((p) => p.platform) ?? [],
        attestations: built.pushed?.attestations ?? [],
        signed,
        checks: checks.lines,
        failure: failure && oneLine(failure.message),
      }),
    )
    .write();
  if (failure) throw failure;
  if (!passed) throw new Error(checks.failures.join('; '));
  if (!fromDigest)
    core.info(`Cache: ${built.steps.cached} of ${built.steps.steps} build steps cached (${backend})`);
}
