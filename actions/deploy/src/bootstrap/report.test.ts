// The bootstrap's report as the host sends it (base64 fields) and the job summary made of it: a
// hostile host cannot add a workflow command, a table row or markup.
import { describe, expect, it } from 'vitest';
import { HostReport } from '../../../../lib/ssh/host-script.js';
import { bootstrapMarkdown, changeText, parseChanges, readPhaseReport } from './report.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const line = (item: string, before: string, after: string) =>
  `change=${b64(item)} ${b64(before)} ${b64(after)}`;

describe('readPhaseReport', () => {
  it('reads the rows, the error, warnings, the system and Docker', () => {
    const stdout = [
      'bootstrap: profile production',
      `::berth::${line('package docker.io', 'absent', '26.1.5+dfsg1-9')}`,
      `::berth::${line('user deploy in group docker', 'yes', 'yes')}`,
      '::berth::os=debian 12',
      '::berth::docker=engine 26.1.5, compose 2.26.1, buildx 0.13.1',
      '::berth::warning=ufw keeps rules that Berth did not add: ufw allow 8080/tcp',
      '::berth::error=unsupported system',
    ].join('\n');
    const r = readPhaseReport(HostReport.parse(stdout));
    expect(r.changes).toEqual([
      { item: 'package docker.io', before: 'absent', after: '26.1.5+dfsg1-9' },
      { item: 'user deploy in group docker', before: 'yes', after: 'yes' },
    ]);
    expect(r).toMatchObject({
      os: 'debian 12',
      error: 'unsupported system',
      docker: 'engine 26.1.5, compose 2.26.1, buildx 0.13.1',
    });
    expect(r.warnings).toEqual(['ufw keeps rules that Berth did not add: ufw allow 8080/tcp']);
    expect(changeText(r.changes[0]!)).toBe('absent -> 26.1.5+dfsg1-9');
    expect(changeText(r.changes[1]!)).toBe('unchanged (yes)');
  });

  it('drops rows that do not decode and shows the rest on one bounded line', () => {
    const rows = parseChanges([
      `${b64('file x')} not*base64 ${b64('y')}`,
      `${b64('only two')} ${b64('fields')}`,
      Buffer.from([0xff, 0xfe]).toString('base64') + ` ${b64('a')} ${b64('b')}`,
      `${b64('x\n::error::pwned')} ${b64('a'.repeat(500))} ${b64('##[warning]pwned')}`,
    ]);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row!.item).toBe('x\\n::error::pwned');
    expect(row!.before.length).toBeLessThanOrEqual(201);
    expect(row!.after).not.toContain('##[');
  });
});

describe('bootstrapMarkdown', () => {
  const facts = {
    target: 'root@203.0.113.7:22',
    profile: 'production',
    deployUser: 'deploy',
    os: 'debian 12',
    docker: 'engine 26.1.5',
    hardening: "hardened after deploy logged in with the action's key",
    seconds: 93.2,
  };

  it('puts host values in code spans, pipes escaped, one row each', () => {
    const md = bootstrapMarkdown(facts, [
      { item: 'file /etc/a|b', before: 'absent', after: '<img src=x>' },
      { item: 'ufw', before: 'active', after: 'active' },
    ]);
    expect(md).toContain('| `file /etc/a\\|b` | `absent` → `<img src=x>` |');
    expect(md).toContain('| `ufw` | unchanged (`active`) |');
    expect(md).toContain('| changed | 1 of 2 items |');
  });

  it('says when nothing changed', () => {
    expect(bootstrapMarkdown(facts, [{ item: 'ufw', before: 'active', after: 'active' }])).toContain(
      '| changed | nothing (all 1 items already as wanted) |',
    );
  });
});
