// Trivy on the runner: the `trivy-version` and `trivy-download-url` inputs, upstream's release layout
// (asset names, `<base>/v<version>/<asset>`, the checksums file), the releases refused by name, and a
// preinstalled `trivy`. The checksum-verified install itself is lib/tools/installer.ts.
import { run, which } from '../../../lib/action/exec.js';
import { inputError } from '../../../lib/action/inputs.js';
import { installRelease, type ReleaseAssets } from '../../../lib/tools/installer.js';
import { parseExactVersion, parseReleaseBaseUrl } from '../../../lib/tools/release-inputs.js';
import { Inputs } from './constants.js';

/** The Trivy release installed when `trivy-version` is empty. */
export const DEFAULT_TRIVY_VERSION = '0.74.0';
/** Where upstream publishes releases; `<base>/v<version>/<asset>`. */
export const DEFAULT_TRIVY_DOWNLOAD_URL = 'https://github.com/aquasecurity/trivy/releases/download';
/** `trivy-version: preinstalled` uses the `trivy` already on PATH. */
export const PREINSTALLED = 'preinstalled';
export const TOOL_NAME = 'trivy';

/**
 * The SHA-256 of upstream's Linux archives of the default release, by `process.arch`: the lines for
 * trivy_0.74.0_Linux-64bit.tar.gz and trivy_0.74.0_Linux-ARM64.tar.gz in upstream's
 * trivy_0.74.0_checksums.txt, as quoted identically by several unrelated public projects that pin
 * Trivy 0.74.0 (install scripts, Dockerfiles, and a tool manifest listing every platform's archive;
 * one notes it checked the x64 value against Aqua's published checksums file). They were not computed
 * here (this workplace cannot reach github.com). They apply to DEFAULT_TRIVY_DOWNLOAD_URL only: a
 * mirror may serve other bytes under the same names (the lab serves its own source-built Trivy), and
 * they are checked on top of the release's checksums file, so a wrong value fails closed.
 */
export const DEFAULT_TRIVY_SHA256: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [DEFAULT_TRIVY_VERSION]: {
    x64: '2ae6fe3ee734b7fdf11335663e18c75ea12dccc76062f09f164a3b0f8be4371a',
    arm64: 'b94ce1976bbf3c15b514b605ee88be7c6d94a29be2302847ff01cb794d47aad5',
  },
};

/** The archive hash Berth ships for this release, when it is upstream's and known. */
export function builtInTrivySha256(base: string, version: string, arch: string): string | undefined {
  return base === DEFAULT_TRIVY_DOWNLOAD_URL ? DEFAULT_TRIVY_SHA256[version]?.[arch] : undefined;
}

/** Releases refused by name, with the reason. */
export const REFUSED_TRIVY_VERSIONS: Readonly<Record<string, string>> = {
  '0.69.4':
    "it is the malicious release published in March 2026 through Trivy's compromised release automation; " +
    `pin another release, e.g. ${DEFAULT_TRIVY_VERSION}`,
};

/** `x.y.z` (a leading `v` is dropped), `preinstalled`, or the default when empty. */
export function resolveTrivyVersion(input: string): string {
  const name = Inputs.TrivyVersion;
  const version = parseExactVersion(input, {
    name,
    tool: 'Trivy',
    fallback: DEFAULT_TRIVY_VERSION,
    keyword: PREINSTALLED,
  });
  const refused = REFUSED_TRIVY_VERSIONS[version];
  if (refused !== undefined) throw inputError(name, `Trivy ${version} is refused: ${refused}`);
  return version;
}

/**
 * The base URL releases are downloaded from, without a trailing slash: https, or plain http only to
 * this machine or with a `trivy-sha256` pin.
 */
export function parseTrivyDownloadUrl(input: string, sha256?: string): string {
  return parseReleaseBaseUrl(input, {
    name: Inputs.TrivyDownloadUrl,
    fallback: DEFAULT_TRIVY_DOWNLOAD_URL,
    layout: '<base>/v<version>/<asset>',
    pin: { name: Inputs.TrivySha256, value: sha256 },
  });
}

const RELEASE_ARCH: Readonly<Record<string, string>> = { x64: '64bit', arm64: 'ARM64' };

