// host/bootstrap.sh as the action runs it: the file itself (shipped in dist/ by the build: ncc copies
// a file read through `new URL(..., import.meta.url)` next to the bundle), its arguments, and the text
// sent on the remote bash's stdin: the deploy keys and the arguments as quoted assignments, then the
// script. Nothing but `bash -s` (behind `sudo -n` for a non-root user) is on the remote command line.
import { readFileSync } from 'node:fs';
import { shellQuote } from '../../../../lib/ssh/shell.js';

export type Profile = 'development' | 'production' | 'ubuntu';
export const PROFILES: readonly Profile[] = ['development', 'production', 'ubuntu'];
export type DockerSource = 'distro' | 'docker';
export const DOCKER_SOURCES: readonly DockerSource[] = ['distro', 'docker'];
/** What a run does: prepare, then (after the deploy user's login is checked) harden, or undo harden. */
export type Phase = 'prepare' | 'harden' | 'revert';

export interface BootstrapSettings {
  profile: Profile;
  'deploy-user': string;
  /** checked key lines (keys.ts) */
  'deploy-public-keys': string[];
  'remote-dir': string;
  /** the backups' host directory: /var/backups/<project>, actions/backup's default destination */
  'backup-dir': string;
  'docker-source': DockerSource;
}

/** The script's text, read where the build put it (dist/bootstrap.sh) or from the repository. */
export function bootstrapScript(): string {
  return readFileSync(new URL('../../../../host/bootstrap.sh', import.meta.url), 'utf8');
}

/** host/bootstrap.sh's arguments for `phase`. */
export function bootstrapArgs(s: BootstrapSettings, phase: Phase): string[] {
  const args = ['--profile', s.profile, '--deploy-user', s['deploy-user'], '--phase', phase, '--report'];
  if (phase === 'prepare') {
    args.push('--remote-dir', s['remote-dir'], '--backup-dir', s['backup-dir']);
    args.push('--docker-source', s['docker-source']);
  }
  return args;
}

/**
 * What the remote `bash -s` reads: the keys (BERTH_DEPLOY_KEYS, which the script reads when no
 * --deploy-keys-file is given) and the arguments, each single-quoted, then the script. The script
 * ends with `main "$@"` on its last line, so nothing it runs can read the rest of its own text.
 */
export function bootstrapPayload(script: string, args: readonly string[], keys: readonly string[]): string {
  return [
    `BERTH_DEPLOY_KEYS=${shellQuote(keys.join('\n'))}`,
    `set -- ${args.map((a) => shellQuote(a)).join(' ')}`,
    script,
  ].join('\n');
}

/** Who the SSH user is on the host: root, a user with passwordless sudo, or neither. */
export const PRIVILEGE_PROBE =
  'if [ "$(id -u)" = 0 ]; then echo root; elif sudo -n true 2>/dev/null; then echo sudo; else echo none; fi';

export type Privilege = 'root' | 'sudo' | 'none';

export function readPrivilege(stdout: string): Privilege {
  const word = stdout.trim().split('\n').at(-1)?.trim();
  return word === 'root' || word === 'sudo' ? word : 'none';
}

/** The remote command that runs the payload as root. */
export function rootShell(privilege: 'root' | 'sudo'): string {
  return privilege === 'root' ? 'bash -s' : 'sudo -n bash -s';
}
