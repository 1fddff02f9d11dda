// berth/deploy: post step (runs with `post-if: always()`), for cleanup once main exists.

export async function post(): Promise<void> {
  // Nothing to clean up yet.
}