/** Upstream's asset names for Linux on `arch` (`process.arch` and `process.platform` values). */
export function trivyAssets(
  version: string,
  arch: string = process.arch,
  platform: string = process.platform,
): ReleaseAssets {
  const suffix = RELEASE_ARCH[arch];
  if (suffix === undefined || platform !== 'linux') {
    throw new Error(
      `Trivy releases are installed on Linux x64 and arm64 runners only, this one is ${platform} ${arch}; ` +
        `install Trivy yourself and set ${Inputs.TrivyVersion}: ${PREINSTALLED}`,
    );
  }
  return {
    archive: `trivy_${version}_Linux-${suffix}.tar.gz`,
    checksums: `trivy_${version}_checksums.txt`,
  };
}

export function trivyAssetUrl(base: string, version: string, asset: string): string {
  return `${base.replace(/\/+$/, '')}/v${version}/${asset}`;
}

/** The version in `trivy --version` output (`Version: 0.74.0`). */
export function parseTrivyVersionOutput(output: string): string | undefined {
  return /^Version:\s*v?(\S+)/m.exec(output)?.[1];
}

/** The version the `trivy` at `path` reports. */
export async function trivyVersionOf(path: string): Promise<string> {
  const { stdout } = await run(path, ['--version'], { silent: true });
  const version = parseTrivyVersionOutput(stdout);
  if (version === undefined) throw new Error(`\`${path} --version\` printed no version: ${stdout.trim()}`);
  return version;
}

export interface TrivyInstallOptions {
  /** a resolved version (`resolveTrivyVersion`) or `preinstalled` */
  version: string;
  /** base URL (`parseTrivyDownloadUrl`); default upstream's */
  downloadUrl?: string;
  /** a pin of the archive's SHA-256 (`parseSha256Pin`) */
  sha256?: string;
  /** sent only to github.com, never to another download host */
  token?: string;
  /** a `process.arch` value; default this runner's */
  arch?: string;
}

export interface TrivyInstall {
  /** absolute path of the `trivy` binary */
  path: string;
  version: string;
  /** where it came from; `downloaded` is true only for `download` */
  source: 'download' | 'tool-cache' | 'preinstalled';
  downloaded: boolean;
  /** the verified SHA-256 of the archive, when it was downloaded */
  sha256?: string;
}

/** The `trivy` on PATH, unless it is a refused release. */
async function preinstalledTrivy(): Promise<TrivyInstall> {
  const path = await which(
    TOOL_NAME,
    `install Trivy on the runner, or set ${Inputs.TrivyVersion} to a release such as ${DEFAULT_TRIVY_VERSION}`,
  );
  const found = await trivyVersionOf(path);
  const refused = REFUSED_TRIVY_VERSIONS[found];
  if (refused !== undefined)
    throw new Error(`The trivy on PATH (${path}) is ${found}, which is refused: ${refused}`);
  return { path, version: found, source: PREINSTALLED, downloaded: false };
}

/**
 * Trivy from the tool cache, else upstream's release (or a mirror's), checksum-verified before it is
 * unpacked (see installRelease); or the `trivy` on PATH for `preinstalled`.
 */
export async function installTrivy(options: TrivyInstallOptions): Promise<TrivyInstall> {
  const { version } = options;
  if (version === PREINSTALLED) return preinstalledTrivy();
  const refused = REFUSED_TRIVY_VERSIONS[version];
  if (refused !== undefined) throw new Error(`Trivy ${version} is refused: ${refused}`);
  const arch = options.arch ?? process.arch;
  const assets = trivyAssets(version, arch);
  const base = parseTrivyDownloadUrl(options.downloadUrl ?? '', options.sha256);
  const builtIn = builtInTrivySha256(base, version, arch);
  const installed = await installRelease({
    tool: TOOL_NAME,
    displayName: 'Trivy',
    version,
    arch,
    archive: { name: assets.archive, url: trivyAssetUrl(base, version, assets.archive) },
    checksums: { name: assets.checksums, url: trivyAssetUrl(base, version, assets.checksums) },
    sha256: options.sha256,
    sha256Name: Inputs.TrivySha256,
    knownSha256:
      builtIn === undefined
        ? undefined
        : { sha256: builtIn, from: `the SHA-256 Berth ships for ${assets.archive}` },
    token: options.token,
    notFoundHint: `; check ${Inputs.TrivyVersion} and ${Inputs.TrivyDownloadUrl} (expected <base>/v<version>/<asset>)`,
  });
  return installed.source === 'download'
    ? { path: installed.path, version, source: 'download', downloaded: true, sha256: installed.sha256 }
    : { path: installed.path, version, source: 'tool-cache', downloaded: false };
}
