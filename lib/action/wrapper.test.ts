// Exercises runAction against the real @actions/core, the way the runner drives it: state through the
// GITHUB_STATE file and STATE_* variables, workflow commands on stdout, failure through process.exitCode.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IS_POST_STATE, errorMessage, runAction } from './wrapper.js';

let dir: string;
let stateFile: string;
let stdout: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-action-'));
  stateFile = join(dir, 'state');
  writeFileSync(stateFile, '');
  vi.stubEnv('GITHUB_STATE', stateFile);
  vi.stubEnv(`STATE_${IS_POST_STATE}`, '');
  vi.stubEnv('RUNNER_DEBUG', '');
  stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  process.exitCode = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function asPostStep(): void {
  vi.stubEnv(`STATE_${IS_POST_STATE}`, 'true');
}

describe('runAction', () => {
  it('runs main on the main step and records state so the post step can tell', async () => {
    const main = vi.fn(async () => {});
    const post = vi.fn(async () => {});
    await runAction({ main, post });
    expect(main).toHaveBeenCalledOnce();
    expect(post).not.toHaveBeenCalled();
    expect(readFileSync(stateFile, 'utf8')).toMatch(/^isPost<<(\S+)\ntrue\n\1\n$/);
    expect(process.exitCode).toBeUndefined();
  });

  it('saves no state for an action without a post step', async () => {
    await runAction({ main: async () => {} });
    expect(readFileSync(stateFile, 'utf8')).toBe('');
  });

  it('runs post, not main, when the state is set', async () => {
    asPostStep();
    const main = vi.fn(async () => {});
    const post = vi.fn(async () => {});
    await runAction({ main, post });
    expect(post).toHaveBeenCalledOnce();
    expect(main).not.toHaveBeenCalled();
  });

  it('does nothing on a post step when the action has no post', async () => {
    asPostStep();
    const main = vi.fn(async () => {});
    await runAction({ main });
    expect(main).not.toHaveBeenCalled();
    expect(stdout).toBe('');
  });

  it('fails the step with the error message and no stack', async () => {
    await runAction({
      main: async () => {
        throw new Error('registry ghcr.io refused the push');
      },
    });
    expect(process.exitCode).toBe(1);
    expect(stdout).toBe('::error::registry ghcr.io refused the push\n');
  });

  it('adds the stack as a debug line when step debugging is on', async () => {
    vi.stubEnv('RUNNER_DEBUG', '1');
    await runAction({
      main: async () => {
        throw new Error('boom');
      },
    });
    expect(stdout).toMatch(/^::debug::Error: boom%0A {4}at /);
    expect(stdout).toContain('::error::boom\n');
  });

  it('reports non-Error throws as text', async () => {
    await runAction({
      main: async () => {
        throw 'plain string';
      },
    });
    expect(stdout).toBe('::error::plain string\n');
    expect(process.exitCode).toBe(1);
  });

  it('turns post errors into warnings, leaving the job green', async () => {
    asPostStep();
    await runAction({
      main: async () => {},
      post: async () => {
        throw new Error('could not release the deploy lock');
      },
    });
    expect(stdout).toBe('::warning::Post step: could not release the deploy lock\n');
    expect(process.exitCode).toBeUndefined();
  });
});

describe('errorMessage', () => {
  it('includes the cause chain', () => {
    const root = new Error('connection refused');
    const error = new Error('ssh to deploy@host failed', { cause: root });
    expect(errorMessage(error)).toBe('ssh to deploy@host failed: caused by: connection refused');
  });

  it('stops on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(errorMessage(a).split(': caused by: ')).toHaveLength(6);
  });
});
