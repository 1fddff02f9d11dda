// Reads buildx's `--progress=plain` output as it streams, to count build steps and cached steps.
// A step is a Dockerfile instruction vertex (`#7 [build 2/4] RUN ...`); FROM vertices are left out
// because BuildKit reports a resolved base image as DONE or CACHED arbitrarily. A step is cached when
// BuildKit says CACHED, or when it fetches or extracts a layer blob in that step: a remote-cache hit
// that a later step builds on is downloaded and reported as DONE, but a step that runs never
// transfers a blob in its own vertex.

import { oneLine } from '../../../lib/action/untrusted.js';

const HEADER = /^#(\d+) \[([^\]]*\d+\/\d+)\] (.*)$/;
const CACHED = /^#(\d+) CACHED$/;
const CACHE_BLOB = /^#(\d+) (?:extracting )?sha256:[0-9a-f]{64}\b/;
const ERROR = /^#(\d+) ERROR: (.*)$/;

export interface StepStats {
  steps: number;
  cached: number;
  /** the names of steps that ran (not from cache), e.g. `[build 3/4] COPY a.txt /a.txt` */
  rebuilt: string[];
  /** cached / steps, 1 when there are no steps */
  ratio: number;
}

export class ProgressTracker {
  private readonly names = new Map<string, string>();
  private readonly cached = new Set<string>();
  private readonly failed = new Map<string, string>();

  /** Feed one line of plain progress output. */
  line(text: string): void {
    const header = HEADER.exec(text);
    if (header) {
      const [, id, stage, instruction] = header;
      if (!/^FROM\s/i.test(instruction!)) this.names.set(id!, `[${stage}] ${instruction}`);
      return;
    }
    const cached = CACHED.exec(text) ?? CACHE_BLOB.exec(text);
    if (cached) {
      this.cached.add(cached[1]!);
      return;
    }
    const error = ERROR.exec(text);
    if (error) this.failed.set(error[1]!, error[2]!);
  }

  stats(): StepStats {
    const ids = [...this.names.keys()];
    const cached = ids.filter((id) => this.cached.has(id)).length;
    return {
      steps: ids.length,
      cached,
      rebuilt: ids.filter((id) => !this.cached.has(id)).map((id) => this.names.get(id)!),
      ratio: ids.length === 0 ? 1 : cached / ids.length,
    };
  }

  /** The failing step and BuildKit's error, for a clear failure message: one line, as it quotes the build's output. */
  failure(): string | undefined {
    for (const [id, message] of this.failed) {
      const name = this.names.get(id);
      return oneLine(name ? `${name}: ${message}` : message);
    }
    return undefined;
  }
}
