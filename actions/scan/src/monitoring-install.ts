// promtool and amtool on the runner: upstream's release archives of Prometheus and Alertmanager
// (`<project>-<version>.linux-<arch>.tar.gz`, the binaries in a directory of the same name, listed in
// the release's sha256sums.txt), installed checksum-verified through lib/tools/installer.ts.
import { installRelease } from '../../../lib/tools/installer.js';
import { parseExactVersion, parseReleaseBaseUrl } from '../../../lib/tools/release-inputs.js';
import { Inputs } from './constants.js';

/** Where upstream publishes both projects' releases: `<base>/<project>/releases/download/v<version>/<asset>`. */
export const DEFAULT_MONITORING_DOWNLOAD_URL = 'https://github.com/prometheus';
export const MONITORING_URL_LAYOUT = '<base>/<project>/releases/download/v<version>/<asset>';

export type MonitoringTool = 'promtool' | 'amtool';

export interface MonitoringRelease {
  /** the upstream project (and tool-cache name) whose release carries the tool */
  project: 'prometheus' | 'alertmanager';
  /** the input that picks the version */
  versionInput: string;
  /** the release installed when that input is empty */
  version: string;
  /**
   * The SHA-256 of upstream's Linux archives of `version`, by `process.arch`: the lines for
   * `<project>-<version>.linux-amd64.tar.gz` and `...linux-arm64.tar.gz` in the release's
   * sha256sums.txt, as quoted identically by several unrelated public projects that pin these
   * releases (OpenStack Kolla's source list pins both releases on both architectures; install scripts
   * and Ansible roles agree). They were not computed here: this workplace cannot reach github.com.
   * They apply to DEFAULT_MONITORING_DOWNLOAD_URL only, on top of sha256sums.txt.
   */
  sha256: Readonly<Record<string, string>>;
}

/** The pinned releases, in one place; action.yml's defaults and the README say the same versions. */
export const MONITORING_RELEASES: Readonly<Record<MonitoringTool, MonitoringRelease>> = {
  promtool: {
    project: 'prometheus',
    versionInput: Inputs.PrometheusVersion,
    version: '3.5.0',
    sha256: {
      x64: 'e811827af26d822afb09a4f28314f61b618b12cff5369835a67f674d8b46f39a',
      arm64: '173389cc42bf09c4e6e54cb53fa07a5a835d7c261e14775d2183181d6e385d1c',
    },
  },
  amtool: {
    project: 'alertmanager',
    versionInput: Inputs.AlertmanagerVersion,
    version: '0.28.1',
    sha256: {
      x64: '5ac7ab5e4b8ee5ce4d8fb0988f9cb275efcc3f181b4b408179fafee121693311',
      arm64: 'd8832540e5b9f613d2fd759e31d603173b9c61cc7bb5e3bc7ae2f12038b1ce4f',
    },
  },
};

/** `prometheus-version` / `alertmanager-version`: an exact release, the pinned one when empty. */
export function parseMonitoringVersion(tool: MonitoringTool, input: string): string {
  const release = MONITORING_RELEASES[tool];
  return parseExactVersion(input, {
    name: release.versionInput,
    tool: release.project === 'prometheus' ? 'Prometheus' : 'Alertmanager',
    fallback: release.version,
  });
}

/** `monitoring-download-url`: https, or plain http to this machine only (there is no pin input). */
export function parseMonitoringDownloadUrl(input: string): string {
  return parseReleaseBaseUrl(input, {
    name: Inputs.MonitoringDownloadUrl,
    fallback: DEFAULT_MONITORING_DOWNLOAD_URL,
    layout: MONITORING_URL_LAYOUT,
  });
}

const GOARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64' };

export interface MonitoringAssets {
  archive: string;
  checksums: string;
  /** the tool inside the archive */
  binary: string;
}

/** Upstream's asset names for Linux on `arch` (`process.arch` and `process.platform` values). */
export function monitoringAssets(
  tool: MonitoringTool,
  version: string,
  arch: string = process.arch,
  platform: string = process.platform,
): MonitoringAssets {
  const goarch = GOARCH[arch];
  if (goarch === undefined || platform !== 'linux') {
    throw new Error(
      `${tool} is installed on Linux x64 and arm64 runners only, this one is ${platform} ${arch}`,
    );
  }
  const dir = `${MONITORING_RELEASES[tool].project}-${version}.linux-${goarch}`;
  return { archive: `${dir}.tar.gz`, checksums: 'sha256sums.txt', binary: `${dir}/${tool}` };
}

export function monitoringAssetUrl(
  base: string,
  tool: MonitoringTool,
  version: string,
  asset: string,
): string {
  return `${base}/${MONITORING_RELEASES[tool].project}/releases/download/v${version}/${asset}`;
}

export interface MonitoringToolInstall {
  tool: MonitoringTool;
  /** absolute path of the binary */
  path: string;
  version: string;
  source: 'download' | 'tool-cache';
}

/**
 * The tool from the tool cache, else from its project's release (upstream's or a mirror's),
 * checksum-verified before it is unpacked: against sha256sums.txt, and for the pinned release from
 * upstream also against the hash Berth ships.
 */
export async function installMonitoringTool(
  tool: MonitoringTool,
  options: { version: string; downloadUrl: string; token?: string; arch?: string },
): Promise<MonitoringToolInstall> {
  const { version, downloadUrl } = options;
  const arch = options.arch ?? process.arch;
  const release = MONITORING_RELEASES[tool];
  const assets = monitoringAssets(tool, version, arch);
  const builtIn =
    downloadUrl === DEFAULT_MONITORING_DOWNLOAD_URL && version === release.version
      ? release.sha256[arch]
      : undefined;
  const installed = await installRelease({
    tool: release.project,
    binary: assets.binary,
    displayName: release.project === 'prometheus' ? 'Prometheus' : 'Alertmanager',
    version,
    arch,
    archive: { name: assets.archive, url: monitoringAssetUrl(downloadUrl, tool, version, assets.archive) },
    checksums: {
      name: assets.checksums,
      url: monitoringAssetUrl(downloadUrl, tool, version, assets.checksums),
    },
    knownSha256:
      builtIn === undefined
        ? undefined
        : { sha256: builtIn, from: `the SHA-256 Berth ships for ${assets.archive}` },
    token: options.token,
    notFoundHint: `; check ${release.versionInput} and ${Inputs.MonitoringDownloadUrl} (expected ${MONITORING_URL_LAYOUT})`,
  });
  return { tool, path: installed.path, version, source: installed.source };
}
