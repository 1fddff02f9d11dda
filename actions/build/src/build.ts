// The build itself: `docker buildx build` with the secrets in 0600 files that live only as long as
// it runs, its progress read for the cache statistics, and what it produced read back.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../../lib/action/exec.js';
import type { GitHubContext } from '../../../lib/action/github.js';
import { imageSize, inspectLocalImage, type LocalImage } from '../../../lib/tools/docker.js';
import { buildxArgs, mergeLabels, ociLabels, type BuildMetadata } from './buildx.js';
import type { CacheSettings } from './cache.js';
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
      throw new Error(`the build failed: ${tracker.failure() ?? `buildx exited with ${result.exitCode}`}`);
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
  local: LocalImage;
  /** bytes, unpacked */
  size: number;
}

/** What the build produced: buildx's metadata, the step statistics, the image in the local store. */
export async function builtImage(work: string, ref: string, tracker: ProgressTracker): Promise<BuiltImage> {
  const metadata = JSON.parse(readFileSync(join(work, 'metadata.json'), 'utf8')) as BuildMetadata;
  const steps = tracker.stats();
  const local = await inspectLocalImage(ref);
  if (!local) throw new Error(`the build finished but ${ref} is not in the local image store`);
  const size = await imageSize(ref);
  return { metadata, steps, local, size };
}
