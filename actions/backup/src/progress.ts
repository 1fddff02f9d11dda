// Progress lines for long transfers: a pure meter that decides when a line is due (every 5 s or
// every 256 MiB, whichever comes first) and what it says (bytes so far, the rate since the start).
import { formatBytes } from '../../../lib/action/inputs.js';

const PROGRESS_INTERVAL_MS = 5_000;
const PROGRESS_BYTES = 256 * 1024 * 1024;

export class ProgressMeter {
  bytes = 0;
  private lastAt: number;
  private lastBytes = 0;

  constructor(
    readonly label: string,
    private readonly startedAt: number,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
    private readonly stepBytes = PROGRESS_BYTES,
  ) {
    this.lastAt = startedAt;
  }

  /** Counts `n` more bytes at time `now` (ms); returns a line when one is due. */
  add(n: number, now: number): string | undefined {
    this.bytes += n;
    if (now - this.lastAt < this.intervalMs && this.bytes - this.lastBytes < this.stepBytes) return undefined;
    this.lastAt = now;
    this.lastBytes = this.bytes;
    return this.line(now);
  }

  /** `label: 1.2 GB, 85.3 MB/s` */
  line(now: number): string {
    const seconds = Math.max((now - this.startedAt) / 1000, 0.001);
    return `${this.label}: ${formatBytes(this.bytes)}, ${formatBytes(this.bytes / seconds)}/s`;
  }
}
