// Registry credentials for a tool on the runner that reads the docker config (cosign, crane): a private
// DOCKER_CONFIG directory holding the runner's own config (its logins and credential helpers kept) plus
// one registry's login, so the password is never on a command line, never in the user's config, and
// gone when the directory is removed.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The runner's docker config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['DOCKER_CONFIG'] || join(homedir(), '.docker'), 'config.json');
}

/**
 * The docker config `existing` (JSON text, or empty) with `registry`'s login set in `auths`. A config
 * that is not a JSON object is replaced by one that holds only this login.
 */
export function configWithLogin(
  existing: string,
  registry: string,
  username: string,
  password: string,
): string {
  let config: Record<string, unknown> = {};
  try {
    const parsed: unknown = existing.trim() === '' ? {} : JSON.parse(existing);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      config = parsed as Record<string, unknown>;
    }
  } catch {
    config = {};
  }
  const auths = { ...(config['auths'] as Record<string, unknown> | undefined) };
  auths[registry] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  // A credential helper for this registry would be asked first: the login given here wins.
  const helpers = { ...(config['credHelpers'] as Record<string, unknown> | undefined) };
  delete helpers[registry];
  return `${JSON.stringify({ ...config, auths, credHelpers: helpers }, null, 2)}\n`;
}

export interface PrivateDockerConfig {
  /** the directory to give as DOCKER_CONFIG */
  dir: string;
  remove(): void;
}

/** A 0700 directory under `tempRoot` whose config.json (0600) adds the login to the runner's config. */
export function privateDockerConfig(
  registry: string,
  username: string,
  password: string,
  tempRoot: string = process.env['RUNNER_TEMP'] || tmpdir(),
): PrivateDockerConfig {
  const file = dockerConfigFile();
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const dir = mkdtempSync(join(tempRoot, 'berth-docker-config-'));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'config.json'), configWithLogin(existing, registry, username, password), {
    mode: 0o600,
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `registry`'s login stored in the runner's docker config (`auths`, as `docker login` writes it without
 * a credential helper), for a client that talks to the registry itself; undefined when there is none.
 */
export function dockerConfigLogin(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): { username: string; password: string } | undefined {
  const file = dockerConfigFile(env);
  if (!existsSync(file)) return undefined;
  try {
    const config = JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: unknown }> };
    const auth = config.auths?.[registry]?.auth;
    if (typeof auth !== 'string') return undefined;
    const text = Buffer.from(auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon > 0 ? { username: text.slice(0, colon), password: text.slice(colon + 1) } : undefined;
  } catch {
    return undefined;
  }
}
