// A host script that holds something for the action (services stopped, a lock) for as long as its
// stdin stays open: the action closes it to let go, and a dead connection lets go too (the host's
// sshd hangs the script up), so nothing stays held after a runner vanishes.
import { PassThrough } from 'node:stream';
import { oneLine } from '../../../lib/action/untrusted.js';
import {
  readReportLine,
  runHostScript,
  type HostScriptResult,
  type HostValues,
} from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';

export interface HoldOptions {
  /** The report key the script emits once it holds; its value is returned. */
  ready: string;
  /** Every other report line, as it arrives (e.g. a lock's holder while waiting for it). */
  onReport?: (key: string, value: string) => void;
  /** The error when the script ends before it holds (it exited, or timed out waiting). */
  failed: (result: HostScriptResult) => Error;
}

export interface Held {
  /** What the script reported under `ready`. */
  value: string;
  /** Closes the script's stdin and waits for it to let go; its result (a non-zero exit: letting go failed). */
  release(): Promise<HostScriptResult>;
}

export async function holdOnHost(
  host: SshSession,
  body: string,
  values: HostValues,
  options: HoldOptions,
): Promise<Held> {
  const stdin = new PassThrough();
  let onReady: ((value: string) => void) | undefined;
  const ready = new Promise<string>((resolve) => (onReady = resolve));
  const held = runHostScript(host, body, values, {
    input: stdin,
    silent: true,
    ignoreReturnCode: true,
    onStdoutLine: (line) => {
      const entry = readReportLine(line);
      if (entry?.key === options.ready) onReady!(entry.value);
      else if (entry) options.onReport?.(entry.key, entry.value);
    },
  });
  const value = await Promise.race([ready, held.then((r) => Promise.reject(options.failed(r)))]);
  return {
    value,
    release: () => {
      stdin.end();
      return held;
    },
  };
}

/** The last line of a script's stderr, for an error message (host text: shown as one safe line). */
export function stderrTail(result: { stderr: string }): string {
  return oneLine(result.stderr.trim().split('\n').at(-1) ?? '');
}
