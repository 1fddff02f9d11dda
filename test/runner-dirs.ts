// A fresh runner's tool cache and temp directory for each test of an installer: @actions/tool-cache
// reads RUNNER_TOOL_CACHE and RUNNER_TEMP when it downloads and caches, as on a runner. The step's
// stdout (workflow commands) is silenced; everything is removed after each test.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

export interface RunnerDirs {
  toolCache: string;
  temp: string;
}

/** Registers the hooks; the returned object holds the current test's directories. */
export function useRunnerDirs(prefix: string): RunnerDirs {
  const dirs: RunnerDirs & { root: string } = { root: '', toolCache: '', temp: '' };
  beforeEach(() => {
    dirs.root = mkdtempSync(join(tmpdir(), `${prefix}-`));
    dirs.toolCache = join(dirs.root, 'tool-cache');
    dirs.temp = join(dirs.root, 'temp');
    mkdirSync(dirs.toolCache);
    mkdirSync(dirs.temp);
    vi.stubEnv('RUNNER_TOOL_CACHE', dirs.toolCache);
    vi.stubEnv('RUNNER_TEMP', dirs.temp);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    rmSync(dirs.root, { recursive: true, force: true });
  });
  return dirs;
}
