// Reads the lab's `.lab/env` (written by `npm run lab:up`) so integration tests know where the
// registry, the SSH hosts and the release server are.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const labDir = join(repoRoot, '.lab');

export interface Lab {
  /** host:port of the authenticated registry on loopback */
  registry: string;
  registryUser: string;
  registryPassword: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  /** a deploy user (same key) whose login shell's PATH has no flock, for the preflight test */
  noFlockUser: string;
  /** path of the deploy user's private key */
  sshKey: string;
  /** path of the known_hosts file pinning both lab sshd host keys */
  knownHosts: string;
  /** sshd log of the "Ubuntu host", for counting connections */
  sshLog: string;
  jumpPort: number;
  jumpUser: string;
  jumpLog: string;
  /** full ref of the Debian bookworm base image in the lab registry */
  baseImage: string;
  /** http://127.0.0.1:PORT serving `.lab/releases` */
  releasesUrl: string;
  releasesDir: string;
  /** test CA and a server certificate for localhost/127.0.0.1 signed by it */
  caFile: string;
  tlsCert: string;
  tlsKey: string;
  /** the Trivy release lab:up built from source and serves (see test/trivy-advisories.ts for its DB) */
  trivyVersion: string;
  /** the built `trivy` binary */
  trivyBin: string;
  /** the base URL that replaces https://github.com/aquasecurity/trivy/releases/download */
  trivyDownloadUrl: string;
  /** `--db-repository` of the lab's vulnerability DB, e.g. localhost:5000/berth/trivy-db:2 */
  trivyDbRepository: string;
  /** the same DB as a directory (trivy.db, metadata.json): copy it to `<cache-dir>/db` */
  trivyDbDir: string;
  raw: Record<string, string>;
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** A reader of the variables in a lab env file; a missing file or variable says to run lab:up. */
export function envFile(
  file: string,
  shown: string,
): { raw: Record<string, string>; get: (k: string) => string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`npm run lab:up\` first`);
  }
  const raw = parseEnvFile(text);
  const get = (k: string): string => {
    const v = raw[k];
    if (v === undefined || v === '') throw new Error(`${shown} has no ${k}: run \`npm run lab:up\` again`);
    return v;
  };
  return { raw, get };
}

export function readLab(): Lab {
  const { raw, get } = envFile(join(labDir, 'env'), '.lab/env');
  return {
    registry: get('LAB_REGISTRY'),
    registryUser: get('LAB_REGISTRY_USER'),
    registryPassword: get('LAB_REGISTRY_PASSWORD'),
    sshHost: get('LAB_SSH_HOST'),
    sshPort: Number(get('LAB_SSH_PORT')),
    sshUser: get('LAB_SSH_USER'),
    noFlockUser: get('LAB_NOFLOCK_USER'),
    sshKey: get('LAB_SSH_KEY'),
    knownHosts: get('LAB_KNOWN_HOSTS'),
    sshLog: get('LAB_SSH_LOG'),
    jumpPort: Number(get('LAB_JUMP_PORT')),
    jumpUser: get('LAB_JUMP_USER'),
    jumpLog: get('LAB_JUMP_LOG'),
    baseImage: get('LAB_BASE_IMAGE'),
    releasesUrl: get('LAB_RELEASES_URL'),
    releasesDir: get('LAB_RELEASES_DIR'),
    caFile: get('LAB_CA_FILE'),
    tlsCert: get('LAB_TLS_CERT'),
    tlsKey: get('LAB_TLS_KEY'),
    trivyVersion: get('LAB_TRIVY_VERSION'),
    trivyBin: get('LAB_TRIVY_BIN'),
    trivyDownloadUrl: get('LAB_TRIVY_DOWNLOAD_URL'),
    trivyDbRepository: get('LAB_TRIVY_DB_REPOSITORY'),
    trivyDbDir: get('LAB_TRIVY_DB_DIR'),
    raw,
  };
}

/** promtool and amtool as the lab serves them (scripts/lab/prometheus-release.sh, run by lab:up). */
export interface MonitoringLab {
  /** the Prometheus release (Debian's promtool) and the Alertmanager release (Debian's amtool) */
  prometheusVersion: string;
  alertmanagerVersion: string;
  /** the base URL that replaces https://github.com/prometheus (berth/scan `monitoring-download-url`) */
  downloadUrl: string;
}

export function readMonitoringLab(): MonitoringLab {
  const { get } = envFile(join(labDir, 'monitoring', 'env'), '.lab/monitoring/env');
  return {
    prometheusVersion: get('LAB_PROMETHEUS_VERSION'),
    alertmanagerVersion: get('LAB_ALERTMANAGER_VERSION'),
    downloadUrl: get('LAB_MONITORING_DOWNLOAD_URL'),
  };
}

/** The lab's second engine and foreign platforms (scripts/lab/classic-engine.sh, run by lab:up). */
export interface EnginesLab {
  /** DOCKER_HOST of a second dockerd with the classic image store (overlay2, no containerd snapshotter) */
  classicDockerHost: string;
  /** its log, for a failure's context */
  classicLog: string;
  /** one manifest list in the lab registry (busybox, FROM scratch) for every platform in `multiarchPlatforms` */
  multiarchBase: string;
  /** linux/amd64,linux/arm64: arm64 runs under QEMU (binfmt_misc, fix-binary) on both engines */
  multiarchPlatforms: string[];
}

