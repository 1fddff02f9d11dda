// Shared by the bootstrap unit tests: where host/bootstrap.sh is, and its pure functions run by bash.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const HOST_SCRIPT = fileURLToPath(new URL('../../../../host/bootstrap.sh', import.meta.url));

/** Runs `code` in bash after sourcing host/bootstrap.sh's functions only (BERTH_BOOTSTRAP_LIB=1). */
export function hostFunctions(code: string, input = ''): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('bash', ['-c', `BERTH_BOOTSTRAP_LIB=1 source "$1"; ${code}`, 'x', HOST_SCRIPT], {
    input,
    encoding: 'utf8',
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}
