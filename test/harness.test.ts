import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { inputEnvName, parseFileCommands, runAction } from '../scripts/lab/harness.js';
import { repoRoot } from '../scripts/lab/lab.js';
import { readStepOutput } from '../scripts/lab/step-output.js';

const probe = join(repoRoot, 'test/fixtures/probe-action');

describe('parseFileCommands', () => {
  it('reads k=v lines and heredocs', () => {
    const text = 'a=1\nb<<EOF_1\nline 1\nline=2\nEOF_1\nc=x=y\n';
    expect(parseFileCommands(text)).toEqual({ a: '1', b: 'line 1\nline=2', c: 'x=y' });
  });
  it('rejects an unclosed heredoc', () => {
    expect(() => parseFileCommands('a<<X\nbody\n')).toThrow(/never closed/);
  });
});

describe('readStepOutput (the runner reading workflow commands)', () => {
  it('collects masks (taken out of the log) and annotations, in both syntaxes', () => {
    const r = readStepOutput(
      'a\n::add-mask::s%0Aecret\n  ::error file=x,line=1::e%25 1\nb ##[warning]w\r::notice::n\n',
    );
    expect(r).toEqual({
      log: 'a\n  ::error file=x,line=1::e%25 1\nb ##[warning]w\n::notice::n\n',
      masks: ['s\necret'],
      errors: ['e% 1'],
      warnings: ['w'],
    });
  });

  it('obeys nothing between ::stop-commands::<token> and the ::<token>:: line', () => {
    const r = readStepOutput(
      [
        '::stop-commands::tok1',
        '::error::pwned',
        '::add-mask::x',
        'mid ##[warning]pwned',
        '::stop-commands::other',
        '::other::',
        'not at the start ::tok1::',
        '::TOK1::',
        '::error::after',
        '::stop-commands::',
        '::error::an empty token never resumes',
        '::::',
      ].join('\n'),
    );
    expect(r.errors).toEqual(['after']);
    expect(r.warnings).toEqual([]);
    expect(r.masks).toEqual([]);
    expect(r.log).toContain('::add-mask::x');
  });
});

describe('inputEnvName', () => {
  it('upper-cases, keeps hyphens and turns spaces into underscores', () => {
    expect(inputEnvName('cache-dir')).toBe('INPUT_CACHE-DIR');
    expect(inputEnvName('with space')).toBe('INPUT_WITH_SPACE');
  });
});

describe('runAction', () => {
  it('runs main and post on Node 24 with inputs, defaults, file commands and state', async () => {
    process.env.INPUT_LEAK_CHECK = 'leaked';
    try {
      const r = await runAction(probe, {
        inputs: { 'multi-line': 'one\ntwo', 'with space': 'spaced' },
        eventName: 'workflow_dispatch',
      });
      expect(r.exitCode, r.log).toBe(0);
      expect(r.outputs).toMatchObject({
        greeting: 'hello',
        multi: 'one\ntwo',
        spaced: 'spaced',
        'workspace-default': repoRoot,
        'event-name': 'workflow_dispatch',
        leaked: 'none',
      });
      expect(r.outputs.node).toMatch(/^v24\./);
      expect(r.state).toEqual({ token: 'state-value' });
      expect(r.exportedEnv).toEqual({ PROBE_EXPORTED: 'yes' });
      expect(r.addedPath).toEqual(['/opt/probe/bin']);
      expect(r.summary).toContain('summary body');
      expect(r.masks).toEqual(['probe-secret-value']);
      expect(r.log).not.toContain('probe-secret-value');
      expect(r.warnings).toEqual(['a warning']);
      expect(r.post?.exitCode).toBe(0);
      expect(r.post?.log).toContain('post saw state state-value');
    } finally {
      delete process.env.INPUT_LEAK_CHECK;
    }
  });

  it('reports a failing main step and honours post-if: success()', async () => {
    const r = await runAction(probe, { inputs: { fail: true } });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual(['probe failed on purpose']);
    expect(r.post).toBeUndefined();
  });

  it('refuses an input the action does not declare', async () => {
    await expect(runAction(probe, { inputs: { nope: 'x' } })).rejects.toThrow(/has no input "nope"/);
  });
});
