// Free space for the pull: the pinned images the host lacks, measured by their registry (compressed
// layer sizes for the host's platform), against Docker's root dir. When a registry cannot say, a
// fixed floor stands in, and the log says so: an unreachable registry never fails the deploy here.
import { parseImageRef } from '../../../lib/tools/docker.js';
import { compressedImageSize, type Platform, type RegistryOptions } from '../../../lib/tools/registry.js';
import type { Inputs } from './inputs.js';

/** Unpacked layers take more room than the compressed ones the registry reports; 2.5 is typical for gzip. */
export const UNPACK_FACTOR = 2.5;
/** Room beyond the unpacked images: containers' writable layers, logs, the engine's metadata. */
export const PULL_MARGIN_KB = 256 * 1024;
/** What is kept free for a pull when the registry could not be asked. */
export const PULL_FLOOR_KB = 2 * 1024 * 1024;

export interface ImageSize {
  ref: string;
  /** compressed bytes */
  bytes: number;
}

/** The space a pull needs: measured sizes, or undefined for the floor. */
export function pullNeedKb(sizes: ImageSize[] | undefined): number {
  if (sizes === undefined) return PULL_FLOOR_KB;
  const bytes = sizes.reduce((sum, s) => sum + s.bytes, 0);
  return Math.ceil((bytes * UNPACK_FACTOR) / 1024) + PULL_MARGIN_KB;
}

const gib = (kb: number) => `${(kb / 1024 / 1024).toFixed(1)} GiB`;
const mib = (bytes: number) => `${Math.ceil(bytes / 1024 / 1024)} MiB`;

/** The failure when Docker's root dir is short of what the pull needs, else undefined. */
export function pullSpaceProblem(
  root: string,
  freeKb: number,
  images: string[],
  sizes: ImageSize[] | undefined,
): string | undefined {
  const need = pullNeedKb(sizes);
  if (images.length === 0 || freeKb >= need) return undefined;
  const fix = 'free space on the host (docker image prune -a) or grow the disk';
  if (sizes === undefined) {
    return (
      `${root} (Docker's root dir) has ${gib(freeKb)} free, under the ${gib(need)} kept for pulling ` +
      `${images.join(', ')} (their registry could not be asked): ${fix}`
    );
  }
  const listed = sizes.map((s) => `${s.ref} (${mib(s.bytes)} compressed)`).join(', ');
  return (
    `${root} (Docker's root dir) has ${gib(freeKb)} free; pulling ${listed} needs ${gib(need)} ` +
    `(${UNPACK_FACTOR} x the compressed size + ${gib(PULL_MARGIN_KB)}): ${fix}`
  );
}

/** Registry options for `ref`: the `registry` input's credentials only for images on that registry. */
export function registryOptionsFor(ref: string, inputs: Inputs): RegistryOptions {
  const registry = parseImageRef(ref)?.registry;
  const same = inputs.registry !== undefined && registry === inputs.registry;
  const username = inputs['registry-username'];
  const password = inputs['registry-password'];
  return same && username && password ? { credentials: { username, password } } : {};
}

/**
 * Asks the registries for the sizes of `images` on `platform`; undefined (and why, through `log`)
 * when any of them cannot say, for the caller to keep the floor.
 */
export async function measurePull(
  images: string[],
  platform: Platform | undefined,
  inputs: Inputs,
  log: (line: string) => void,
): Promise<ImageSize[] | undefined> {
  if (images.length === 0) return [];
  if (!platform) {
    log(`the host did not report its platform: keeping ${gib(PULL_FLOOR_KB)} free for the pull`);
    return undefined;
  }
  const sizes: ImageSize[] = [];
  for (const ref of images) {
    try {
      sizes.push({ ref, bytes: await compressedImageSize(ref, platform, registryOptionsFor(ref, inputs)) });
    } catch (e) {
      const why =
        e instanceof Error
          ? e.cause instanceof Error
            ? `${e.message}: ${e.cause.message}`
            : e.message
          : String(e);
      log(
        `the registry could not say the size of ${ref} (${why}): keeping ${gib(PULL_FLOOR_KB)} free for the pull`,
      );
      return undefined;
    }
  }
  for (const s of sizes) log(`${s.ref}: ${mib(s.bytes)} compressed`);
  return sizes;
}
