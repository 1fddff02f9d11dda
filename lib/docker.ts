// Docker and buildx, as every Berth action uses them: versions, registry login over stdin, image
// facts (size, user) and what a registry holds for a tag. Pure parsers are exported for unit tests.
import { run } from './exec.js';

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
  await run('docker', ['login', registry, '--username', username, '--password-stdin'], {
    input: password,
    silent: true,
  }).catch((error: Error) => {
    throw new Error(`login to ${registry} as ${username} failed: ${error.message}`);
  });
}

export async function logout(registry: string): Promise<void> {
  await run('docker', ['logout', registry], { silent: true, ignoreReturnCode: true });
}

export interface LocalImage {
  id: string;
  /** bytes, as `docker image ls` shows them */
  size: number;
  user: string;
}

/** Facts about an image in the local store, or undefined when it is not there. */
export async function inspectLocalImage(ref: string): Promise<LocalImage | undefined> {
  const r = await run('docker', ['image', 'inspect', '--format', '{{json .}}', ref], {
    silent: true,
    ignoreReturnCode: true,
  });
  if (r.exitCode !== 0) return undefined;
  const image = JSON.parse(r.stdout) as { Id: string; Size: number; Config?: { User?: string } };
  return { id: image.Id, size: image.Size, user: image.Config?.User ?? '' };
}

export interface RemoteImage {
  digest: string;
  /** compressed bytes: config plus layers of the image for this platform */
  compressedSize: number;
  user: string;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string };
}

/** What the registry holds for a reference, through buildx's own registry client and credentials. */
export async function inspectRemoteImage(ref: string): Promise<RemoteImage | undefined> {
  const raw = await run('docker', ['buildx', 'imagetools', 'inspect', '--raw', ref], {
    silent: true,
    ignoreReturnCode: true,
  });
  if (raw.exitCode !== 0) return undefined;
  const top = JSON.parse(raw.stdout) as {
    manifests?: Descriptor[];
    layers?: Descriptor[];
    config?: Descriptor;
  };
  const digestOut = await run(
    'docker',
    ['buildx', 'imagetools', 'inspect', '--format', '{{json .Manifest}}', ref],
    {
      silent: true,
    },
  );
  const digest = (JSON.parse(digestOut.stdout) as { digest: string }).digest;
  let manifest = top;
  if (top.manifests) {
    // An index: take the linux/amd64 (or first real) image, not attestation manifests.
    const image =
      top.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ??
      top.manifests.find((m) => m.platform?.os && m.platform.os !== 'unknown');
    if (!image) return { digest, compressedSize: 0, user: '' };
    const repo = ref.split('@')[0]!.replace(/:[^/:]+$/, '');
    const sub = await run('docker', ['buildx', 'imagetools', 'inspect', '--raw', `${repo}@${image.digest}`], {
      silent: true,
    });
    manifest = JSON.parse(sub.stdout) as typeof top;
  }
  const compressedSize =
    (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);
  const config = await run(
    'docker',
    ['buildx', 'imagetools', 'inspect', '--format', '{{json .Image}}', ref],
    {
      silent: true,
      ignoreReturnCode: true,
    },
  );
  let user = '';
  if (config.exitCode === 0) {
    const parsed = JSON.parse(config.stdout) as { config?: { User?: string } } & Record<
      string,
      { config?: { User?: string } }
    >;
    user = parsed.config?.User ?? parsed['linux/amd64']?.config?.User ?? '';
  }
  return { digest, compressedSize, user };
}

/** Unpacked size of a local image: the sum of its layers, the same with either image store. */
export async function imageSize(ref: string): Promise<number> {
  const { stdout } = await run(
    'docker',
    ['image', 'history', '--human=false', '--format', '{{.Size}}', ref],
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
  const { stdout } = await run('docker', ['push', ref]);
  const digest = parsePushDigest(stdout);
  if (!digest) throw new Error(`pushed ${ref} but docker did not report the registry's digest`);
  return digest;
}
