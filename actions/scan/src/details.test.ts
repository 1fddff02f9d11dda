import { describe, expect, it } from 'vitest';
import { dbCacheState, detailsMarkdown } from './details.js';

describe('detailsMarkdown', () => {
  it('says which Trivy, which DB and where the files are', () => {
    const text = detailsMarkdown({
      trivy: { version: '0.74.0', source: 'tool-cache' },
      scanned: 'image read from its registry · scanners vuln, secret',
      db: {
        ageHours: 6,
        cache: { restored: 'berth-trivy-db-linux-2026-03-13' },
        downloaded: false,
        saved: 'berth-trivy-db-linux-2026-03-14',
      },
      embeddedChecks: false,
      reportFile: '/t/r.json',
      sarifFile: '/t/r.sarif',
    });
    expect(text).toBe(
      [
        '',
        '<sub>Trivy 0.74.0 (from the tool cache) · image read from its registry · scanners vuln, secret</sub><br>',
        '<sub>Vulnerability DB built 6.0 h ago · restored from the cache (`berth-trivy-db-linux-2026-03-13`) · not downloaded · saved as `berth-trivy-db-linux-2026-03-14`</sub><br>',
        '<sub>Report `/t/r.json` · SARIF `/t/r.sarif`</sub>',
        '',
      ].join('\n'),
    );
    const other = detailsMarkdown({
      trivy: { version: '0.74.0', source: 'download' },
      scanned: 'files · scanner misconfig',
      db: { cache: 'unavailable', downloaded: true },
      embeddedChecks: true,
      reportFile: 'r',
      sarifFile: 's',
    });
    expect(other).toContain('downloaded and checksum-verified');
    expect(other).toContain(
      'Vulnerability DB of unknown age · cache service unavailable · downloaded by Trivy',
    );
    expect(other).toContain("Trivy's embedded checks");
  });
});

describe('dbCacheState', () => {
  it('off, not needed, restored, a miss, or a service that was not there or failed', () => {
    expect(dbCacheState(false, false, undefined)).toBe('off');
    expect(dbCacheState(false, true, undefined)).toBe('off');
    expect(dbCacheState(true, true, undefined)).toBe('local');
    expect(dbCacheState(true, false, { key: 'k', available: true })).toEqual({ restored: 'k' });
    expect(dbCacheState(true, false, { available: true })).toBe('miss');
    expect(dbCacheState(true, false, { available: false })).toBe('unavailable');
  });
});
