// The compose stack the audit reads: its project name (as compose derives it, for the SARIF category)
// and the images whose own configuration the audit needs (services that leave user or health check to
// their image).
import { basename } from 'node:path';
import { parse } from 'yaml';
import type { ComposeConfig } from './compose-service.js';
import type { ComposeSource } from './compose-source.js';

/** Compose's normalisation: lower case, only `a-z0-9_-`, starting with a letter or digit. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '')
    .replace(/^[_-]+/, '');
}

/**
 * The project name compose would use: the top-level `name:` of the last file that sets one (without
 * interpolation), else the project directory's name; `default` when that leaves nothing.
 */
export function composeProjectName(sources: readonly ComposeSource[], projectDirectory: string): string {
  let named: string | undefined;
  for (const source of sources) {
    try {
      const doc = parse(source.text) as unknown;
      const name = typeof doc === 'object' && doc !== null ? (doc as { name?: unknown }).name : undefined;
      if (typeof name === 'string' && name.trim() !== '' && !name.includes('$')) named = name;
    } catch {
      // compose config reports a file it cannot parse; the name falls back to the directory.
    }
  }
  return normalizeProjectName(named ?? basename(projectDirectory)) || 'default';
}

/**
 * The images the audit must ask about: those of services that set no user in the compose file, or
 * neither a health check nor `disable: true`. A service whose file sets both never needs its image.
 */
export function imagesNeedingFacts(config: ComposeConfig): string[] {
  const images = new Set<string>();
  for (const service of Object.values(config.services)) {
    if (!service.image) continue;
    const user = service.user !== undefined && String(service.user).trim() !== '';
    const hc = service.healthcheck;
    const test = hc?.test;
    const healthcheck = hc?.disable === true || (Array.isArray(test) ? test.length > 0 : Boolean(test));
    if (!user || !healthcheck) images.add(service.image);
  }
  return [...images].sort();
}
