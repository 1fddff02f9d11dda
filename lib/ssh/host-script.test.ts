import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HostReport, bash, readReportLine, renderAssignments, renderHostScript } from './host-script.js';

/** Runs a rendered script with the local bash, as the host's would. */
function runLocally(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script, 'berth-script'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const HOSTILE = [
  "it's",
  '$(touch /tmp/berth-pwned)',
  '`id`',
  'a\nb',
  '; rm -rf / #',
  '-rf',
  '${HOME}',
  '"\\',
  '::berth::status=deployed',
];

describe('renderHostScript', () => {
  it('hands every hostile value to the body exactly as it was', () => {
    const values = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
    const body = HOSTILE.map((_, i) => `printf '%s\\0' "$V${i}"`).join('\n');
    const r = runLocally(renderHostScript(body, values));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
  });

  it('passes lists as arrays, booleans as 1/0, numbers as text', () => {
    const r = runLocally(
      renderHostScript('printf "%s|" "${#L[@]}" "${L[1]}" "$B" "$N"', { L: ['a b', "c'd"], B: true, N: 42 }),
    );
    expect(r.stdout).toBe("2|c'd|1|42|");
  });

  it('refuses a variable name that is not one', () => {
    expect(() => renderAssignments({ 'A;B': 'x' })).toThrow('is not a host script variable name');
    expect(() => renderAssignments({ lower: 'x' })).toThrow('is not a host script variable name');
  });

  it('reports the failing line and command on stderr, leaving stdout to data', () => {
    const r = runLocally(renderHostScript('printf data\nfalse "$X"\necho never', { X: 'x' }));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('data');
    expect(r.stderr).toMatch(/^berth: line \d+: `false "\$X"` exited with 1$/m);
  });

  it('stays quiet about failures a subshell captures or tolerates', () => {
    const r = runLocally(
      renderHostScript('out=$(false; echo captured) || true\n( false ) || true\necho "$out"'),
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('captured\n');
    expect(r.stderr).toBe('');
  });

  it('tells a failure once, a multi-line command by its first line', () => {
    const r = runLocally(renderHostScript("out=$(sh -c '\n  echo why >&2\n  exit 2')\necho never"));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^why\nberth: line \d+: `out=\$\(sh -c ' …` exited with 2\n$/);
  });

  it('emits report lines that HostReport reads back', () => {
    const r = runLocally(renderHostScript('emit volume "shop_db db"\nemit count 3\nemit count 4'));
    const report = HostReport.parse(r.stdout);
    expect(report.pairs('volume')).toEqual([['shop_db', 'db']]);
    expect(report.int('count')).toBe(4);
    expect(report.all('count')).toEqual(['3', '4']);
    expect(report.has('missing')).toBe(false);
    expect(report.last('missing')).toBeUndefined();
  });
});

describe('bash', () => {
  it('turns $\\{ back into ${', () => {
    expect(bash`echo $\{x:-y}`).toBe('echo ${x:-y}');
  });
});

describe('readReportLine', () => {
  it('reads key=value lines and nothing else', () => {
    expect(readReportLine('::berth::status=deployed')).toEqual({ key: 'status', value: 'deployed' });
    expect(readReportLine('::berth::empty=')).toEqual({ key: 'empty', value: '' });
    expect(readReportLine('noise ::berth::status=x')).toBeUndefined();
    expect(readReportLine('::berth::Bad Key=x')).toBeUndefined();
    expect(readReportLine('::error::x')).toBeUndefined();
  });

  it('strips control characters and bounds the value', () => {
    expect(readReportLine('::berth::k=a\u001b[31mb\u0007\r')).toEqual({ key: 'k', value: 'a[31mb' });
    expect(readReportLine(`::berth::k=${'x'.repeat(100_000)}`)!.value).toHaveLength(64 * 1024);
  });

  it('int refuses what is not a whole number', () => {
    expect(HostReport.parse('::berth::n=12abc').int('n')).toBeUndefined();
    expect(HostReport.parse('::berth::n=-1').int('n')).toBeUndefined();
  });
});
