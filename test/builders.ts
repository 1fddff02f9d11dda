// The lab's BuildKit for docker-container builders the build action creates (scripts/lab/buildkit.sh):
// its image (nothing can be pulled here) and the host network (the registry is on loopback; BuildKit
// speaks plain HTTP to a localhost registry by itself). The lab's buildkitd config (the same, spelled
// out) goes in too, so the tests also pass through the `buildkitd-config` input.
import { join } from 'node:path';
import { envFile, labDir } from '../scripts/lab/lab.js';

const buildkit = envFile(join(labDir, 'buildkit', 'env'), '.lab/buildkit/env');

export const buildkitLab = {
  image: buildkit.get('LAB_BUILDKIT_IMAGE'),
  config: buildkit.get('LAB_BUILDKITD_CONFIG'),
  sbomGenerator: buildkit.get('LAB_SBOM_GENERATOR'),
};

/** The build action's inputs that shape a builder it creates, in the lab. */
export const builderInputs = {
  'driver-opts': `image=${buildkitLab.image}\nnetwork=host`,
  'buildkitd-config': buildkitLab.config,
};
