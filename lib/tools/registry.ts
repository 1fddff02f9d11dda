// A small client of the OCI distribution API: the compressed size of an image a registry holds,
// for one platform. Every answer is untrusted: bounded in bytes and time, sizes checked to be
// non-negative safe integers. HTTPS, except for loopback registries (plain HTTP, as docker allows).
// Credentials go in headers only, and only to the registry or the token realm it names.
import { createHash } from 'node:crypto';
import { parseImageRef } from './docker.js';

export interface Credentials {
  username: string;
  password: string;
}

/** `os/architecture[/variant]` in OCI names, e.g. linux/amd64 or linux/arm/v7. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

/** What a manifest or index says, once checked. */
type Descriptor = { digest: string; size: number; platform?: Platform };

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
const MAX_BODY = 4 * 1024 * 1024;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `docker info`'s OSType/Architecture (uname words, e.g. linux/x86_64) as OCI platform names. */
export function parsePlatform(text: string): Platform | undefined {
  const m = /^([a-z0-9]+)\/([A-Za-z0-9_]+)$/.exec(text.trim());
  if (!m) return undefined;
  const arch: Record<string, [string, string?]> = {
    x86_64: ['amd64'],
    amd64: ['amd64'],
    aarch64: ['arm64'],
    arm64: ['arm64'],
    armv7l: ['arm', 'v7'],
    armv6l: ['arm', 'v6'],
    i386: ['386'],
    i686: ['386'],
  };
  const [architecture, variant] = arch[m[2]!] ?? [m[2]!];
  return { os: m[1]!, architecture, variant };
}

/** Loopback registries speak plain HTTP, as docker treats them; every other one HTTPS. */
export function registryBaseUrl(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
  // Docker Hub's name is not its API host.
  const api = registry === 'docker.io' || registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
  return `${loopback ? 'http' : 'https'}://${api}`;
}

/** Parses `WWW-Authenticate: Bearer realm="...",service="...",scope="..."` (or Basic). */
export function parseChallenge(header: string | null): Challenge | undefined {
  const m = /^\s*(basic|bearer)\b\s*(.*)$/i.exec(header ?? '');
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))/g)) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  }
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkedSize(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(`${what} has no valid size`);
  }
  return v;
}

function descriptor(v: unknown, what: string): Descriptor {
  if (!isObject(v) || typeof v.digest !== 'string' || !DIGEST.test(v.digest)) {
    throw new Error(`${what} has no valid digest`);
  }
  const p = v.platform;
  const platform =
    isObject(p) && typeof p.os === 'string' && typeof p.architecture === 'string'
      ? {
          os: p.os,
          architecture: p.architecture,
          variant: typeof p.variant === 'string' ? p.variant : undefined,
        }
      : undefined;
  return { digest: v.digest, size: checkedSize(v.size, what), platform };
}

/** The index entry for `platform` (a missing variant matches any); never an attestation. */
export function pickPlatformManifest(index: unknown, platform: Platform): string | undefined {
  if (!isObject(index) || !Array.isArray(index.manifests)) throw new Error('the index lists no manifests');
  const entries = index.manifests.map((m, i) => descriptor(m, `index entry ${i}`));
  const match = (wantVariant: boolean) =>
    entries.find(
      (e) =>
        e.platform?.os === platform.os &&
        e.platform.architecture === platform.architecture &&
        (!wantVariant || !platform.variant || e.platform.variant === platform.variant),
    );
  return (match(true) ?? match(false))?.digest;
}

/** Compressed bytes of an image manifest: its config plus its layers. */
export function manifestSize(manifest: unknown): number {
  if (!isObject(manifest) || !Array.isArray(manifest.layers)) throw new Error('the manifest lists no layers');
  let sum = descriptor(manifest.config, 'the config').size;
  manifest.layers.forEach((l, i) => (sum += descriptor(l, `layer ${i}`).size));
  if (!Number.isSafeInteger(sum)) throw new Error('the layer sizes overflow');
  return sum;
}

