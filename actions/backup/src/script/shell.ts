// The shell helpers that berth/backup's host scripts share, on top of lib/ssh/host-script's prelude
// (strict mode, emit, the ERR trap): the compressions (`compression` input) as filters, and the FIFO
// a helper container streams its tar through.
import { bash } from '../../../../lib/ssh/host-script.js';

export const BACKUP_SHELL = bash`compress() {
  case "$1" in zstd) zstd -q -c -T0 ;; gzip) gzip -c ;; none) cat ;; *) echo "berth: unknown compression $1" >&2; return 2 ;; esac
}
decompress() {
  case "$1" in zstd) zstd -q -d -c ;; gzip) gzip -d -c ;; none) cat ;; *) echo "berth: unknown compression $1" >&2; return 2 ;; esac
}
# A FIFO that a helper container reads or writes its tar stream through (bind-mounted at
# /berth-pipe) instead of docker's attach, which copies every byte through dockerd and the
# containerd shim: two to three times slower, and dockerd busy. The directory is 0700, so only
# this user reaches the FIFO; the FIFO is 0666 so that a container root remapped by userns-remap
# can open it through the mount.
open_pipe() {
  pipe_dir=$(mktemp -d "$\{TMPDIR:-/tmp}/berth-pipe-XXXXXXXX")
  trap 'rm -rf -- "$pipe_dir"' EXIT
  pipe=$pipe_dir/p
  mkfifo -m 666 -- "$pipe"
}
# Runs the command (a docker run on the pipe) in the background as $helper. When it ends, the FIFO
# is opened and closed once, so that our end, if still waiting for the container to open it (the
# container failed first), is released instead of waiting forever.
run_on_pipe() {
  ( "$@" && rc=0 || rc=$?; { : <>"$pipe"; } 2>/dev/null; exit "$rc" ) &
  helper=$!
}
`;

/** A script that reads its stdin from the file STAGED_FILE on the host (a dump staged by restore or verify). */
export function fromFile(body: string): string {
  return `exec <"$STAGED_FILE"\n${body}`;
}
