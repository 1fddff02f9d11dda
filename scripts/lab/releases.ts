// What the lab's release server (.lab/releases behind http://127.0.0.1:<port>, started by lab:up)
// was asked for: its log's GET lines, so tests can say which release files a run downloaded.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { labDir } from './lab.js';

const releasesLog = join(labDir, 'releases.log');

/**
 * Runs `fn` and returns the paths the release server served under `base` (a URL) meanwhile, without
 * the base's path and its `/`.
 */
export async function releaseGetsDuring<T>(
  base: string,
  fn: () => Promise<T>,
): Promise<{ result: T; gets: string[] }> {
  const offset = existsSync(releasesLog) ? statSync(releasesLog).size : 0;
  const result = await fn();
  await new Promise((resolve) => setTimeout(resolve, 200)); // the server logs after it answers
  const prefix = `${new URL(base).pathname.replace(/\/+$/, '')}/`;
  const gets = readFileSync(releasesLog)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .map((line) => /"GET (\S+) HTTP/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined && p.startsWith(prefix))
    .map((p) => p.slice(prefix.length));
  return { result, gets };
}
