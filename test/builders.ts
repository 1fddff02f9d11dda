// The build action's inputs that shape a docker-container builder it creates, in the lab: the lab's
// BuildKit image (nothing can be pulled here) on the host network (the registry is on loopback;
// BuildKit speaks plain HTTP to a localhost registry by itself). The lab's buildkitd config goes in
// too (that registry over HTTP, spelled out, and as docker.io's mirror), so the tests also pass
// through the `buildkitd-config` input.
import { readBuildkitLab } from '../scripts/lab/lab.js';

export const buildkitLab = readBuildkitLab();

export const builderInputs = {
  'driver-opts': `image=${buildkitLab.image}\nnetwork=host`,
  'buildkitd-config': buildkitLab.buildkitdConfig,
};
