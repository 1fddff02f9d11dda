// What the host has for the project: its named volumes, the image the helper containers run (an
// image of the project's own, or `helper-image`), how their tar streams travel, a service's image,
// a volume's content digest.
import * as core from '@actions/core';
import { inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { Inputs as I } from './constants.js';
import type { Inputs } from './inputs.js';
import { parseContent, type VolumeContent } from './manifest.js';
import { DISCOVER, SERVICE_IMAGE } from './script/project.js';
import { PIPE_CHECK, VOLUME_DIGEST } from './script/volumes.js';

export interface Discovery {
  /** compose volume name -> docker volume name */
  volumes: Map<string, string>;
  image: string;
}

/** What docker accepts as a volume name, and what berth/backup accepts as a compose volume name. */
const DOCKER_VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;
const COMPOSE_VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** An image id as docker inspect reports it. */
const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;

/**
 * The project's volumes as the host reported them (`<docker name> <compose label as JSON>`): names
 * are checked like inputs, since they become file names (`volume-<name>.tar...`) and mounts; a label
 * with a line break, `/`, `..` or a space fails the step before anything is written.
 */
export function parseVolumes(project: string, pairs: [string, string][]): Map<string, string> {
  const volumes = new Map<string, string>();
  for (const [name, json] of pairs) {
    let short: unknown;
    try {
      short = JSON.parse(json);
    } catch {
      short = undefined;
    }
    if (short === '') continue;
    if (!DOCKER_VOLUME.test(name) || typeof short !== 'string' || !COMPOSE_VOLUME.test(short)) {
      throw new Error(
        `project ${project}: the host reports volume ${oneLine(JSON.stringify(name))} with the label com.docker.compose.volume=${oneLine(json)}, which is not a volume name (letters, digits, _ . -); refusing to back it up or restore it`,
      );
    }
    volumes.set(short, name);
  }
  return volumes;
}

/** An image id reported by the host, checked before it reaches another script. */
export function reportedImage(value: string | undefined): string {
  const image = value?.trim() ?? '';
  if (image !== '' && !IMAGE_ID.test(image))
    throw new Error(`the host reports ${oneLine(JSON.stringify(image))} as an image id`);
  return image;
}

export async function discover(host: SshSession, inputs: Inputs): Promise<Discovery> {
  const { report } = await runHostScript(host, DISCOVER, { PROJECT: inputs.project }, { silent: true });
  const volumes = parseVolumes(inputs.project, report.pairs('volume'));
  return { volumes, image: inputs['helper-image'] ?? reportedImage(report.last('image')) };
}

/** The image for the helper containers that read and write volumes. */
export function helperImage(found: Discovery, inputs: Inputs): string {
  if (!found.image) {
    throw inputError(
      I.HelperImage,
      `project ${inputs.project} has no container on the host to take an image from; set helper-image to an image on the host that has sh and tar`,
    );
  }
  return found.image;
}

/** How the helper containers' tar streams reach the host's shell: a FIFO, or docker's attach. */
export type Transport = 'pipe' | 'attach';

/** The helper image and how its tar streams travel: what every volume script needs. */
export interface VolumeHelper {
  image: string;
  transport: Transport;
}

export async function volumeTransport(host: SshSession, image: string): Promise<Transport> {
  const { report } = await runHostScript(host, PIPE_CHECK, { IMAGE: image }, { silent: true });
  if (report.last('fifo') === 'unseen')
    core.info(
      'The helper containers cannot open a FIFO in the host’s temp dir; volumes stream through docker attach (slower)',
    );
  return report.last('transport') === 'pipe' ? 'pipe' : 'attach';
}

/** The image of the service's container, for a scratch database of the same version. */
export async function serviceImage(host: SshSession, project: string, service: string): Promise<string> {
  const values = { PROJECT: project, SERVICE: service };
  const { report } = await runHostScript(host, SERVICE_IMAGE, values, { silent: true });
  return reportedImage(report.last('image'));
}

/**
 * The content digest of `volume` (file count, digest of its paths and file hashes), read by a helper
 * container of `image` with `tool` (empty: b2sum where the image has it).
 */
export async function volumeContent(
  host: SshSession,
  image: string,
  volume: string,
  tool: NonNullable<VolumeContent['hash']> | '',
): Promise<VolumeContent | undefined> {
  const values = { IMAGE: image, VOLUME: volume, HASH_TOOL: tool };
  return parseContent((await runHostScript(host, VOLUME_DIGEST, values, { silent: true })).stdout);
}
