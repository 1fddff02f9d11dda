// "A host without age", without changing the host: the lab host is this machine, so a temp
// directory of links to every command of the system's bin dirs except age's stands in for the
// host's PATH, and an `ssh` wrapper first on the runner's PATH runs each remote command (`ssh -F
// <config> -- <alias> <command>`, lib/ssh/session.ts) as `env PATH=<that dir> <command>`. The
// master connection, sftp and everything else pass through to the real ssh untouched.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SYSTEM_BIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const LEFT_OUT = new Set(['age', 'age-keygen']);
/** Single-quoted for bash (this module is loaded by the bench's plain node too: no lib imports). */
const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export interface NoAgeHost {
  /** the runner's PATH with the ssh wrapper first: pass as the step's env PATH */
  path: string;
  remove(): void;
}

export function hostWithoutAge(): NoAgeHost {
  const root = mkdtempSync(join(tmpdir(), 'berth-no-age-'));
  chmodSync(root, 0o755); // the deploy user resolves its commands through it
  const bin = join(root, 'bin');
  const wrap = join(root, 'wrap');
  mkdirSync(bin, { mode: 0o755 });
  mkdirSync(wrap, { mode: 0o755 });
  for (const dir of SYSTEM_BIN.filter((d) => existsSync(d))) {
    for (const name of readdirSync(dir)) {
      if (!LEFT_OUT.has(name) && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
    }
  }
  const ssh = execFileSync('bash', ['-c', 'command -v ssh'], { encoding: 'utf8' }).trim();
  writeFileSync(
    join(wrap, 'ssh'),
    '#!/bin/bash\n' +
      'if [ "$#" = 5 ] && [ "$1" = -F ] && [ "$3" = -- ]; then\n' +
      `  set -- "$1" "$2" -- "$4" ${quote(`env PATH=${bin} `)}"$5"\n` +
      'fi\n' +
      `exec ${quote(ssh)} "$@"\n`,
    { mode: 0o755 },
  );
  return {
    path: `${wrap}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
