// What installRelease() wrote beside a tool it put into the tool cache, and the check of a cached
// copy against it: the tool cache is a directory any earlier step of the job (or an earlier job on a
// self-hosted runner) can write to, so a copy found there is trusted only while its binary hashes to
// what was verified when it was installed.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The record's file name, in the cached tool's directory. */
export const INSTALL_RECORD = '.berth-installed.json';

export interface InstallRecord {
  /** the archive's download URL */
  url: string;
  /** the archive's SHA-256, verified before it was unpacked */
  archiveSha256: string;
  /** the SHA-256 of the binary as it was unpacked */
  binarySha256: string;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function writeInstallRecord(dir: string, record: InstallRecord): Promise<void> {
  await writeFile(join(dir, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`);
}

async function readInstallRecord(dir: string): Promise<InstallRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(join(dir, INSTALL_RECORD), 'utf8')) as Partial<InstallRecord>;
    const hex = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
    if (typeof value.url !== 'string' || !hex(value.archiveSha256) || !hex(value.binarySha256))
      return undefined;
    return { url: value.url, archiveSha256: value.archiveSha256, binarySha256: value.binarySha256 };
  } catch {
    return undefined;
  }
}

/**
 * Why the copy of `tool` in the cached directory `dir` is not to be trusted, or undefined when it is:
 * its record must exist, name `url`, agree with `expected` (a pin or a hash known ahead) about the
 * archive, and the binary must still hash to the recorded value.
 */
export async function cachedToolProblem(
  dir: string,
  tool: string,
  url: string,
  expected: { sha256: string; from: string } | undefined,
): Promise<string | undefined> {
  const record = await readInstallRecord(dir);
  if (record === undefined) return `has no readable ${INSTALL_RECORD} (it was not installed by Berth)`;
  if (record.url !== url) return `was installed from ${record.url}, not ${url}`;
  if (expected !== undefined && record.archiveSha256 !== expected.sha256) {
    return `was installed from an archive with SHA-256 ${record.archiveSha256}, but ${expected.from} is ${expected.sha256}`;
  }
  const binary = join(dir, tool);
  if (!existsSync(binary)) return `has no ${tool} binary`;
  const actual = await sha256File(binary);
  if (actual !== record.binarySha256) {
    return `has a ${tool} binary with SHA-256 ${actual}, but ${record.binarySha256} was installed (it was replaced)`;
  }
  return undefined;
}
