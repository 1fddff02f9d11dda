// Entry point bundled into dist/index.js (main only: the host-side scripts clean up after themselves).
import { runAction } from '../../../lib/action/wrapper.js';
import { main } from './main.js';

await runAction({ main });
