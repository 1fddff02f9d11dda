// mode status: the kept releases as the host has them (id, commit, time, images, last result, which
// one is current), read without the lock and without changing anything. Everything read back is the
// host's word: ids, commits, times and image references are checked, or left out.
import { bash, type HostReport } from '../../../../lib/ssh/host-script.js';
import { inlineCode, markdownTable } from '../../../../lib/action/summary.js';
import { parseImageRef } from '../../../../lib/tools/docker.js';
import { RELEASE_ID } from '../release-id.js';
import { NAME } from '../inputs.js';

/** One `release` line per kept release: its id, release.json, pins, orchestrator and last deploy.log line, base64. */
export const STATUS_BODY = bash`cd "$REMOTE_DIR" 2>/dev/null || exit 0
current=""
if [ -L current ]; then current=$(basename "$(readlink current)"); fi
emit current "$current"
b64() { # file: its first 8 KiB as base64, or - when it is missing or empty
  local v
  v=$(head -c 8192 -- "$1" 2>/dev/null | base64 -w0) || true
  printf '%s' "$\{v:--}"
}
for d in releases/*/; do
  [ -d "$d" ] || continue
  r=$(basename "$d")
  line=$(grep -F -- "\"release\":\"$r\"" deploy.log 2>/dev/null | tail -n 1 | head -c 8192 | base64 -w0) || true
  emit release "$(printf '%s' "$r" | base64 -w0) $(b64 "$d/release.json") $(b64 "$d/.berth/pins.yml") $(b64 "$d/.berth/orchestrator") $\{line:--}"
done
`;

export interface ReleaseInfo {
  id: string;
  /** the commit it was built from ('' when release.json has none) */
  commit: string;
  /** ISO time the release was made ('' when unknown) */
  created: string;
  /** service -> image reference it ran (its pins), or as the deploy pinned them */
  images: Record<string, string>;
  /** the status of its last deploy.log line (deployed, rolled-back, failed; '' when none) */
  result: string;
  current: boolean;
  /** compose or swarm ('' for releases from before it was recorded) */
  orchestrator: string;
  /** why the release's record could not be read */
  error?: string;
}

const RESULTS = ['deployed', 'rolled-back', 'failed'];
const COMMIT = /^[0-9a-f]{7,64}$/;

function decode(field: string | undefined): string {
  return !field || field === '-' ? '' : Buffer.from(field, 'base64').toString('utf8');
}

/** `text` as a JSON object, or undefined when it is not one (host text: anything may be there). */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Only names that are service names and references that parse as image references. */
function checkedImages(pairs: [unknown, unknown][]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const [service, ref] of pairs) {
    if (typeof service === 'string' && NAME.test(service) && typeof ref === 'string' && parseImageRef(ref))
      images[service] = ref;
  }
  return images;
}

/** The pins the switch wrote: `  "service":` then `    image: "ref"` lines. */
export function parsePins(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  let service: string | undefined;
  for (const line of text.split('\n')) {
    const s = /^ {2}"([^"]*)":$/.exec(line);
    const i = /^ {4}image: "([^"]*)"$/.exec(line);
    if (s) service = s[1];
    else if (i && service !== undefined) pairs.push([service, i[1]!]);
  }
  return pairs;
}

function isoTime(value: unknown): string {
  if (typeof value !== 'string') return '';
  const time = Date.parse(value);
  return Number.isNaN(time) ? '' : new Date(time).toISOString();
}

/** The kept releases, oldest first; entries whose directory name is not a release id are left out. */
export function readReleases(report: HostReport): ReleaseInfo[] {
  const current = report.last('current') ?? '';
  const releases: ReleaseInfo[] = [];
  for (const value of report.all('release')) {
    const [name, json, pins, orchestrator, line] = value.split(' ').map(decode);
    const id = name ?? '';
    if (!RELEASE_ID.test(id)) continue;
    const record = jsonObject(json ?? '');
    const recordImages = record?.images && typeof record.images === 'object' ? record.images : {};
    const pinned = parsePins(pins ?? '');
    const status = jsonObject(line ?? '')?.status;
    releases.push({
      id,
      commit: typeof record?.commit === 'string' && COMMIT.test(record.commit) ? record.commit : '',
      created: isoTime(record?.created),
      images: checkedImages(pinned.length ? pinned : Object.entries(recordImages)),
      result: typeof status === 'string' && RESULTS.includes(status) ? status : '',
      current: id === current,
      orchestrator: ['compose', 'swarm'].includes(orchestrator?.trim() ?? '') ? orchestrator!.trim() : '',
      ...(record ? {} : { error: json ? 'release.json is not a JSON object' : 'release.json is missing' }),
    });
  }
  return releases.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function statusMarkdown(project: string, host: string, releases: ReleaseInfo[]): string {
  const rows = releases.map((r) => [
    `${inlineCode(r.id)}${r.current ? ' **current**' : ''}`,
    r.commit ? inlineCode(r.commit.slice(0, 12)) : '',
    r.created,
    r.error ? `⚠️ ${r.error}` : r.result,
    Object.entries(r.images)
      .map(([service, ref]) => `${service}: ${inlineCode(ref)}`)
      .join('<br>'),
  ]);
  const table = releases.length
    ? markdownTable(['Release', 'Commit', 'Created', 'Result', 'Images'], rows)
    : '_No releases on the host._';
  return `### berth/deploy: \`${project}\` on \`${host}\`: kept releases\n\n${table}\n`;
}
