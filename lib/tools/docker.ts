// Docker and buildx, as every Berth action uses them: versions, registry login over stdin, image
// facts (size, user) and what a registry holds for a tag. Pure parsers are exported for unit tests.
import { run, type RunResult } from '../action/exec.js';

export interface ImageRef {
  /** registry host[:port]; `docker.io` when the reference names none */
  registry: string;
  /** repository path without the registry, e.g. `org/api` */
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
// The grammar of docker/distribution's reference package, reduced to what image inputs need.
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
/** host[:port]: DNS labels (none starting with `-`) or a bracketed IPv6 address, and a port. */
const REGISTRY = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[[0-9A-Fa-f:.]+\\])(?::\\d{1,5})?$`);

/** Whether `value` is a registry `host[:port]` (nothing a command line could read as an option). */
export function isRegistryHost(value: string): boolean {
  return REGISTRY.test(value);
}

/** Parses `[registry/]repo[:tag][@digest]`; returns undefined when it is not a valid reference. */
export function parseImageRef(ref: string): ImageRef | undefined {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !isRegistryHost(first)) return undefined;
  const registry = hasRegistry ? first : 'docker.io';
  let repository = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  if (!REPOSITORY.test(repository)) return undefined;
  return { registry, repository, tag, digest };
}

/** `registry/repository` as docker prints it (no `docker.io/library/` for official images kept). */
export function repositoryName(ref: ImageRef): string {
  return ref.registry === 'docker.io'
    ? ref.repository.replace(/^library\//, '')
    : `${ref.registry}/${ref.repository}`;
}

/** A user that runs as root: empty (the default), `root` or uid 0, with or without a group. */
export function isRootUser(user: string): boolean {
  const name = user.trim().split(':')[0]!;
  return name === '' || name === 'root' || name === '0';
}

/** The x.y.z of `docker buildx version` output such as `github.com/docker/buildx 0.13.1+ds1 ...`. */
export function parseBuildxVersion(output: string): string | undefined {
  return /\bv?(\d+\.\d+\.\d+)/.exec(output)?.[1];
}

export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export async function buildxVersion(): Promise<string> {
  const { stdout } = await run('docker', ['buildx', 'version'], { silent: true });
  const version = parseBuildxVersion(stdout);
  if (!version) throw new Error(`cannot read the buildx version from: ${stdout.trim()}`);
  return version;
}

/** `docker login` with the password on stdin, never on the command line. */
export async function login(registry: string, username: string, password: string): Promise<void> {
  await run('docker', ['login', `--username=${username}`, '--password-stdin', '--', registry], {
    input: password,
    silent: true,
  }).catch((error: Error) => {
    throw new Error(`login to ${registry} as ${username} failed: ${error.message}`);
  });
}

export async function logout(registry: string): Promise<void> {
  await run('docker', ['logout', '--', registry], { silent: true, ignoreReturnCode: true });
}

export interface LocalImage {
  id: string;
  user: string;
}

/** A local image's ID and configured user, or undefined when it is not in the local store. */
export async function inspectLocalImage(ref: string): Promise<LocalImage | undefined> {
  const r = await run('docker', ['image', 'inspect', '--format', '{{json .}}', '--', ref], {
    silent: true,
    ignoreReturnCode: true,
  });
  if (r.exitCode !== 0) return undefined;
  const image = JSON.parse(r.stdout) as { Id: string; Config?: { User?: string } };
  return { id: image.Id, user: image.Config?.User ?? '' };
}

/**
 * `docker buildx imagetools inspect` of `ref` in a registry (with the docker config's logins): the raw
 * manifest, or `format` applied; the caller reads the exit code. Its output is the registry's: untrusted.
 */
export async function imagetoolsInspect(ref: string, format?: string): Promise<RunResult> {
  const shape = format ? ['--format', format] : ['--raw'];
  return run('docker', ['buildx', 'imagetools', 'inspect', ...shape, '--', ref], {
    silent: true,
    ignoreReturnCode: true,
  });
}

interface Manifest {
  manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
  layers?: { size: number }[];
  config?: { size: number };
}

/** The runner's platform as OCI names it. */
const ARCHITECTURE: string =
  ({ x64: 'amd64', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;

/**
 * Compressed bytes (config plus layers) of the image a registry holds under `ref`, for this runner's
 * platform when `ref` is an index; undefined when the registry has no such image.
 */
export async function remoteCompressedSize(ref: string): Promise<number | undefined> {
  const raw = async (r: string): Promise<Manifest | undefined> => {
    const out = await imagetoolsInspect(r);
    return out.exitCode === 0 ? (JSON.parse(out.stdout) as Manifest) : undefined;
  };
  let manifest = await raw(ref);
  if (manifest?.manifests) {
    // An index: this platform's image (else the first real one), never an attestation manifest.
    const images = manifest.manifests.filter((m) => m.platform?.os && m.platform.os !== 'unknown');
    const image =
      images.find((m) => m.platform?.os === 'linux' && m.platform.architecture === ARCHITECTURE) ?? images[0];
    if (!image) return undefined;
    manifest = await raw(`${ref.split('@')[0]!.replace(/:[^/:]+$/, '')}@${image.digest}`);
  }
  if (!manifest) return undefined;
  return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);
}

/** Unpacked size of a local image: the sum of its layers, the same with either image store. */
export async function imageSize(ref: string): Promise<number> {
  const { stdout } = await run(
    'docker',
    ['image', 'history', '--human=false', '--format', '{{.Size}}', '--', ref],
    {
      silent: true,
    },
  );
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .reduce((sum, line) => sum + Number(line.trim()), 0);
}

/** The digest the registry answered with, from `docker push` output (`tag: digest: sha256:... size: N`). */
export function parsePushDigest(output: string): string | undefined {
  return /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
}

/** Pushes one reference and returns the registry's manifest digest for it. */
export async function push(ref: string): Promise<string> {
  const { stdout } = await run('docker', ['push', '--', ref]);
  const digest = parsePushDigest(stdout);
  if (!digest) throw new Error(`pushed ${ref} but docker did not report the registry's digest`);
  return digest;
}

