// The compose audit step: the stack's merged configuration from `docker compose config`, what each
// image that matters says about itself (its user and health check), then the audit's findings.
import * as core from '@actions/core';
import { dirname, resolve } from 'node:path';
import { inputError } from '../../../lib/action/inputs.js';
import { oneLine } from '../../../lib/action/untrusted.js';
import { errorMessage } from '../../../lib/action/wrapper.js';
import { composeConfig } from '../../../lib/tools/compose.js';
import { imageFacts, type ImageFacts } from '../../../lib/tools/docker.js';
import { auditCompose } from './audit.js';
import { parseComposeConfig, type ComposeConfig } from './compose-service.js';
import { readComposeSources } from './compose-source.js';
import { Inputs as I } from './constants.js';
import type { Finding } from './finding.js';
import type { Inputs } from './inputs.js';
import { composeProjectName, imagesNeedingFacts } from './stack.js';
import { docsUrl } from './target.js';
import { isImageReference } from './image-ref.js';

export interface AuditedStack {
  /** the compose project name, for the SARIF category */
  project: string;
  findings: Finding[];
  /** the merged configuration, for the monitoring checks (what the stack mounts) */
  config: ComposeConfig;
}

/**
 * What the images that leave user or health check to themselves say, by image reference. A value
 * that is not an image reference (an option, a line break) is not asked about: it would reach docker's
 * command line.
 */
async function imagesFacts(config: ComposeConfig): Promise<Record<string, ImageFacts>> {
  const facts: Record<string, ImageFacts> = {};
  await Promise.all(
    imagesNeedingFacts(config).map(async (image) => {
      const name = oneLine(image);
      if (!isImageReference(image)) {
        core.info(`${name}: not an image reference, so its user and health check are not known`);
        return;
      }
      const found = await imageFacts(image).catch(() => undefined);
      if (found) facts[image] = found;
      core.info(
        found
          ? `${name} (${found.source === 'local' ? 'local image' : 'from its registry'}): user ${JSON.stringify(found.user)}, ${found.healthcheck ? 'a' : 'no'} HEALTHCHECK`
          : `${name}: found neither locally nor in its registry, so its user and health check are not known`,
      );
    }),
  );
  return facts;
}

export async function auditStack(
  inputs: Pick<Inputs, 'compose-files'>,
  workspace: string,
): Promise<AuditedStack> {
  const files = inputs['compose-files'];
  const sources = readComposeSources(files, workspace);
  const projectDirectory = dirname(resolve(workspace, files[0]!));
  const project = composeProjectName(sources, projectDirectory);
  let merged: unknown;
  try {
    merged = await composeConfig({
      projectDirectory,
      project,
      files: files.map((f) => resolve(workspace, f)),
    });
  } catch (error) {
    throw inputError(I.ComposeFiles, errorMessage(error));
  }
  const config = parseComposeConfig(merged, 'docker compose config');
  const images = await imagesFacts(config);
  const findings = auditCompose(config, { sources, images, docsUrl: docsUrl(process.env) });
  core.info(
    `Project ${project}: ${Object.keys(config.services).length} services, ${findings.length} audit finding(s)`,
  );
  return { project, findings, config };
}
