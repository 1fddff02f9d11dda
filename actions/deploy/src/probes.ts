// The health probes: `health-urls` and `health-headers` parsed and checked, and how they reach curl on
// the host. A probe URL may carry a token in its query and a header may carry credentials: neither
// goes on a command line (ps on the host, the script that `bash -c` runs) or into a log. Each probe's
// URL and the headers travel in the release bundle as a 0600 curl config file that curl reads with
// `-K`; the script, the report, the summary and the audit see the URL with its query values as `***`.
import { maskSecret } from '../../../lib/action/secrets.js';
import { inputError } from '../../../lib/action/inputs.js';

export interface Probe {
  /** the URL curl requests (query values included, fragment dropped) */
  url: string;
  status: number;
  maxLatencyMs?: number;
}

/** Where the probes' curl config files go in the release (`<index>.curl`), deleted after the probes. */
export const PROBES_DIR = '.berth/probes';

function fail(name: string, detail: string): never {
  throw inputError(name, detail);
}

/** The URL as logs show it: every query value (or bare query item) replaced by `***`. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((item) => {
      const eq = item.indexOf('=');
      if (eq === -1) return item === '' ? item : '***';
      return eq === item.length - 1 ? item : `${item.slice(0, eq)}=***`;
    });
  return `${url.slice(0, q)}?${query.join('&')}`;
}

/** Masks every query value of `url` in the log, as it appears in the URL and decoded. */
function maskQuery(url: URL): void {
  for (const item of url.search.slice(1).split('&')) {
    const value = item.includes('=') ? item.slice(item.indexOf('=') + 1) : item;
    maskSecret(value);
    try {
      maskSecret(decodeURIComponent(value.replace(/\+/g, ' ')));
    } catch {
      // not percent-encoded text: masked as it is above
    }
  }
}

function parseUrl(name: string, line: number, text: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return fail(name, `line ${line}: ${JSON.stringify(text)} is not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol))
    fail(name, `line ${line}: only http and https URLs can be probed`);
  if (parsed.username || parsed.password)
    fail(
      name,
      `line ${line}: credentials in the URL (user:password@) would be logged and put on a command line; ` +
        'remove them and send them with "health-headers" (for example "Authorization: Basic <base64 of user:password>", from a secret)',
    );
  parsed.hash = '';
  maskQuery(parsed);
  return parsed;
}

/** `URL [status] [max-latency-ms]` lines. */
export function parseProbes(name: string, lines: string[]): Probe[] {
  return lines.map((line, i) => {
    const [url, status, latency, extra] = line.split(/\s+/);
    const parsed = parseUrl(name, i + 1, url!);
    if (extra !== undefined) fail(name, `line ${i + 1}: expected "URL [status] [max-latency-ms]"`);
    const code = status === undefined ? 200 : Number(status);
    if (!Number.isInteger(code) || code < 100 || code > 599)
      fail(name, `line ${i + 1}: ${status} is not an HTTP status`);
    const max = latency === undefined ? undefined : Number(latency);
    if (max !== undefined && (!Number.isInteger(max) || max <= 0))
      fail(name, `line ${i + 1}: ${latency} is not a latency in ms`);
    return { url: parsed.href, status: code, maxLatencyMs: max };
  });
}

/** RFC 9110's token: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `Name: value` lines, each value masked. */
export function parseHeaders(name: string, lines: string[]): string[] {
  return lines.map((line, i) => {
    const colon = line.indexOf(':');
    const header = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (colon <= 0 || !HEADER_NAME.test(header)) fail(name, `line ${i + 1} is not "Name: value"`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value))
      fail(name, `line ${i + 1}: the value has a control character`);
    maskSecret(value);
    return `${header}: ${value}`;
  });
}

/** A curl config file parameter: double-quoted, with the escapes curl reads inside quotes. */
function curlQuote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\t/g, '\\t')}"`;
}

/** The curl config file (`curl -K`) for one probe: its URL and every header. */
export function probeCurlConfig(probe: Probe, headers: readonly string[]): string {
  const lines = [`url = ${curlQuote(probe.url)}`, ...headers.map((h) => `header = ${curlQuote(h)}`)];
  return lines.join('\n') + '\n';
}

/** A certificate an https probe was served: the probe's URL as the report shows it, and its expiry. */
export interface ServedCertificate {
  url: string;
  /** seconds since the epoch */
  expiresAt: number;
}

/** A `cert` report line, `<url> <expiry epoch seconds>` (from the host: anything else is dropped). */
export function parseServedCertificate(line: string): ServedCertificate | undefined {
  const m = /^(https:\/\/\S+) (\d{1,11})$/.exec(line);
  return m ? { url: m[1]!, expiresAt: Number(m[2]) } : undefined;
}

/** The summary's text for a served certificate: `<url>` expires 2027-03-01 (85 days). */
export function certificateText(cert: ServedCertificate, nowMs = Date.now()): string {
  const days = Math.floor((cert.expiresAt * 1000 - nowMs) / 86_400_000);
  const date = new Date(cert.expiresAt * 1000).toISOString().slice(0, 10);
  return `\`${cert.url}\` expires ${date} (${days} day${days === 1 ? '' : 's'})`;
}
