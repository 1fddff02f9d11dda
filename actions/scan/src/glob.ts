// Path globs of ignore entries, as Trivy's doublestar reads them: `**` any number of whole
// segments, `*` and `?` within one, `[...]` (`[!...]` negated), `{a,b}`, `\` escapes. minimatch
// expands the braces and splits the segments; each segment is then matched by a scan that keeps one
// backtracking point (O(pattern x path)), never by a regex whose backtracking grows with every `*`.
import { Minimatch } from 'minimatch';

/** A pattern that cannot be read; `reason` says why. */
export class GlobError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`"${pattern}" is not a valid glob: ${reason}`);
    this.name = 'GlobError';
  }
}

/** One character of a segment: a literal, `?` or a class; or a `*`. */
type Token = { star: true } | { star: false; test: (c: string) => boolean };
/** A path segment's tokens, or `**` (any number of whole segments). */
type Segment = Token[] | 'globstar';
/** The alternatives the braces expand to, each a list of segments. */
export type Glob = Segment[][];

const STAR: Token = { star: true };
const ANY: Token = { star: false, test: () => true };

function literal(c: string): Token {
  return { star: false, test: (x) => x === c };
}

/** `[...]` at `chars[start]` as one token and the index of its `]`; an unclosed `[` is a literal. */
function classAt(pattern: string, chars: string[], start: number): [Token, number] {
  const end = chars.indexOf(']', start + 2);
  if (end === -1) return [literal('['), start];
  const body = chars
    .slice(start + 1, end)
    .join('')
    .replace(/^!/, '^')
    .replace(/\\/g, '\\\\');
  let re: RegExp;
  try {
    re = new RegExp(`^[${body}]$`, 'u');
  } catch {
    const text = chars.slice(start, end + 1).join('');
    throw new GlobError(pattern, `${text} is not a character class`);
  }
  return [{ star: false, test: (c) => re.test(c) }, end];
}

/** A segment's tokens, by code point. */
function tokenize(pattern: string, segment: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...segment];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens.at(-1) !== STAR) tokens.push(STAR); // `**` inside a segment is one `*`
    } else if (c === '?') tokens.push(ANY);
    else if (c === '\\' && i + 1 < chars.length) tokens.push(literal(chars[++i]!));
    else if (c === '[') {
      const [token, end] = classAt(pattern, chars, i);
      tokens.push(token);
      i = end;
    } else tokens.push(literal(c));
  }
  return tokens;
}

const cache = new Map<string, Glob>();

/** Reads `pattern`; throws a GlobError naming it when it cannot be read. */
export function compileGlob(pattern: string): Glob {
  const cached = cache.get(pattern);
  if (cached) return cached;
  let parts: string[][];
  try {
    const options = { dot: true, nonegate: true, nocomment: true, noext: true };
    parts = new Minimatch(pattern, options).globParts;
  } catch (error) {
    throw new GlobError(pattern, (error as Error).message);
  }
  const glob = parts.map((segments) =>
    segments.map((s): Segment => (s === '**' ? 'globstar' : tokenize(pattern, s))),
  );
  cache.set(pattern, glob);
  return glob;
}

/**
 * Whether `items` match `pattern`, where a wildcard matches any run of items and every other
 * element exactly one: the classic scan that returns to the last wildcard only, so each wildcard
 * is retried at most once per item.
 */
function wildcardMatch<P, I>(
  pattern: P[],
  items: I[],
  isWild: (p: P) => boolean,
  one: (p: P, i: I) => boolean,
) {
  let p = 0;
  let i = 0;
  let wildP = -1;
  let wildI = 0;
  while (i < items.length) {
    if (p < pattern.length && !isWild(pattern[p]!) && one(pattern[p]!, items[i]!)) {
      p++;
      i++;
    } else if (p < pattern.length && isWild(pattern[p]!)) {
      wildP = p++;
      wildI = i;
    } else if (wildP >= 0) {
      p = wildP + 1;
      i = ++wildI;
    } else return false;
  }
  while (p < pattern.length && isWild(pattern[p]!)) p++;
  return p === pattern.length;
}

function segmentMatches(tokens: Token[], name: string): boolean {
  return wildcardMatch(
    tokens,
    [...name],
    (t) => t.star,
    (t, c) => !t.star && t.test(c),
  );
}

/** Whether `path` (slash-separated) matches `pattern` (see compileGlob). */
export function globMatches(pattern: string, path: string): boolean {
  const names = path.split('/');
  return compileGlob(pattern).some((segments) =>
    wildcardMatch(
      segments,
      names,
      (s) => s === 'globstar',
      (s, name) => s !== 'globstar' && segmentMatches(s, name),
    ),
  );
}
