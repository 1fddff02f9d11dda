import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostReport, renderHostScript, type HostValues } from './host-script.js';
import {
  MAX_TEXTFILE_BYTES,
  METRICS_DIR_CHECK,
  metricsDirError,
  parseMetricsDir,
  readTextfileReport,
  TEXTFILE_READ,
  TEXTFILE_WRITE,
  textfile,
  textfileValues,
} from './textfile.js';

/** Runs a snippet with the local bash, its values as the host would get them. */
const run = (body: string, values: HostValues): HostReport =>
  HostReport.parse(execFileSync('bash', ['-c', renderHostScript(body, values)], { encoding: 'utf8' }));

const dir = () => mkdtempSync(join(tmpdir(), 'berth-textfile-'));

describe('parseMetricsDir', () => {
  it('takes an absolute path (trailing slashes dropped) or nothing', () => {
    expect(parseMetricsDir('metrics-dir', ' /var/lib/node-exporter/ ')).toBe('/var/lib/node-exporter');
    expect(parseMetricsDir('metrics-dir', '')).toBeUndefined();
  });

  it.each(['relative/dir', '/a/../etc', '/a\nb', '~/x'])('refuses %j naming the input', (value) => {
    expect(() => parseMetricsDir('metrics-dir', value)).toThrow(/^Input "metrics-dir": .*absolute/);
  });
});

describe('textfile', () => {
  it('refuses a file name that is not `<name>.prom`', () => {
    expect(() => textfile('metrics-dir', '/x', 'a/b.prom')).toThrow();
    expect(() => textfile('metrics-dir', '/x', 'a.txt')).toThrow();
    expect(textfile('metrics-dir', '/x', 'berth-deploy-app.prom').file).toBe('berth-deploy-app.prom');
  });
});

describe('METRICS_DIR_CHECK', () => {
  const check = (d: string, file = 'x.prom') => {
    const t = textfile('metrics-dir', d, file);
    const report = run(METRICS_DIR_CHECK, textfileValues(t));
    return { report, error: metricsDirError(report, t, 'deploy')?.message };
  };

  it('says ok for a writable directory and writes nothing', () => {
    const d = dir();
    const { report, error } = check(d);
    expect(report.last('metrics-dir')).toBe('ok');
    expect(error).toBeUndefined();
    expect(readdirSync(d)).toEqual([]);
  });

  it('names the input and the path for a missing directory, a file, or a directory in the way', () => {
    const d = dir();
    expect(check(join(d, 'missing')).error).toMatch(/^Input "metrics-dir": .*missing does not exist/);
    writeFileSync(join(d, 'file'), '');
    expect(check(join(d, 'file')).error).toMatch(/^Input "metrics-dir": .*file is not a directory/);
    mkdirSync(join(d, 'x.prom'));
    expect(check(d).error).toMatch(/^Input "metrics-dir": .*x\.prom is a directory/);
  });

  it('checks nothing without a directory', () => {
    expect(run(METRICS_DIR_CHECK, textfileValues(undefined)).lines).toEqual([]);
  });
});

describe('TEXTFILE_WRITE and TEXTFILE_READ', () => {
  it('writes the file 0644 through <name>.prom.tmp, leaves no temp file, and reads it back', () => {
    const d = dir();
    const t = textfile('metrics-dir', d, 'berth-x.prom');
    const content = "a 1\nquote ' and $(touch /tmp/nope) `x`\n";
    run(TEXTFILE_WRITE, { ...textfileValues(t), CONTENT: content });
    expect(readFileSync(join(d, 'berth-x.prom'), 'utf8')).toBe(content);
    expect(statSync(join(d, 'berth-x.prom')).mode & 0o777).toBe(0o644);
    expect(readdirSync(d)).toEqual(['berth-x.prom']);
    expect(readTextfileReport(run(TEXTFILE_READ, textfileValues(t)))).toBe(content);
    run(TEXTFILE_WRITE, { ...textfileValues(t), CONTENT: 'b 2\n' });
    expect(readFileSync(join(d, 'berth-x.prom'), 'utf8')).toBe('b 2\n');
  });

  it('never writes through a link left as the temp file', () => {
    const d = dir();
    const victim = join(dir(), 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(d, 'berth-x.prom.tmp'));
    const t = textfile('metrics-dir', d, 'berth-x.prom');
    run(TEXTFILE_WRITE, { ...textfileValues(t), CONTENT: 'a 1\n' });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(join(d, 'berth-x.prom'), 'utf8')).toBe('a 1\n');
    expect(existsSync(join(d, 'berth-x.prom.tmp'))).toBe(false);
  });

  it('reads nothing from a missing file or one larger than any Berth writes', () => {
    const d = dir();
    const t = textfile('metrics-dir', d, 'berth-x.prom');
    expect(readTextfileReport(run(TEXTFILE_READ, textfileValues(t)))).toBe('');
    writeFileSync(join(d, 'berth-x.prom'), 'x'.repeat(MAX_TEXTFILE_BYTES + 1));
    expect(readTextfileReport(run(TEXTFILE_READ, textfileValues(t)))).toBe('');
  });
});
