// Runs real processes (sh, cat, env) to check streaming, capture, stdin, env merging and failure messages,
// and the runner under run() and ssh: streamed stdin and stdout, lines, signals, timeouts.
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run, runProcess, which } from './exec.js';

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

describe('runProcess', () => {
  it('streams a readable as stdin and reports stdout lines as they come', async () => {
    const lines: string[] = [];
    const result = await runProcess('cat', [], {
      input: Readable.from([Buffer.from('one\ntw'), Buffer.from('o\r\nthr'), Buffer.from('ee')]),
      onStdoutLine: (line) => lines.push(line),
      silent: true,
    });
    expect(lines).toEqual(['one', 'two', 'three']);
    expect(result).toEqual({ exitCode: 0, stdout: 'one\ntwo\r\nthree', stderr: '' });
  });

  it('gives an empty stdin when there is no input, and streams output to the log unless silent', async () => {
    const result = await runProcess('sh', ['-c', 'cat; echo end; echo err >&2']);
    expect(result).toEqual({ exitCode: 0, stdout: 'end\n', stderr: 'err\n' });
    expect(logged).toMatch(/^::stop-commands::([0-9a-f]{32})\nend\nerr\n::\1::\n$/);
  });

  it('pipes binary stdout into a stream, leaving the captured stdout empty', async () => {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    const result = await runProcess('printf', ['\\000\\377x'], { stdout: sink, silent: true });
    expect(result.stdout).toBe('');
    expect(Buffer.concat(chunks)).toEqual(Buffer.from([0, 255, 0x78]));
  });

  it('reports a signal as 128 + its number, and a timeout', async () => {
    expect((await runProcess('sh', ['-c', 'kill -TERM $$'], { silent: true })).exitCode).toBe(143);
    const slow = await runProcess('sleep', ['5'], { silent: true, timeoutMs: 50 });
    expect(slow).toMatchObject({ exitCode: 143, timedOut: true });
  });

  it('writes stderr to a file descriptor and resolves when the process exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-exec-'));
    try {
      const fd = openSync(join(dir, 'log'), 'w');
      // The background `sleep` keeps the output open; the call must not wait for it.
      const result = await runProcess('sh', ['-c', 'echo why >&2; sleep 5 & exit 2'], {
        stderrFd: fd,
        silent: true,
      });
      closeSync(fd);
      expect(result).toEqual({ exitCode: 2, stdout: '', stderr: '' });
      expect(readFileSync(join(dir, 'log'), 'utf8')).toBe('why\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails when the input stream fails or onStdoutLine throws', async () => {
    const broken = new Readable({ read() {} });
    const running = runProcess('cat', [], { input: broken, silent: true });
    broken.destroy(new Error('disk gone'));
    await expect(running).rejects.toThrow('the input stream failed: Error: disk gone');
    const throwing = runProcess('echo', ['x'], {
      silent: true,
      onStdoutLine: () => {
        throw new Error('bad line');
      },
    });
    await expect(throwing).rejects.toThrow('bad line');
  });

  it('uses exactly the environment it is given', async () => {
    vi.stubEnv('BERTH_INHERITED', 'kept');
    const script = 'echo "${BERTH_INHERITED-unset} ${BERTH_GIVEN-unset}"';
    expect((await runProcess('/bin/sh', ['-c', script], { silent: true })).stdout).toBe('kept unset\n');
    const env = { BERTH_GIVEN: 'given' };
    expect((await runProcess('/bin/sh', ['-c', script], { env, silent: true })).stdout).toBe('unset given\n');
  });
});

describe('tool output in the log', () => {
  // What a hostile tool or host prints: workflow commands on stdout and stderr, a command in the
  // runner's older syntax, and a last line without its newline.
  const hostile = [
    "printf '::error::pwned\\n::add-mask::x\\n'",
    "printf '::set-output name=a::b\\n##[error]old syntax\\n' >&2",
  ].join('; ');

  /** The log's lines outside stop-commands blocks, and the tokens of the blocks. */
  function outsideBlocks(log: string): { outside: string[]; tokens: string[] } {
    const outside: string[] = [];
    const tokens: string[] = [];
    let token: string | undefined;
    for (const line of log.split('\n')) {
      if (token === undefined) {
        const stop = /^::stop-commands::([0-9a-f]{32})$/.exec(line);
        if (stop) tokens.push((token = stop[1]!));
        else outside.push(line);
      } else if (line === `::${token}::`) {
        token = undefined;
      }
    }
    expect(token, 'every block ends').toBeUndefined();
    return { outside, tokens };
  }

  it('puts stdout and stderr between ::stop-commands::<random token> and ::<token>::', async () => {
    const result = await run('sh', ['-c', hostile]);
    expect(result).toMatchObject({ stdout: '::error::pwned\n::add-mask::x\n' });
    const first = outsideBlocks(logged);
    expect(first.tokens).toHaveLength(1);
    expect(first.outside[0]).toMatch(/^\[command\]/);
    // Nothing the runner would obey: no line starting with `::`, no `##[` (not even in the command line).
    expect(first.outside.filter((l) => /^\s*::|##\[/.test(l))).toEqual([]);
    for (const line of ['::error::pwned', '::add-mask::x', '::set-output name=a::b', '##[error]old syntax'])
      expect(logged.split('\n')).toContain(line);
    // Everything went to stdout: the runner reads stdout and stderr in no fixed order between them.
    expect(vi.mocked(process.stderr.write)).not.toHaveBeenCalled();

    logged = '';
    await runProcess('sh', ['-c', hostile]);
    const second = outsideBlocks(logged);
    expect(second.outside).toEqual(['']);
    expect(second.tokens[0]).not.toBe(first.tokens[0]);
  });

  it('ends the block on a line of its own when the output did not end with a newline', async () => {
    await runProcess('sh', ['-c', "printf '::error::a\\n::warning::no newline'"]);
    expect(logged).toMatch(/^::stop-commands::([0-9a-f]{32})\n::error::a\n::warning::no newline\n::\1::\n$/);
  });

  it('shares one block between processes that stream at the same time', async () => {
    const slow = runProcess('sh', ['-c', "echo '::error::a'; sleep 0.3; echo '::error::late'"]);
    await new Promise((done) => setTimeout(done, 100));
    await runProcess('sh', ['-c', "echo '::error::b'"]);
    await slow;
    const { outside, tokens } = outsideBlocks(logged);
    expect(tokens).toHaveLength(1);
    expect(outside).toEqual(['']);
    expect(logged.indexOf('::error::late')).toBeLessThan(logged.indexOf(`::${tokens[0]}::`));
  });

  it('ends the block before a failure is reported, and logs nothing of the process after it', async () => {
    const broken = new Readable({ read() {} });
    const running = runProcess(
      'sh',
      ['-c', "echo '::error::before'; cat >/dev/null; echo '::error::after'"],
      {
        input: broken,
      },
    );
    await new Promise((done) => setTimeout(done, 100));
    broken.destroy(new Error('disk gone'));
    await expect(running).rejects.toThrow('the input stream failed');
    const { outside } = outsideBlocks(logged);
    expect(outside).toEqual(['']);
    expect(logged).not.toContain('::error::after');
  });

  it('opens no block for a process that prints nothing, or when silent', async () => {
    await runProcess('true', []);
    await runProcess('echo', ['::error::quiet'], { silent: true });
    expect(logged).toBe('');
  });
});
