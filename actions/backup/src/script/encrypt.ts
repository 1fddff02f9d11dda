// The host scripts of a backup written on the host (see host-encrypt.ts): the check that the host's
// age CLI can encrypt to the recipients, and the one tail that every producing script (a volume
// archive, a dump) is composed with to encrypt, hash and store its output where it was made.
import { bash } from '../../../../lib/ssh/host-script.js';

/**
 * RECIPIENTS. Whether the host's `age` runs and takes every recipient (it encrypts an empty input to
 * them all: an older age refuses a recipient type it does not know). Reports `age=<version>`, or
 * `no-age=<why>`.
 */
export const AGE_CHECK = bash`args=()
for r in "$\{RECIPIENTS[@]}"; do args+=(-r "$r"); done
if ! command -v age >/dev/null 2>&1; then
  emit no-age "it has no age command"
elif ! version=$(age --version 2>/dev/null); then
  emit no-age "its age command does not run"
elif ! age "$\{args[@]}" </dev/null >/dev/null 2>&1; then
  emit no-age "its age $version does not take these recipients"
else
  emit age "$version"
fi
`;

/**
 * The tail of every write on the host. DIRS (`<dir>/<id>` of each host: destination), NAME,
 * RECIPIENTS (none: stored as produced), TO_RUNNER (1: the same bytes also on stdout, for the other
 * destinations). What `berth_produce` writes is encrypted with the age CLI straight into NAME.part
 * of the first of DIRS, which is then hashed as stored (openssl's sha256 where there is one: several
 * times faster than coreutils' sha256sum without SHA instructions; reading the file back from the
 * page cache costs less CPU than a tee into the hash, and the CPU is what bounds it) and copied to
 * the other DIRS; only once all of it succeeded is each renamed to NAME. Reports `bytes=` and
 * `sha256=`, on stderr with TO_RUNNER (stdout is the data then).
 */
const STORE_TAIL = bash`berth_encrypt() {
  if [ "$\{#RECIPIENTS[@]}" -eq 0 ]; then exec cat; fi
  local args=() r
  for r in "$\{RECIPIENTS[@]}"; do args+=(-r "$r"); done
  exec age "$\{args[@]}"
}
berth_hash() {
  if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r <"$1"; else sha256sum <"$1"; fi
}
umask 077
parts=()
for d in "$\{DIRS[@]}"; do
  mkdir -p -- "$d"
  parts+=("$d/$NAME.part")
done
if [ "$TO_RUNNER" = 1 ]; then
  berth_produce | berth_encrypt | tee -- "$\{parts[0]}"
  report=2
else
  berth_produce | berth_encrypt >"$\{parts[0]}"
  report=1
fi
sum=$(berth_hash "$\{parts[0]}")
bytes=$(stat -c %s -- "$\{parts[0]}")
for p in "$\{parts[@]:1}"; do cp -- "$\{parts[0]}" "$p"; done
for p in "$\{parts[@]}"; do mv -f -- "$p" "$\{p%.part}"; done
emit bytes "$bytes" >&"$report"
emit sha256 "$\{sum:0:64}" >&"$report"
`;

/** `producer` (a script body that writes a stream on stdout) stored on the host by the tail above. */
export function storeOnHost(producer: string): string {
  return `berth_produce() {\n${producer}}\n${STORE_TAIL}`;
}
