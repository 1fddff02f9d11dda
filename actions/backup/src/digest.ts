// What passes between the hosts, measured: sha256 and byte count of a stream, with progress lines
// for long transfers, and how long a transfer took.
import * as core from '@actions/core';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { formatBytes } from '../../../lib/action/inputs.js';
import { ProgressMeter } from './progress.js';

/** A pass-through that hashes and counts what goes through it (and tells `onBytes`, for progress lines). */
export class Digest extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  private hex: string | undefined;

  constructor(private readonly onBytes?: (n: number) => void) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, data?: Buffer) => void,
  ): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }

  /** The sha256 (hex) of everything that went through; call once the stream has ended. */
  sha256(): string {
    this.hex ??= this.hash.digest('hex');
    return this.hex;
  }
}

/** A Digest that prints a progress line every 5 s or 256 MiB. */
export function meteredDigest(label: string): Digest {
  const meter = new ProgressMeter(label, Date.now());
  return new Digest((n) => {
    const line = meter.add(n, Date.now());
    if (line) core.info(line);
  });
}

/** `12.3 s (85.0 MB/s)` since `started` (ms), or `12.3 s` without a byte count. */
export function took(started: number, bytes?: number): string {
  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  return `${seconds.toFixed(1)} s${bytes === undefined ? '' : ` (${formatBytes(bytes / seconds)}/s)`}`;
}