export function readEnginesLab(): EnginesLab {
  const { get } = envFile(join(labDir, 'classic', 'env'), '.lab/classic/env');
  return {
    classicDockerHost: get('LAB_CLASSIC_DOCKER_HOST'),
    classicLog: get('LAB_CLASSIC_LOG'),
    multiarchBase: get('LAB_MULTIARCH_BASE'),
    multiarchPlatforms: get('LAB_MULTIARCH_PLATFORMS').split(','),
  };
}

/** BuildKit for docker-container builders (scripts/lab/buildkit.sh, run by lab:up). */
export interface BuildkitLab {
  /** the BuildKit release built from source, e.g. v0.34.2 */
  version: string;
  /** its image in the lab registry: `docker buildx create --driver-opt image=...,network=host` */
  image: string;
  /** a buildkitd config for those builders (`--buildkitd-config`): the lab registry over HTTP and
   * as docker.io's mirror, where BuildKit's default SBOM generator is the lab's Trivy one */
  buildkitdConfig: string;
  /** the lab's Trivy as a BuildKit SBOM generator: `--attest type=sbom,generator=...` */
  sbomGenerator: string;
}

export function readBuildkitLab(): BuildkitLab {
  const { get } = envFile(join(labDir, 'buildkit', 'env'), '.lab/buildkit/env');
  return {
    version: get('LAB_BUILDKIT_VERSION'),
    image: get('LAB_BUILDKIT_IMAGE'),
    buildkitdConfig: get('LAB_BUILDKITD_CONFIG'),
    sbomGenerator: get('LAB_SBOM_GENERATOR'),
  };
}

/** A current buildx beside the system's 0.13 (scripts/lab/buildx.sh, run by lab:up). */
export interface BuildxLab {
  /** the buildx release built from source, e.g. v0.38.2 (speaks the GitHub cache service v2) */
  version: string;
  /** the plugin binary: link it as `<DOCKER_CONFIG>/cli-plugins/docker-buildx` so only that config uses it */
  plugin: string;
}

export function readBuildxLab(): BuildxLab {
  const { get } = envFile(join(labDir, 'buildx', 'env'), '.lab/buildx/env');
  return { version: get('LAB_BUILDX_VERSION'), plugin: get('LAB_BUILDX_PLUGIN') };
}

/** The connection inputs of berth/deploy and berth/backup for the lab's SSH host. */
export function sshInputs(lab: Lab): Record<string, string> {
  return {
    host: lab.sshHost,
    port: String(lab.sshPort),
    user: lab.sshUser,
    'ssh-key': readFileSync(lab.sshKey, 'utf8'),
    'known-hosts': readFileSync(lab.knownHosts, 'utf8'),
  };
}

/**
 * The lab's backup signing key pair (berth/backup `signing-key` / `signing-public-key`), made once with
 * ssh-keygen under .lab the first time a test asks: in a temp directory renamed into place, so test
 * files starting at once agree on the first pair that lands.
 */
/** A new Ed25519 key pair without a passphrase: `file` and `file.pub`. */
export function newSshKey(file: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

export function backupSigning(lab: Lab): { key: string; publicKey: string } {
  const dir = join(labDir, 'backup-signing');
  if (!existsSync(dir)) {
    const temp = mkdtempSync(join(labDir, 'backup-signing-'));
    newSshKey(join(temp, 'k'), `berth-lab@${lab.sshHost}`);
    try {
      renameSync(temp, dir);
    } catch {
      rmSync(temp, { recursive: true, force: true }); // another test file made it first
    }
  }
  return {
    key: readFileSync(join(dir, 'k'), 'utf8'),
    publicKey: readFileSync(join(dir, 'k.pub'), 'utf8').trim(),
  };
}

/** Runs a command on the lab's SSH host as its deploy user, with the pinned host key. */
export function labSsh(
  lab: Lab,
  command: string,
  options: string[] = [],
): Promise<{ stdout: string; stderr: string }> {
  return execFileP('ssh', [
    ...options,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${lab.knownHosts}`,
    '-o',
    'IdentitiesOnly=yes',
    '-i',
    lab.sshKey,
    '-p',
    String(lab.sshPort),
    `${lab.sshUser}@${lab.sshHost}`,
    command,
  ]);
}

/** Builds an image with the lab base image and pushes it; returns `repo@digest`. */
export async function buildPush(
  lab: Lab,
  context: string,
  ref: string,
  args: string[] = [],
): Promise<string> {
  const meta = join(mkdtempSync(join(tmpdir(), 'berth-meta-')), 'metadata.json');
  await execFileP(
    'docker',
    [
      'buildx',
      'build',
      '--quiet',
      '--build-arg',
      `BASE_IMAGE=${lab.baseImage}`,
      ...args,
      '--metadata-file',
      meta,
      '--tag',
      ref,
      '--push',
      context,
    ],
    { maxBuffer: 64 << 20 },
  );
  const digest = (JSON.parse(readFileSync(meta, 'utf8')) as Record<string, string>)['containerimage.digest'];
  return `${ref.replace(/:[^/:]+$/, '')}@${digest}`;
}

/** The monitoring services of docker-compose.monitoring.yml, each a target of example/monitoring/Dockerfile. */
export const MONITORING_SERVICES = [
  'prometheus',
  'alertmanager',
  'node-exporter',
  'postgres-exporter',
  'nginx-exporter',
  'blackbox-exporter',
] as const;
