// What a tool or a host prints (docker, buildx running a PR's Dockerfile, the deploy script with the
// `docker logs` of a failing container) is streamed to the log between `::stop-commands::<token>` and
// `::<token>::`: the runner obeys no workflow command in between (`::error::`, `::add-mask::`,
// `::set-output`, `##[...]`), and only our random token, which the output never sees, ends the block.
//
// The runner keeps one stop state for the whole step and reads stdout and stderr through separate
// pipes, in no fixed order between them; so everything in a block goes to stdout, and processes that
// stream at the same time share one block, which ends when the last of them does. Nothing the action
// itself must issue as a workflow command (a mask, an annotation) may be written while a block is open.
import { randomBytes } from 'node:crypto';

/** One process's share of the log. */
export interface UntrustedOutput {
  /** Writes the chunk to the log inside a block, opening one first if none is open. */
  write(chunk: Buffer | string): void;
  /** This process is done: the block ends once no other process writes in it. Later writes are dropped. */
  end(): void;
}

let block: { token: string; writers: number } | undefined;
/** Whether the last thing written here ended its line: the resume line must be a line of its own. */
let atLineStart = true;

function emit(chunk: Buffer | string): void {
  if (chunk.length === 0) return;
  // Looked up at each write, so whoever wraps process.stdout.write (a test, a log watcher) sees it.
  process.stdout.write(chunk);
  const last = typeof chunk === 'string' ? chunk.at(-1) : String.fromCharCode(chunk.at(-1)!);
  atLineStart = last === '\n';
}

function toFreshLine(): void {
  if (!atLineStart) emit('\n');
}

/** A fresh, unguessable resume token (hex, so it is a valid command name for the runner). */
export function newStopToken(): string {
  return randomBytes(16).toString('hex');
}

/** A writer for one process's stdout and stderr. */
export function untrustedOutput(): UntrustedOutput {
  let state: 'idle' | 'writing' | 'ended' = 'idle';
  return {
    write(chunk) {
      if (state === 'ended' || chunk.length === 0) return;
      if (state === 'idle') {
        if (!block) {
          block = { token: newStopToken(), writers: 0 };
          toFreshLine();
          emit(`::stop-commands::${block.token}\n`);
        }
        block.writers += 1;
        state = 'writing';
      }
      emit(chunk);
    },
    end() {
      const was = state;
      state = 'ended';
      if (was !== 'writing' || !block) return;
      block.writers -= 1;
      if (block.writers > 0) return;
      toFreshLine();
      emit(`::${block.token}::\n`);
      block = undefined;
    },
  };
}
