// Runs real processes (sh, cat, env) to check streaming, capture, stdin, env merging and failure messages.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run, which } from './exec.js';

let logged: string;

/** The message a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
}

beforeEach(() => {
  logged = '';
  const capture = (chunk: string | Uint8Array): boolean => {
    logged += chunk.toString();
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('run', () => {
  it('captures stdout and stderr and streams them, with the command line, to the log', async () => {
    const result = await run('sh', ['-c', 'echo out; echo err >&2']);
    expect(result).toEqual({ exitCode: 0, stdout: 'out\n', stderr: 'err\n' });
    expect(logged).toMatch(/^\[command\]\S*\/sh -c 'echo out; echo err >&2'\n/);
    expect(logged).toContain('out\n');
    expect(logged).toContain('err\n');
  });

  it('prints nothing when silent', async () => {
    const result = await run('sh', ['-c', 'echo quiet'], { silent: true });
    expect(result.stdout).toBe('quiet\n');
    expect(logged).toBe('');
  });

  it('throws on failure, naming the command and quoting the end of stderr', async () => {
    const script = 'for i in $(seq 1 30); do echo line$i >&2; done; exit 3';
    const message = await rejection(run('sh', ['-c', script], { silent: true }));
    expect(message).toMatch(/^`sh -c 'for i in .* exit 3'` failed with exit code 3; last lines of stderr:\n/);
    expect(message).toContain('line11\nline12');
    expect(message).not.toContain('line10\n');
    expect(message.endsWith('line30')).toBe(true);
  });

  it('says so when a failing command wrote nothing to stderr', async () => {
    await expect(run('sh', ['-c', 'echo x; exit 3'], { silent: true })).rejects.toThrow(
      "`sh -c 'echo x; exit 3'` failed with exit code 3; (no stderr output)",
    );
  });

  it('returns the exit code instead of throwing with ignoreReturnCode', async () => {
    const result = await run('sh', ['-c', 'echo x; exit 3'], { silent: true, ignoreReturnCode: true });
    expect(result).toEqual({ exitCode: 3, stdout: 'x\n', stderr: '' });
  });

  it('never prints redacted arguments, in the log or in the error', async () => {
    const secret = 's3cr3t-token';
    const message = await rejection(run('sh', ['-c', 'echo denied >&2; exit 1', secret], { redact: [2] }));
    expect(message).toContain("`sh -c 'echo denied >&2; exit 1' ***` failed with exit code 1");
    expect(message).not.toContain(secret);
    expect(logged).not.toContain(secret);
    expect(logged).toContain(' ***\n');
  });

  it('writes input to stdin, for secrets that must not be arguments', async () => {
    expect((await run('cat', [], { input: 'from-stdin', silent: true })).stdout).toBe('from-stdin');
    expect((await run('cat', [], { input: Buffer.from([0x61, 0x62]), silent: true })).stdout).toBe('ab');
  });

  it('merges env over process.env, and undefined removes a variable', async () => {
    vi.stubEnv('BERTH_INHERITED', 'kept');
    vi.stubEnv('BERTH_REMOVED', 'present');
    const script = 'echo "$BERTH_INHERITED $BERTH_ADDED ${BERTH_REMOVED-unset}"';
    const result = await run('sh', ['-c', script], {
      env: { BERTH_ADDED: 'added', BERTH_REMOVED: undefined },
      silent: true,
    });
    expect(result.stdout).toBe('kept added unset\n');
  });

  it('runs in cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-exec-'));
    try {
      expect((await run('pwd', [], { cwd: dir, silent: true })).stdout.trim()).toMatch(/berth-exec-/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing tool before trying to run it', async () => {
    await expect(run('berth-no-such-tool', ['x'])).rejects.toThrow('`berth-no-such-tool` is not on PATH;');
    expect(logged).toBe('');
  });

  it('reports a path that cannot be started', async () => {
    await expect(run('/nonexistent/berth-tool', [], { silent: true })).rejects.toThrow(
      /^`berth-tool` could not be started: /,
    );
  });
});

describe('which', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-which-'));
    writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
    chmodSync(join(dir, 'tool'), 0o755);
    writeFileSync(join(dir, 'not-executable'), '');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds an executable on the search path', async () => {
    await expect(which('tool', undefined, `/nonexistent:${dir}`)).resolves.toBe(join(dir, 'tool'));
    await expect(which('sh')).resolves.toMatch(/\/sh$/);
  });

  it('skips files that are not executable, and directories', async () => {
    await expect(which('not-executable', undefined, dir)).rejects.toThrow('`not-executable` is not on PATH;');
    await expect(which('berth-which', undefined, tmpdir())).rejects.toThrow('is not on PATH');
  });

  it('uses the hint when given', async () => {
    await expect(which('docker', 'Berth needs Docker on the runner', dir)).rejects.toThrow(
      '`docker` is not on PATH; Berth needs Docker on the runner',
    );
    await expect(which('docker', undefined, dir)).rejects.toThrow(
      '`docker` is not on PATH; install it on the runner or add its directory to PATH',
    );
  });
});
