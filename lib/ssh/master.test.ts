import { describe, expect, it } from 'vitest';
import { sessionParentDir } from './master.js';

describe('sessionParentDir', () => {
  it("keeps the runner's temp dir while the control socket's path fits a Unix socket", () => {
    expect(sessionParentDir('/home/runner/work/_temp', '/tmp')).toBe('/home/runner/work/_temp');
    expect(sessionParentDir(undefined, '/tmp')).toBe('/tmp');
  });
  it('falls back to the system temp dir, then /tmp, when the path would be too long', () => {
    const deep = `/home/runner/${'x'.repeat(60)}/_temp`;
    expect(sessionParentDir(deep, '/var/tmp')).toBe('/var/tmp');
    expect(sessionParentDir(deep, `/var/${'y'.repeat(80)}`)).toBe('/tmp');
  });
});
