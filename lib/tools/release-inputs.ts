// The inputs that say which release of a tool installRelease() fetches: an exact version (never
// `latest` or a range, so every run installs the same checksum-verified archive) and the base URL of
// the release downloads (https, or plain http only where nothing on the way can alter it).
import { inputError } from '../action/inputs.js';

export interface VersionInput {
  /** the input's name, for messages */
  name: string;
  /** how messages name the tool, e.g. `Trivy` */
  tool: string;
  /** the version when the input is empty */
  fallback: string;
  /** a word accepted as is (e.g. `preinstalled`), besides versions */
  keyword?: string;
}

/** `x.y.z` (a leading `v` is dropped), the keyword, or the fallback when empty. */
export function parseExactVersion(input: string, spec: VersionInput): string {
  const { name, tool, fallback, keyword } = spec;
  const value = input.trim();
  if (value === '') return fallback;
  if (keyword !== undefined && value.toLowerCase() === keyword) return keyword;
  if (value.toLowerCase() === 'latest') {
    throw inputError(
      name,
      `"latest" is not allowed: pin an exact release such as ${fallback}, so every run installs ` +
        `the same, checksum-verified ${tool}`,
    );
  }
  const match = /^v?(\d+\.\d+\.\d+)$/.exec(value);
  if (match) return match[1]!;
  const looksLikeRange = /^[\^~<>=*]|[*x]$|\|\||^v?\d+(\.\d+)?$|\s-\s/i.test(value);
  const or = keyword === undefined ? '' : ` or "${keyword}"`;
  throw inputError(
    name,
    looksLikeRange
      ? `${JSON.stringify(value)} is a version range: pin an exact release such as ${fallback}`
      : `${JSON.stringify(value)} is not ${/^[AEIOU]/i.test(tool) ? 'an' : 'a'} ${tool} release version (x.y.z, e.g. ${fallback})${or}`,
  );
}

/** Hosts that are this machine: nothing between the download and the runner can alter it. */
export function isLoopback(url: URL): boolean {
  return ['localhost', '[::1]'].includes(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

export interface BaseUrlInput {
  /** the input's name, for messages */
  name: string;
  /** the URL when the input is empty */
  fallback: string;
  /** how assets are found under the base, e.g. `<base>/v<version>/<asset>` */
  layout: string;
  /** an input that pins the archive's SHA-256, which makes plain http safe, and its value */
  pin?: { name: string; value?: string };
}

/**
 * The base URL releases are downloaded from, without a trailing slash: https, or plain http only to
 * this machine or with a SHA-256 pin (what travels unencrypted is then checked against a hash that
 * did not travel with it).
 */
export function parseReleaseBaseUrl(input: string, spec: BaseUrlInput): string {
  const { name } = spec;
  const value = input.trim();
  if (value === '') return spec.fallback;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw inputError(name, `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw inputError(name, `${JSON.stringify(value)} is not an http(s) URL`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw inputError(
      name,
      `give the base URL only (no query, fragment or credentials): releases are fetched from ${spec.layout}`,
    );
  }
  if (url.protocol === 'http:' && spec.pin?.value === undefined && !isLoopback(url)) {
    const remedy = spec.pin
      ? `use https, or set ${spec.pin.name} to the archive's SHA-256`
      : 'use https (plain http is accepted only to this machine)';
    throw inputError(
      name,
      `${JSON.stringify(value)} is plain http, which anyone on the way can alter together with its checksums ` +
        `file: ${remedy}`,
    );
  }
  return value.replace(/\/+$/, '');
}
