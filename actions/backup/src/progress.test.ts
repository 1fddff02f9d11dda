import { describe, expect, it } from 'vitest';
import { ProgressMeter } from './progress.js';

const MiB = 1024 * 1024;

describe('ProgressMeter', () => {
  it('reports every 5 s or every 256 MiB, whichever comes first, with bytes and rate', () => {
    const meter = new ProgressMeter('volume:data', 0);
    expect(meter.add(10 * MiB, 1000)).toBeUndefined();
    expect(meter.add(10 * MiB, 4999)).toBeUndefined();
    // 5 s after the start: 20 MiB in 5 s.
    expect(meter.add(0, 5000)).toBe('volume:data: 21.0 MB, 4.2 MB/s');
    expect(meter.add(100 * MiB, 6000)).toBeUndefined();
    // 256 MiB since the last line, before 5 s have passed again.
    expect(meter.add(156 * MiB, 7000)).toBe('volume:data: 289.4 MB, 41.3 MB/s');
    expect(meter.add(1, 7001)).toBeUndefined();
  });
});
