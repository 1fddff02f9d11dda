// Entry point bundled into dist/index.js; the runner calls it for the main step.
import { runAction } from '../../../lib/action/wrapper.js';
import { main } from './main.js';

await runAction({ main });
