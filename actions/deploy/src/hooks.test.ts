import { describe, expect, it } from 'vitest';
import { renderAssignments } from '../../../lib/ssh/host-script.js';
import { hookDependencies, hookValues, parseHooks, splitCommand } from './hooks.js';

describe('splitCommand', () => {
  it.each([
    ['migrate', ['migrate']],
    ['  migrate   --to  v2 ', ['migrate', '--to', 'v2']],
    [`say 'a b' "c d"`, ['say', 'a b', 'c d']],
    [`x 'it''s' "say \\"hi\\"" a\\ b`, ['x', 'its', 'say "hi"', 'a b']],
    [`keep "\\n \\$HOME \\\\" '\\'`, ['keep', '\\n $HOME \\', '\\']],
    ['$HOME * ~ ; | && `id` $(id)', ['$HOME', '*', '~', ';', '|', '&&', '`id`', '$(id)']],
    [`empty '' ""`, ['empty', '', '']],
    [`a"b"'c'd`, ['abcd']],
  ])('%s', (text, argv) => {
    expect(splitCommand(text)).toEqual(argv);
  });

  it('refuses an unbalanced quote and a trailing backslash', () => {
    expect(() => splitCommand(`say 'hi`)).toThrow(/unbalanced ' quote at column 5/);
    expect(() => splitCommand(`say "hi`)).toThrow(/unbalanced " quote/);
    expect(() => splitCommand('say \\')).toThrow(/trailing backslash/);
  });
});

describe('parseHooks', () => {
  it('reads SERVICE: COMMAND lines', () => {
    expect(parseHooks('pre-deploy', ['api: migrate', "worker: run 'a: b'"])).toEqual([
      { service: 'api', argv: ['migrate'] },
      { service: 'worker', argv: ['run', 'a: b'] },
    ]);
  });

  it.each([
    ['migrate', /^Input "pre-deploy": line 1 is not "SERVICE: COMMAND"/],
    [': migrate', /line 1 is not "SERVICE: COMMAND"/],
    ['bad service: x', /line 1 is not "SERVICE: COMMAND"/],
    ['api:', /^Input "pre-deploy": line 1 \(api\) has no command/],
    ["api: say 'x", /^Input "pre-deploy": line 1 \(api\): unbalanced ' quote at column 10$/],
  ])('%s fails naming the input and line', (line, message) => {
    expect(() => parseHooks('pre-deploy', [line])).toThrow(message);
  });
});

describe('hookDependencies', () => {
  const config = {
    services: {
      nginx: { depends_on: { api: {} } },
      api: { depends_on: { db: {}, cache: {} } },
      cache: { depends_on: ['db'] },
      db: {},
    },
  };

  it("gives the pre-deploy hooks' services' dependencies, transitively", () => {
    const pre = parseHooks('pre-deploy', ['api: migrate']);
    const post = parseHooks('post-deploy', ['nginx: reload']);
    expect(hookDependencies(config, { 'pre-deploy': pre, 'post-deploy': post })).toEqual(['cache', 'db']);
  });

  it('fails on a service that is not in the compose files, naming the input', () => {
    const post = parseHooks('post-deploy', ['web: x']);
    expect(() => hookDependencies(config, { 'pre-deploy': [], 'post-deploy': post })).toThrow(
      /^Input "post-deploy": service "web" is not in the compose files \(services: nginx, api, cache, db\)/,
    );
  });
});

describe('hookValues', () => {
  it('flattens the argv of every hook into quoted arrays', () => {
    const hooks = parseHooks('pre-deploy', [`api: migrate "x'; touch /tmp/p"`, 'db: a b']);
    expect(renderAssignments(hookValues('PRE', hooks))).toBe(
      [
        `PRE_SERVICES=('api' 'db')`,
        `PRE_ARGC=('2' '2')`,
        `PRE_ARGV=('migrate' 'x'\\''; touch /tmp/p' 'a' 'b')`,
      ].join('\n'),
    );
  });
});
