// What the registry holds under the digest BuildKit pushed: one image per platform (its compressed
// size from the manifest, its user from the config) and the attestation manifests beside them.
// Every answer is untrusted: parsed through the registry module's checked descriptors.
import { imageFactsFromConfig, imagetoolsInspect } from '../../../lib/tools/docker.js';
import { manifestSize } from '../../../lib/tools/registry.js';

export interface PlatformImage {
  /** `linux/amd64`, `linux/arm/v7` */
  platform: string;
  /** the platform manifest's digest */
  digest: string;
  /** the config digest (what the engine calls the image ID) */
  configDigest: string;
  /** compressed bytes: config plus layers */
  size: number;
  /** Config.User; empty means root */
  user: string;
}

export interface PushedImage {
  digest: string;
  /** whether the digest names an index (several platforms, or attestations beside the image) */
  index: boolean;
  platforms: PlatformImage[];
  /** predicate types of the attestations stored with the image, e.g. https://slsa.dev/provenance/v0.2 */
  attestations: string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const PLATFORM_WORD = /^[a-z0-9_.]+$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `os/architecture[/variant]` from an index entry's platform or a config; undefined when not plain words. */
function platformName(p: Json): string | undefined {
  const words = [p.os, p.architecture, p.variant].filter((w) => w !== undefined && w !== '');
  if (words.length < 2 || !words.every((w) => typeof w === 'string' && PLATFORM_WORD.test(w)))
    return undefined;
  return words.join('/');
}

/** An index entry as this module reads it; undefined for what it does not know. */
export interface IndexEntry {
  digest: string;
  kind: 'image' | 'attestation';
  platform?: string;
}

export function indexEntries(index: unknown): IndexEntry[] {
  if (!isObject(index) || !Array.isArray(index.manifests)) throw new Error('the index lists no manifests');
  return index.manifests.map((m, i) => {
    if (!isObject(m) || typeof m.digest !== 'string' || !DIGEST.test(m.digest))
      throw new Error(`index entry ${i} has no valid digest`);
    const annotations = isObject(m.annotations) ? m.annotations : {};
    if (annotations['vnd.docker.reference.type'] === 'attestation-manifest')
      return { digest: m.digest, kind: 'attestation' as const };
    const platform = platformName(isObject(m.platform) ? m.platform : {});
    if (!platform) throw new Error(`index entry ${i} has no valid platform`);
    return { digest: m.digest, kind: 'image' as const, platform };
  });
}

/** Predicate types named by an attestation manifest's layers. */
export function predicateTypes(manifest: unknown): string[] {
  if (!isObject(manifest) || !Array.isArray(manifest.layers))
    throw new Error('the attestation lists no layers');
  return manifest.layers.flatMap((layer) => {
    const type =
      isObject(layer) && isObject(layer.annotations)
        ? layer.annotations['in-toto.io/predicate-type']
        : undefined;
    return typeof type === 'string' && /^https?:\/\/[\w./@-]+$/.test(type) ? [type] : [];
  });
}

/** The config's user and digest, from `imagetools inspect --format '{{json .Image}}'` and the manifest. */
export function configFacts(manifest: unknown, configJson: string): { configDigest: string; user: string } {
  const digest = isObject(manifest) && isObject(manifest.config) ? manifest.config.digest : undefined;
  if (typeof digest !== 'string' || !DIGEST.test(digest))
    throw new Error('the manifest has no valid config digest');
  const config: unknown = JSON.parse(configJson);
  const inner = isObject(config) && isObject(config.config) ? config.config : {};
  const { user } = imageFactsFromConfig({ User: typeof inner.User === 'string' ? inner.User : undefined });
  return { configDigest: digest, user };
}

function platformOf(configJson: string): string {
  const config: unknown = JSON.parse(configJson);
  return (isObject(config) && platformName(config)) || 'unknown';
}

async function imagetools(ref: string, format?: string): Promise<string> {
  const r = await imagetoolsInspect(ref, format);
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}`;
    throw new Error(`cannot read ${ref} from the registry: ${why}`);
  }
  return r.stdout;
}

async function platformImage(image: string, digest: string, platform?: string): Promise<PlatformImage> {
  const ref = `${image}@${digest}`;
  const [raw, config] = await Promise.all([imagetools(ref), imagetools(ref, '{{json .Image}}')]);
  const manifest: unknown = JSON.parse(raw);
  return {
    platform: platform ?? platformOf(config),
    digest,
    ...configFacts(manifest, config),
    size: manifestSize(manifest),
  };
}

/** Reads `image@digest` back from the registry: every platform's image and the attestations. */
export async function readPushedImage(image: string, digest: string): Promise<PushedImage> {
  const top: unknown = JSON.parse(await imagetools(`${image}@${digest}`));
  if (!isObject(top) || !Array.isArray(top.manifests)) {
    return { digest, index: false, platforms: [await platformImage(image, digest)], attestations: [] };
  }
  const entries = indexEntries(top);
  const [platforms, attestations] = await Promise.all([
    Promise.all(
      entries.filter((e) => e.kind === 'image').map((e) => platformImage(image, e.digest, e.platform)),
    ),
    Promise.all(
      entries
        .filter((e) => e.kind === 'attestation')
        .map(async (e) => predicateTypes(JSON.parse(await imagetools(`${image}@${e.digest}`)))),
    ),
  ]);
  return { digest, index: true, platforms, attestations: [...new Set(attestations.flat())] };
}