/** What an image says about itself that the compose audit reads: its user and its health check. */
export interface ImageFacts {
  /** Config.User; empty means root */
  user: string;
  /** whether the image has a HEALTHCHECK that is not `NONE` */
  healthcheck: boolean;
}

interface ImageConfigFields {
  User?: string;
  Healthcheck?: { Test?: string[] | null } | null;
}

/** The facts from an image's config (`docker image inspect`'s `.Config`, an OCI config's `config`). */
export function imageFactsFromConfig(config: ImageConfigFields | null | undefined): ImageFacts {
  const test = config?.Healthcheck?.Test ?? [];
  return {
    user: config?.User ?? '',
    healthcheck: test.length > 0 && test[0]!.toUpperCase() !== 'NONE',
  };
}

type OciImageConfig = { config?: ImageConfigFields; os?: string; architecture?: string };

/**
 * The facts from `docker buildx imagetools inspect --format '{{json .Image}}'`: one OCI image config
 * for an image, or configs by platform (`linux/amd64`) for an index, where this runner's platform is
 * taken, else the first Linux one. Undefined when the output holds no image config.
 */
export function imageFactsFromImagetools(json: string, arch: string = ARCHITECTURE): ImageFacts | undefined {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const record = data as Record<string, unknown>;
  if ('config' in record || 'rootfs' in record)
    return imageFactsFromConfig((record as OciImageConfig).config);
  const platforms = Object.entries(record) as [string, OciImageConfig][];
  const chosen =
    platforms.find(([platform]) => platform === `linux/${arch}`) ??
    platforms.find(([platform]) => platform.startsWith('linux/'));
  return chosen ? imageFactsFromConfig(chosen[1]?.config) : undefined;
}

/**
 * An image's user and health check: from the local image store when the image is there, else from
 * its registry (with the credentials `docker login` stored); undefined when neither has it.
 */
export async function imageFacts(
  ref: string,
): Promise<(ImageFacts & { source: 'local' | 'registry' }) | undefined> {
  const local = await run('docker', ['image', 'inspect', '--format', '{{json .Config}}', '--', ref], {
    silent: true,
    ignoreReturnCode: true,
  });
  if (local.exitCode === 0) {
    try {
      return { ...imageFactsFromConfig(JSON.parse(local.stdout) as ImageConfigFields), source: 'local' };
    } catch {
      // Not JSON: fall through to the registry.
    }
  }
  const remote = await imagetoolsInspect(ref, '{{json .Image}}');
  if (remote.exitCode !== 0) return undefined;
  const facts = imageFactsFromImagetools(remote.stdout);
  return facts ? { ...facts, source: 'registry' } : undefined;
}
