// What the action needs to know from a Dockerfile before building: its stage names (so an unknown
// `target` is an input error, not a BuildKit error twenty seconds later).

/** Stage names declared with `FROM ... AS name`, in order. */
export function stageNames(dockerfile: string): string[] {
  const names: string[] = [];
  // Join continuation lines so `FROM a \` + `AS b` is seen whole.
  const text = dockerfile.replace(/\\\r?\n/g, ' ');
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$/i.exec(line);
    if (m) names.push(m[1]!.toLowerCase());
  }
  return names;
}
