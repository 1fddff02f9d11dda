// Docker Compose on the runner: the merged, interpolated configuration of a project, as compose
// itself computes it (`docker compose config --format json`), and the types Berth reads from it.
import { run } from '../action/exec.js';

/** The parts of compose's merged JSON that Berth reads; compose writes more, kept as-is. */
export interface ComposeService {
  image?: string;
  build?: unknown;
  user?: string;
  restart?: string;
  healthcheck?: { test?: string[] | string; disable?: boolean; [key: string]: unknown };
  deploy?: {
    resources?: { limits?: Record<string, unknown>; reservations?: Record<string, unknown> };
    restart_policy?: Record<string, unknown>;
    [key: string]: unknown;
  };
  ports?: ComposePort[];
  networks?: Record<string, unknown> | null;
  environment?: Record<string, string | null>;
  secrets?: ComposeServiceFileRef[];
  configs?: ComposeServiceFileRef[];
  tmpfs?: string[] | string;
  volumes?: ComposeVolume[];
  /** only in the as-written form (asWritten): the resolved one merges them into `environment` */
  env_file?: { path: string; required?: boolean }[];
  extends?: { file?: string; service: string };
  security_opt?: string[];
  read_only?: boolean;
  [key: string]: unknown;
}

/** A service's mount in compose's long form; `bind` sources are absolute unless asWritten. */
export interface ComposeVolume {
  type?: string;
  source?: string;
  target?: string;
  read_only?: boolean;
  [key: string]: unknown;
}

export interface ComposePort {
  mode?: string;
  host_ip?: string;
  target: number;
  published?: string | number;
  protocol?: string;
  [key: string]: unknown;
}

export interface ComposeServiceFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number;
}

export interface ComposeFileObject {
  name?: string;
  file?: string;
  external?: boolean | { name?: string };
  environment?: string;
  content?: string;
  [key: string]: unknown;
}

export interface ComposeConfig {
  name?: string;
  services: Record<string, ComposeService>;
  networks?: Record<string, Record<string, unknown> | null>;
  volumes?: Record<string, Record<string, unknown> | null>;
  secrets?: Record<string, ComposeFileObject>;
  configs?: Record<string, ComposeFileObject>;
  [key: string]: unknown;
}

export interface ComposeConfigOptions {
  /** the project directory: where `.env` and relative paths are read */
  projectDirectory: string;
  project: string;
  /** compose files, relative to the project directory or absolute, base first */
  files: string[];
  /** the `.env` to interpolate from (default: the project directory's own) */
  envFile?: string;
  /**
   * As written: no interpolation and paths left relative to the project directory. This form still
   * names `env_file`s, which the resolved one merges into `environment`.
   */
  asWritten?: boolean;
}

/**
 * The runner's environment would take part in compose's interpolation (it wins over `.env`), so
 * compose sees only what it needs to run: the result depends on the files alone, as on the host.
 */
function composeEnvironment(): Record<string, string | undefined> {
  const keep = new Set(['PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONFIG', 'DOCKER_CONTEXT', 'TMPDIR']);
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (!keep.has(key)) env[key] = undefined;
  return env;
}

/** `docker compose config --format json`, parsed; throws compose's own message when the files are invalid. */
export async function composeConfig(options: ComposeConfigOptions): Promise<ComposeConfig> {
  const args = ['compose', '-p', options.project, '--project-directory', options.projectDirectory];
  if (options.envFile) args.push('--env-file', options.envFile);
  for (const file of options.files) args.push('-f', file);
  args.push('config', '--format', 'json');
  if (options.asWritten) args.push('--no-interpolate', '--no-path-resolution');
  const result = await run('docker', args, {
    cwd: options.projectDirectory,
    env: composeEnvironment(),
    silent: true,
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-5).join('\n') || `exit code ${result.exitCode}`;
    throw new Error(`docker compose config failed: ${detail}`);
  }
  const parsed = JSON.parse(result.stdout) as ComposeConfig;
  parsed.services ??= {};
  return parsed;
}
