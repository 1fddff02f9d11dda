// What the host has for the project: its named volumes, the image the helper containers run (an
// image of the project's own, or `helper-image`), how their tar streams travel, a service's image,
// a volume's content digest.
import * as core from '@actions/core';
import { inputError } from '../../../lib/action/inputs.js';
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

export async function discover(host: SshSession, inputs: Inputs): Promise<Discovery> {
  const { report } = await runHostScript(host, DISCOVER, { PROJECT: inputs.project }, { silent: true });
  const volumes = new Map<string, string>();
  for (const [name, short] of report.pairs('volume')) if (/^\S+$/.test(short)) volumes.set(short, name);
  return { volumes, image: inputs['helper-image'] ?? report.last('image')?.trim() ?? '' };
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
  return report.last('image')?.trim() ?? '';
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
