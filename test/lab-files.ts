// Small lab fixtures shared by the integration tests: a project's volume as compose labels it, and
// promtool's verdict on a textfile (#20).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * A volume `name` labelled as compose project `project`'s volume `label`, filled (when `fill` is
 * given) by that shell command run in `image` with the volume at /v.
 */
export async function labelledVolume(
  image: string,
  project: string,
  name: string,
  label: string,
  fill = '',
): Promise<void> {
  await exec('docker', [
    'volume',
    'create',
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    `com.docker.compose.volume=${label}`,
    name,
  ]);
  if (fill)
    await exec('docker', ['run', '--rm', '-v', `${name}:/v`, '--entrypoint', 'sh', image, '-c', fill]);
}

/** `promtool check metrics` on the file at `path`: its exit code and everything it said (lint included). */
export function promtoolCheck(path: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin!.end(readFileSync(path));
  });
}
