// cosign on the runner: upstream's release layout (`<base>/v<version>/cosign-linux-<arch>`, a raw
// executable, listed in `cosign_checksums.txt` beside it), a pinned default release with the SHA-256
// Berth ships for it, and the version and download-URL inputs. The checksum-verified install into the
// tool cache is lib/tools/installer.ts, as for Trivy.
import { installRelease, type ReleaseAssets } from './installer.js';
import { parseExactVersion, parseReleaseBaseUrl } from './release-inputs.js';

/** The cosign release installed when no version is asked for (the 2.x line: its flags are the lab's 2.5's). */
export const DEFAULT_COSIGN_VERSION = '2.6.5';
/** Where upstream publishes releases: `<base>/v<version>/<asset>`. */
export const DEFAULT_COSIGN_DOWNLOAD_URL = 'https://github.com/sigstore/cosign/releases/download';
export const COSIGN_URL_LAYOUT = '<base>/v<version>/<asset>';

/**
 * The SHA-256 of upstream's Linux executables of the default release, by `process.arch`: the lines for
 * cosign-linux-amd64 and cosign-linux-arm64 in upstream's cosign_checksums.txt of v2.6.5, as quoted
 * identically by several unrelated public projects that pin cosign 2.6.5 (install scripts, Dockerfiles,
 * a README table stating both were matched against the release's asset digests and checksums file).
 * They were not computed here: this workplace cannot reach github.com. They apply to
 * DEFAULT_COSIGN_DOWNLOAD_URL only (a mirror may serve other bytes under the same names; the lab
 * serves Debian's cosign 2.5), on top of cosign_checksums.txt, so a wrong value fails closed.
 */
export const DEFAULT_COSIGN_SHA256: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [DEFAULT_COSIGN_VERSION]: {
    x64: 'c3b4f5410e608af03a5eb0aaac84a4313d8da131248e08ff1759ac70c79d1644',
    arm64: '426193b4c5da4d4d643e822f48fe0cc8a476ca1782a272704831f5a0cef716d7',
  },
};

export const TOOL_NAME = 'cosign';

/** The input names a calling action gives its version and download-URL inputs (for messages). */
export interface CosignInputNames {
  version: string;
  downloadUrl: string;
}

export const COSIGN_INPUTS: CosignInputNames = {
  version: 'cosign-version',
  downloadUrl: 'cosign-download-url',
};

/** `x.y.z` (a leading `v` dropped), the default when empty; never `latest` or a range. */
export function parseCosignVersion(input: string, name = COSIGN_INPUTS.version): string {
  return parseExactVersion(input, { name, tool: 'cosign', fallback: DEFAULT_COSIGN_VERSION });
}

/** The release base URL: https, or plain http to this machine only (there is no pin input). */
export function parseCosignDownloadUrl(input: string, name = COSIGN_INPUTS.downloadUrl): string {
  return parseReleaseBaseUrl(input, {
    name,
    fallback: DEFAULT_COSIGN_DOWNLOAD_URL,
    layout: COSIGN_URL_LAYOUT,
  });
}

const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };

/** Upstream's asset names for Linux on `arch` (`process.arch` and `process.platform` values). */
export function cosignAssets(
  arch: string = process.arch,
  platform: string = process.platform,
): ReleaseAssets {
  const goarch = GOARCH[arch];
  if (goarch === undefined || platform !== 'linux') {
    throw new Error(
      `cosign is installed on Linux x64 and arm64 runners only, this one is ${platform} ${arch}`,
    );
  }
  return { archive: `cosign-linux-${goarch}`, checksums: 'cosign_checksums.txt' };
}

export function cosignAssetUrl(base: string, version: string, asset: string): string {
  return `${base.replace(/\/+$/, '')}/v${version}/${asset}`;
}

/** The executable hash Berth ships for this release, when it is upstream's and known. */
export function builtInCosignSha256(base: string, version: string, arch: string): string | undefined {
  return base === DEFAULT_COSIGN_DOWNLOAD_URL ? DEFAULT_COSIGN_SHA256[version]?.[arch] : undefined;
}

export interface CosignInstallOptions {
  /** an exact version (parseCosignVersion); default DEFAULT_COSIGN_VERSION */
  version?: string;
  /** the release base URL (parseCosignDownloadUrl); default upstream's */
  downloadUrl?: string;
  /** sent only to github.com, never to another download host */
  token?: string;
  /** a `process.arch` value; default this runner's */
  arch?: string;
  /** how messages name the calling action's inputs */
  inputs?: CosignInputNames;
}

export interface Cosign {
  /** absolute path of the `cosign` executable */
  path: string;
  version: string;
  source: 'download' | 'tool-cache';
}

/**
 * cosign from the tool cache, else upstream's release (or a mirror's), its SHA-256 checked against
 * cosign_checksums.txt (and, for the default release from upstream, the hash Berth ships) before it is
 * made executable; see installRelease.
 */
export async function installCosign(options: CosignInstallOptions = {}): Promise<Cosign> {
  const names = options.inputs ?? COSIGN_INPUTS;
  const version = options.version ?? DEFAULT_COSIGN_VERSION;
  const arch = options.arch ?? process.arch;
  const assets = cosignAssets(arch);
  const base = parseCosignDownloadUrl(options.downloadUrl ?? '', names.downloadUrl);
  const builtIn = builtInCosignSha256(base, version, arch);
  const installed = await installRelease({
    tool: TOOL_NAME,
    displayName: 'cosign',
    version,
    arch,
    archive: { name: assets.archive, url: cosignAssetUrl(base, version, assets.archive), format: 'binary' },
    checksums: { name: assets.checksums, url: cosignAssetUrl(base, version, assets.checksums) },
    knownSha256:
      builtIn === undefined
        ? undefined
        : { sha256: builtIn, from: `the SHA-256 Berth ships for ${assets.archive}` },
    token: options.token,
    notFoundHint: `; check ${names.version} and ${names.downloadUrl} (expected ${COSIGN_URL_LAYOUT})`,
  });
  return { path: installed.path, version, source: installed.source };
}
