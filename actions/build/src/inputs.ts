// berth/build's inputs: the typed interface (keys as in action.yml) and getInputs(), the only
// place that reads them, checks them against the workspace and says which input is wrong.
import { maskSecret } from '../../../lib/action/secrets.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseImageRef, repositoryName } from '../../../lib/tools/docker.js';
import {
  getBooleanInput,
  getByteSizeInput,
  getEnumInput,
  getListInput,
  getString,
  getKeyValueInput,
  inputError,
} from '../../../lib/action/inputs.js';
import { getRegistryCredentials } from '../../../lib/action/input-checks.js';
import { defaultCacheScope } from './cache.js';
import { stageNames } from './dockerfile.js';
import {
  CACHE_BACKENDS,
  CACHE_MODES,
  Inputs as I,
  NON_ROOT_POLICIES,
  PUSH_MODES,
  type CacheBackend,
  type PushMode,
} from './constants.js';
import {
  getBuilderInputs,
  getSigningInputs,
  type BuilderInputs,
  type SigningInputs,
} from './inputs-supply.js';

export interface Inputs extends BuilderInputs, SigningInputs {
  context: string;
  file: string;
  target?: string;
  'build-args': string[];
  platforms: string[];
  /** id -> value; every value is masked */
  secrets: Record<string, string>;
  /** `registry/repository`, no tag */
  image: string;
  /** tag names; empty means computed from git */
  tags: string[];
  labels: string[];
  push: PushMode;
  load: boolean;
  'registry-username'?: string;
  'registry-password'?: string;
  /** undefined: chosen by the runner's cache service and buildx version (chooseCacheBackend) */
  cache?: CacheBackend;
  'cache-ref': string;
  'cache-dir': string;
  'cache-mode': 'max' | 'min';
  'cache-scope': string;
  /** bytes */
  'max-size'?: number;
  'require-non-root': 'error' | 'warn' | 'off';
  /** an image pushed earlier by digest: checked, signed and tagged, not built */
  'from-digest'?: string;
}

const TAG = /^[\w][\w.-]{0,127}$/;
/** A build-arg or label key: nothing buildx could read as an option. */
const KEY = /^[A-Za-z0-9_][^=\s]*=/;
/** A gha cache scope: it is pasted into buildx's comma-separated `type=gha,scope=...`. */
const CACHE_SCOPE = /^[A-Za-z0-9._-]+$/;
/** `os/arch[/variant]`, as buildx reads `--platform`. */
const PLATFORM = /^[a-z0-9_]+\/[a-z0-9_]+(?:\/[a-z0-9_.]+)?$/;

function keyValueList(name: string, items: string[]): string[] {
  for (const [i, item] of items.entries()) {
    if (!KEY.test(item))
      throw inputError(name, `line ${i + 1} is not KEY=VALUE (a key starts with a letter, digit or _)`);
  }
  return items;
}

function platformList(name: string, items: string[]): string[] {
  for (const item of items) {
    if (!PLATFORM.test(item))
      throw inputError(name, `${JSON.stringify(item)} is not a platform like linux/amd64`);
  }
  return items;
}

/** The build context, the Dockerfile and its target stage, checked against the workspace. */
function getDockerfileInputs(workspace: string): Pick<Inputs, 'context' | 'file' | 'target'> {
  const context = resolve(workspace, getString(I.Context, { default: '.' }));
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    throw inputError(I.Context, `directory ${context} does not exist`);
  }
  const fileInput = getString(I.File);
  const file = fileInput
    ? isAbsolute(fileInput)
      ? fileInput
      : resolve(workspace, fileInput)
    : join(context, 'Dockerfile');
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw inputError(I.File, `Dockerfile ${file} does not exist`);
  }
  const target = getString(I.Target) || undefined;
  if (target) {
    const stages = stageNames(readFileSync(file, 'utf8'));
    if (!stages.includes(target.toLowerCase())) {
      throw inputError(
        I.Target,
        `stage "${target}" is not in ${file} (its stages: ${stages.join(', ') || 'none named'})`,
      );
    }
  }
  return { context, file, target };
}

/** The image repository (no tag, no digest) and the tag names. */
function getImageInputs(): Pick<Inputs, 'image' | 'tags'> {
  const imageText = getString(I.Image, { required: true });
  const image = parseImageRef(imageText);
  if (!image || image.tag || image.digest || imageText !== imageText.toLowerCase()) {
    throw inputError(
      I.Image,
      `"${imageText}" is not a lower-case image repository without tag or digest (example: ghcr.io/org/api)`,
    );
  }
  const tags = getListInput(I.Tags);
  for (const tag of tags) {
    if (!TAG.test(tag)) {
      const hint =
        tag.includes(':') || tag.includes('/')
          ? '; give tag names only, the repository comes from "image"'
          : '';
      throw inputError(I.Tags, `"${tag}" is not a valid tag${hint}`);
    }
  }
  return { image: repositoryName(image), tags };
}

