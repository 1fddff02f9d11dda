// Entry point bundled into dist/index.js; the runner calls it for the main and post step.
import { runAction } from '../../../lib/action/wrapper.js';
import { main } from './main.js';
import { post } from './post.js';

await runAction({ main, post });
