// The build itself: `docker buildx build` with the secrets in 0600 files that live only as long as
// it runs, its progress read for the cache statistics, and what it produced read back.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/action/exec.js';
import type { GitHubContext } from '../../../lib/action/github.js';
import { imageSize, inspectLocalImage } from '../../../lib/tools/docker.js';
import { buildFailureMessage } from './buildx-errors.js';
import { buildxArgs, mergeLabels, ociLabels, type BuildMetadata } from './buildx.js';
import type { CacheSettings } from './cache.js';
import type { CheckSubject } from './checks.js';
import { readPushedImage, type PushedImage } from './pushed.js';
import type { CacheBackend } from './constants.js';
import type { Inputs } from './inputs.js';
import type { ProgressTracker, StepStats } from './progress.js';

export function cacheSettings(inputs: Inputs, backend: CacheBackend, inlineFrom: string): CacheSettings {
  return {
    backend,
    mode: inputs['cache-mode'],
    scope: inputs['cache-scope'],
    ref: inputs['cache-ref'],
    dir: inputs['cache-dir'],
    dirExists: existsSync(join(inputs['cache-dir'], 'index.json')),
    inlineFrom,
  };
}

export interface BuildRequest {
  builder?: string;
  /** provenance's builder id (the workflow run's URL) */
  builderId?: string;
  refs: string[];
  /** the version label (org.opencontainers.image.version) */
  version: string;
  cache: CacheSettings;
  /** a private directory for the metadata file and the secret files */
  work: string;
}

/** Runs the build, feeding its output to `tracker`; throws with the failing step when it fails. */
export async function runBuild(
  inputs: Inputs,
  ctx: GitHubContext,
  request: BuildRequest,
  tracker: ProgressTracker,
): Promise<void> {
  try {
    const secretFiles = writeSecretFiles(join(request.work, 'secrets'), inputs.secrets);
    const labels = mergeLabels(ociLabels(ctx, inputs.image, request.version, new Date()), inputs.labels);
    const args = buildxArgs(inputs, {
      builder: request.builder,
      builderId: request.builderId,
      refs: request.refs,
      labels,
      metadataFile: join(request.work, 'metadata.json'),
      secretFiles,
      cache: request.cache,
    });
    // buildx needs the runner's cache-service variables for gha; they stay in this local process.
    const result = await run('docker', args, { ignoreReturnCode: true });
    for (const line of `${result.stderr}\n${result.stdout}`.split('\n')) tracker.line(line);
    if (result.exitCode !== 0) {
      throw new Error(buildFailureMessage(result.stderr, tracker.failure(), result.exitCode));
    }
  } finally {
    rmSync(join(request.work, 'secrets'), { recursive: true, force: true });
  }
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

export interface BuiltImage {
  metadata: BuildMetadata;
  steps: StepStats;
  /** the image ID (config digest): the loaded image's, or the first platform's of a pushed one */
  imageId: string;
  /** what the checks look at: each platform of the pushed image, or the loaded image */
  subjects: CheckSubject[];
  /** the largest subject's size */
  size: number;
  /** what the registry holds under the pushed digest */
  pushed?: PushedImage;
}

function readMetadata(work: string): BuildMetadata {
  return JSON.parse(readFileSync(join(work, 'metadata.json'), 'utf8')) as BuildMetadata;
}

/** The image loaded into the engine under `ref`: its ID, user and unpacked size. */
export async function loadedImage(work: string, ref: string, tracker: ProgressTracker): Promise<BuiltImage> {
  const [local, size] = await Promise.all([inspectLocalImage(ref), imageSize(ref)]);
  if (!local) throw new Error(`the build finished but ${ref} is not in the local image store`);
  return {
    metadata: readMetadata(work),
    steps: tracker.stats(),
    imageId: local.id,
    subjects: [{ size, user: local.user }],
    size,
  };
}

/** The image BuildKit pushed by digest, read back from the registry platform by platform. */
export async function pushedImage(
  work: string,
  image: string,
  tracker: ProgressTracker,
): Promise<BuiltImage> {
  const metadata = readMetadata(work);
  const digest = metadata['containerimage.digest'];
  if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error('the build finished but buildx reported no pushed digest');
  return registryImage(image, digest, metadata, tracker.stats());
}

/** An image in the registry under `digest` (pushed by this step or an earlier one), per platform. */
export async function registryImage(
  image: string,
  digest: string,
  metadata: BuildMetadata = {},
  steps: StepStats = { steps: 0, cached: 0, rebuilt: [], ratio: 1 },
): Promise<BuiltImage> {
  const pushed = await readPushedImage(image, digest);
  if (pushed.platforms.length === 0) throw new Error(`${image}@${digest} holds no image`);
  const subjects = pushed.platforms.map((p) => ({ platform: p.platform, size: p.size, user: p.user }));
  return {
    metadata,
    steps,
    imageId: pushed.platforms[0]!.configDigest,
    subjects,
    size: Math.max(...subjects.map((s) => s.size)),
    pushed,
  };
}