/** A digest pushed earlier (`push: digest`) to check, sign and tag instead of building. */
function getFromDigest(): string | undefined {
  const digest = getString(I.FromDigest) || undefined;
  if (digest && !/^sha256:[0-9a-f]{64}$/.test(digest))
    throw inputError(I.FromDigest, `${JSON.stringify(digest)} is not a digest (sha256:<64 hex>)`);
  return digest;
}

/** The cache backend (undefined: chosen later) and where it keeps the cache. */
function getCacheInputs(
  env: Record<string, string | undefined>,
  workspace: string,
  repository: string,
  target: string | undefined,
): Pick<Inputs, 'cache' | 'cache-ref' | 'cache-dir' | 'cache-scope'> {
  const cacheInput = getString(I.Cache);
  const cache = cacheInput ? getEnumInput(I.Cache, CACHE_BACKENDS, { required: true }) : undefined;
  // Each of these ends up inside buildx's comma-separated `--cache-from`/`--cache-to` specs, where a
  // `,` or `=` would add keys of the user's choosing (`url=` sends the runtime token elsewhere).
  const scope = getString(I.CacheScope) || defaultCacheScope(repository, target);
  if (!CACHE_SCOPE.test(scope))
    throw inputError(
      I.CacheScope,
      `${JSON.stringify(scope)} may only hold letters, digits, ".", "_" and "-"`,
    );
  const cacheRef = getString(I.CacheRef) || `${repository}:buildcache`;
  const ref = parseImageRef(cacheRef);
  if (!ref || ref.digest || cacheRef.trim() !== cacheRef)
    throw inputError(
      I.CacheRef,
      `${JSON.stringify(cacheRef)} is not an image reference (registry/repository:tag)`,
    );
  const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const cacheDirInput = getString(I.CacheDir);
  const cacheDir = cacheDirInput
    ? resolve(workspace, cacheDirInput)
    : join(cacheHome, 'berth', 'buildx', scope);
  if (/[,="\n\r]/.test(cacheDir))
    throw inputError(
      I.CacheDir,
      `${JSON.stringify(cacheDir)} has a ",", "=", quote or line break, which buildx's cache options cannot hold`,
    );
  return { cache, 'cache-ref': cacheRef, 'cache-dir': cacheDir, 'cache-scope': scope };
}

export function getInputs(env: Record<string, string | undefined> = process.env): Inputs {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const fromDigest = getFromDigest();
  // An image pushed earlier is not built again: no Dockerfile to check.
  const dockerfile = fromDigest
    ? { context: workspace, file: '', target: undefined }
    : getDockerfileInputs(workspace);
  const { image, tags } = getImageInputs();
  const push = getEnumInput(I.Push, PUSH_MODES, { default: 'false' });
  if (fromDigest && push === 'false')
    throw inputError(
      I.FromDigest,
      `tags and signs an image already pushed: set ${I.Push} to true (or digest to sign only)`,
    );

  const secrets = getKeyValueInput(I.Secrets);
  for (const [id, value] of Object.entries(secrets)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw inputError(I.Secrets, `"${id}" is not a valid secret id`);
    maskSecret(value);
  }

  const credentials = getRegistryCredentials();
  const cache = getCacheInputs(env, workspace, image, dockerfile.target);

  return {
    ...dockerfile,
    'build-args': keyValueList(I.BuildArgs, getListInput(I.BuildArgs, { newlinesOnly: true })),
    platforms: platformList(I.Platforms, getListInput(I.Platforms)),
    secrets,
    image,
    tags,
    labels: keyValueList(I.Labels, getListInput(I.Labels, { newlinesOnly: true })),
    push,
    'from-digest': fromDigest,
    load: getBooleanInput(I.Load, { default: false }),
    'registry-username': credentials?.username,
    'registry-password': credentials?.password,
    cache: cache.cache,
    'cache-ref': cache['cache-ref'],
    'cache-dir': cache['cache-dir'],
    'cache-mode': getEnumInput(I.CacheMode, CACHE_MODES, { default: 'max' }),
    'cache-scope': cache['cache-scope'],
    'max-size': getByteSizeInput(I.MaxSize),
    'require-non-root': getEnumInput(I.RequireNonRoot, NON_ROOT_POLICIES, { default: 'error' }),
    ...getBuilderInputs(workspace),
    ...getSigningInputs(push, env),
  };
}
