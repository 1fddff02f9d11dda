// The lab's cosign (scripts/lab/cosign-release.sh, run by lab:up): Debian's cosign on this machine and
// the same binary served as upstream's release, and key pairs made with it for tests.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cosign } from '../../lib/tools/cosign-install.js';
import { envFile, labDir } from './lab.js';

const execFileP = promisify(execFile);

export interface CosignLab {
  /** the upstream version Debian's package is built from (the release served under it) */
  version: string;
  /** the installed `cosign` */
  bin: string;
  /** the base URL that replaces https://github.com/sigstore/cosign/releases/download */
  downloadUrl: string;
}

export function readCosignLab(): CosignLab {
  const { get } = envFile(join(labDir, 'cosign', 'env'), '.lab/cosign/env');
  return {
    version: get('LAB_COSIGN_VERSION'),
    bin: get('LAB_COSIGN_BIN'),
    downloadUrl: get('LAB_COSIGN_DOWNLOAD_URL'),
  };
}

/** The lab's cosign as lib/tools/cosign.ts takes it. */
export function labCosign(c: CosignLab): Cosign {
  return { path: c.bin, version: c.version, source: 'tool-cache' };
}

export interface KeyPair {
  /** the encrypted private key (cosign.key) */
  privateKey: string;
  password: string;
  /** the public key (cosign.pub) */
  publicKey: string;
}

/** `cosign generate-key-pair` in `dir` (files `<name>.key`, `<name>.pub`), the password in its environment. */
export async function cosignKeyPair(
  c: CosignLab,
  dir: string,
  name: string,
  password: string,
): Promise<KeyPair> {
  const prefix = join(dir, name);
  await execFileP(c.bin, ['generate-key-pair', `--output-key-prefix=${prefix}`], {
    env: { ...process.env, COSIGN_PASSWORD: password },
  });
  return {
    privateKey: readFileSync(`${prefix}.key`, 'utf8'),
    password,
    publicKey: readFileSync(`${prefix}.pub`, 'utf8'),
  };
}