async function boundedText(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) throw new Error(`an answer of ${declared} bytes is over ${MAX_BODY}`);
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = reader ? await reader.read() : { done: true as const, value: undefined };
    if (chunk.done) break;
    total += chunk.value.byteLength;
    if (total > MAX_BODY) {
      await reader?.cancel();
      throw new Error(`an answer over ${MAX_BODY} bytes`);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface RegistryOptions {
  credentials?: Credentials;
  /** per request */
  timeoutMs?: number;
  /** the token scope's actions: `pull` (default), or `pull,push` to write */
  actions?: 'pull' | 'pull,push';
}

/** One registry, one repository: fetches manifests, answering its auth challenge once. */
class Repository {
  private authorization: string | undefined;

  constructor(
    private readonly base: string,
    private readonly repository: string,
    private readonly options: RegistryOptions,
  ) {}

  private async get(url: string, headers: Record<string, string>, init: RequestInit = {}): Promise<Response> {
    return fetch(url, {
      ...init,
      headers,
      redirect: 'error',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
  }

  /** One request, answering the registry's auth challenge once (then kept for later requests). */
  private async request(
    url: string,
    headers: Record<string, string>,
    init: RequestInit = {},
  ): Promise<Response> {
    const withAuth = () => ({
      ...headers,
      ...(this.authorization ? { authorization: this.authorization } : {}),
    });
    let res = await this.get(url, withAuth(), init);
    if (res.status === 401 && this.authorization === undefined) {
      await res.body?.cancel();
      this.authorization = await this.answer(parseChallenge(res.headers.get('www-authenticate')));
      res = await this.get(url, withAuth(), init);
    }
    return res;
  }

  private basic(): string | undefined {
    const c = this.options.credentials;
    return c && `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  /** The Authorization header a 401 asks for: basic credentials, or a token from the realm. */
  private async answer(challenge: Challenge | undefined): Promise<string> {
    if (challenge?.scheme === 'basic' && this.options.credentials) return this.basic()!;
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) {
      throw new Error('the registry refused the request (401)');
    }
    const realm = new URL(challenge.params.realm);
    // The realm gets the credentials: HTTPS, unless the registry itself is plain loopback HTTP.
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.base.startsWith('http:'))) {
      throw new Error('the token realm is not HTTPS');
    }
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', `repository:${this.repository}:${this.options.actions ?? 'pull'}`);
    const basic = this.basic();
    const res = await this.get(realm.href, basic ? { authorization: basic } : {});
    if (!res.ok) throw new Error(`the token realm answered ${res.status}`);
    const body: unknown = JSON.parse(await boundedText(res));
    const token = isObject(body) ? (body.token ?? body.access_token) : undefined;
    if (typeof token !== 'string' || !/^[\w.~+/=-]+$/.test(token))
      throw new Error('the token realm sent no token');
    return `Bearer ${token}`;
  }

  /** A manifest's bytes as the registry holds them, and its media type. */
  async rawManifest(reference: string): Promise<{ body: string; mediaType: string }> {
    const url = `${this.base}/v2/${this.repository}/manifests/${reference}`;
    const res = await this.request(url, { accept: MANIFEST_TYPES });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`the registry answered ${res.status} for ${reference}`);
    }
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    return { body: await boundedText(res), mediaType };
  }

  async manifest(reference: string): Promise<unknown> {
    return JSON.parse((await this.rawManifest(reference)).body) as unknown;
  }

  /** Stores `body` under `tag`: the registry answers with the digest it now names. */
  async putManifest(tag: string, body: string, mediaType: string): Promise<string | undefined> {
    const url = `${this.base}/v2/${this.repository}/manifests/${tag}`;
    const res = await this.request(url, { 'content-type': mediaType }, { method: 'PUT', body });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the registry answered ${res.status} to storing ${tag}`);
    return res.headers.get('docker-content-digest') ?? undefined;
  }
}

/**
 * Tags `image@digest` with `tags` by storing the very manifest bytes under each tag (a carbon copy:
 * the digest stays, no blob moves), and returns nothing once the registry names the digest under each.
 */
export async function tagManifest(
  image: string,
  digest: string,
  tags: string[],
  options: RegistryOptions = {},
): Promise<void> {
  const parsed = parseImageRef(image);
  if (!parsed || !DIGEST.test(digest)) throw new Error('not an image and digest');
  const repo = new Repository(registryBaseUrl(parsed.registry), parsed.repository, {
    ...options,
    actions: 'pull,push',
  });
  const { body, mediaType } = await repo.rawManifest(digest);
  const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (actual !== digest)
    throw new Error(`the registry sent a manifest whose digest is ${actual}, not ${digest}`);
  if (!MANIFEST_TYPES.split(', ').includes(mediaType))
    throw new Error(`unexpected manifest type ${JSON.stringify(mediaType)}`);
  for (const tag of tags) {
    const named = await repo.putManifest(tag, body, mediaType);
    if (named !== undefined && named !== digest)
      throw new Error(`the registry stored ${tag} as ${named}, not ${digest}`);
  }
}

/**
 * Compressed bytes (config plus layers) of `ref` (`[registry/]repo[:tag][@digest]`) for `platform`
 * when it names an index. Throws, in words without secrets, when the registry cannot say.
 */
export async function compressedImageSize(
  ref: string,
  platform: Platform,
  options: RegistryOptions = {},
): Promise<number> {
  const parsed = parseImageRef(ref);
  if (!parsed) throw new Error('not an image reference');
  const repo = new Repository(registryBaseUrl(parsed.registry), parsed.repository, options);
  let manifest = await repo.manifest(parsed.digest ?? parsed.tag ?? 'latest');
  if (isObject(manifest) && Array.isArray(manifest.manifests)) {
    const digest = pickPlatformManifest(manifest, platform);
    const name = [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    if (!digest) throw new Error(`the index has no ${name} image`);
    manifest = await repo.manifest(digest);
  }
  return manifestSize(manifest);
}
