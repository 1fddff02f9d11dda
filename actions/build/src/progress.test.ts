import { describe, expect, it } from 'vitest';
import { ProgressTracker } from './progress.js';

// Captured from buildx 0.13 (docker driver) rebuilding after a change to a.txt.
const WARM_AFTER_CHANGE = `#0 building with "default" instance using docker driver

#4 [build 1/4] FROM localhost:5000/berth/debian:bookworm-slim@sha256:4e9487d6bb1164acf2a5f613cd1964f7e0449f99877615ce38e97d06764afe97
#4 DONE 0.0s

#5 [internal] load build context
#5 transferring context: 26B done
#5 DONE 0.0s

#6 [build 2/4] RUN echo one > /one
#6 CACHED

#7 [build 3/4] COPY a.txt /a.txt
#7 DONE 0.0s

#8 [build 4/4] RUN cat /a.txt > /b.txt
#8 0.215 some output
#8 DONE 0.3s

#4 [build 1/4] FROM localhost:5000/berth/debian:bookworm-slim@sha256:4e9487d6bb1164acf2a5f613cd1964f7e0449f99877615ce38e97d06764afe97
#4 CACHED

#9 [stage-1 2/2] COPY --from=build /b.txt /b.txt
#9 DONE 0.0s
`;

function track(text: string): ProgressTracker {
  const t = new ProgressTracker();
  for (const line of text.split('\n')) t.line(line);
  return t;
}

describe('ProgressTracker', () => {
  it('counts instruction steps and cached ones, leaving out FROM and internal vertices', () => {
    const s = track(WARM_AFTER_CHANGE).stats();
    expect(s.steps).toBe(4);
    expect(s.cached).toBe(1);
    expect(s.ratio).toBe(0.25);
    expect(s.rebuilt).toEqual([
      '[build 3/4] COPY a.txt /a.txt',
      '[build 4/4] RUN cat /a.txt > /b.txt',
      '[stage-1 2/2] COPY --from=build /b.txt /b.txt',
    ]);
  });

  it('counts a remote-cache hit that had to be downloaded as cached', () => {
    // Captured: registry cache, engine cache empty, a.txt changed; step 8 came from the cache blob.
    const text = `#7 importing cache manifest from localhost:5000/t/rc4:cache
#7 DONE 0.1s

#8 [build 2/4] RUN echo one > /one
#8 sha256:d9e33b9303eed9bebc6a32e3bbaa8d2698f5ce6372433d3aeec806f267d63282 103B / 103B done
#8 extracting sha256:d9e33b9303eed9bebc6a32e3bbaa8d2698f5ce6372433d3aeec806f267d63282 0.0s done
#8 DONE 0.1s

#9 [build 3/4] COPY a.txt /a.txt
#9 DONE 0.0s

#10 [build 4/4] RUN cat /a.txt > /b.txt
#10 DONE 0.3s
`;
    const s = track(text).stats();
    expect(s).toMatchObject({ steps: 3, cached: 1 });
    expect(s.rebuilt).toEqual(['[build 3/4] COPY a.txt /a.txt', '[build 4/4] RUN cat /a.txt > /b.txt']);
  });

  it('counts a cache blob fetched without extraction as cached, and output lines as not', () => {
    const text = `#9 [stage-1 3/3] COPY --from=build /b.txt /b.txt
#9 sha256:4d7955a6a300441a8597cdb0ccd0e3cf0c5906d05a0b4743231d1809c2675a83 1.19kB / 1.19kB 0.0s done
#9 DONE 0.1s
#10 [stage-1 2/3] RUN echo sha256:4d7955a6a300441a8597cdb0ccd0e3cf0c5906d05a0b4743231d1809c2675a83
#10 0.215 sha256:4d7955a6a300441a8597cdb0ccd0e3cf0c5906d05a0b4743231d1809c2675a83
#10 DONE 0.3s
`;
    expect(track(text).stats()).toMatchObject({
      steps: 2,
      cached: 1,
      rebuilt: [
        '[stage-1 2/3] RUN echo sha256:4d7955a6a300441a8597cdb0ccd0e3cf0c5906d05a0b4743231d1809c2675a83',
      ],
    });
  });

  it('reports a fully cached build as ratio 1', () => {
    const s = track('#6 [2/3] RUN make\n#6 CACHED\n#7 [3/3] COPY . .\n#7 CACHED\n').stats();
    expect(s).toMatchObject({ steps: 2, cached: 2, ratio: 1 });
  });

  it('names the failing step', () => {
    const t = track(
      '#6 [build 2/3] RUN false\n#6 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1\n',
    );
    expect(t.failure()).toBe(
      '[build 2/3] RUN false: process "/bin/sh -c false" did not complete successfully: exit code: 1',
    );
  });

  it('quotes a failing step of a hostile Dockerfile as one line that cannot be a workflow command', () => {
    const t = track('#6 [2/3] RUN echo ##[error]pwned\n#6 ERROR: failed\u0000 ##[add-mask]x\u001b[2K\n');
    expect(t.failure()).toBe(
      '[2/3] RUN echo \\u0023#[error]pwned: failed\\u0000 \\u0023#[add-mask]x\\u001b[2K',
    );
  });
});
