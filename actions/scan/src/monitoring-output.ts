// What promtool and amtool say about one file, as problems with a line each. Their messages rarely
// carry a line, so it is found in the file: `10:15:` when the tool gives one; YAML's `line N:`
// (the parser's own line for a syntax error: the tool's is often wrong); `group "x", rule 2` -> that
// rule; `undefined receiver "x"` -> the `receiver: x` that names it; otherwise the first value the
// message quotes (the second for a repeated one), else line 1.
import type { MonitoringKind, MonitoringYaml } from './monitoring-yaml.js';

export interface ToolProblem {
  message: string;
  line: number;
}

/** Lines that carry no problem: progress, verdicts and amtool's closing count. */
const NOISE = [
  /^Checking\s+\S.*$/,
  /^\s*SUCCESS\b.*$/,
  /^\s*FAILED:?\s*$/,
  /^amtool: error: failed to validate \d+ file\(s\)$/,
  /^Found:$/,
  /^ - .*$/,
];

/** Go's %q, as the tools quote names: `"x"`, with backslash escapes. */
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;

function unquote(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return body;
  }
}

/**
 * The messages in a tool's output about `file` (as the tool was given it): one per problem, without
 * the file name, `FAILED:` and `parsing YAML file` prefixes; YAML's unmarshal errors one per line.
 */
export function toolMessages(output: string, file: string): string[] {
  const messages: string[] = [];
  for (let line of output.split(/\r?\n/)) {
    line = line.trimEnd();
    // amtool: `Checking 'f'  FAILED: msg`; promtool: `  FAILED: parsing YAML file f: msg`.
    line = line.replace(/^Checking '.*?'\s+FAILED:\s*/, '').replace(/^\s*FAILED:\s*/, '');
    line = line.replace(/^parsing YAML file /, '');
    if (line.startsWith(`${file}: `)) line = line.slice(file.length + 2);
    if (line.trim() === '' || NOISE.some((n) => n.test(line))) continue;
    // promtool repeats some messages (once per pass over the file).
    if (!messages.includes(line.trim())) messages.push(line.trim());
  }
  // `yaml: unmarshal errors:` only introduces the lines that follow it.
  return messages.filter((m, i) => !(/yaml: unmarshal errors:$/.test(m) && i < messages.length - 1));
}

function quotedValues(message: string): string[] {
  return [...message.matchAll(QUOTED)].map((m) => unquote(m[1]!));
}

/** The line a message is about in `yaml` (a file of `kind`). */
export function problemLine(kind: MonitoringKind, message: string, yaml: MonitoringYaml): number {
  const position = /^(\d+):\d+: /.exec(message); // the first of `15:17: 14:16: `
  if (position) return Number(position[1]);
  const yamlLine = /^(?:yaml: )?line (\d+): /.exec(message);
  if (yamlLine) {
    const unmarshal = !/^yaml: line/.test(message);
    return (unmarshal ? undefined : yaml.syntaxErrorLine) ?? Number(yamlLine[1]);
  }
  if (kind === 'rules') {
    const rule = /group "((?:[^"\\]|\\.)*)"(?:, rule (\d+))?/.exec(message);
    const line = rule && yaml.ruleLine(unquote(rule[1]!), rule[2] ? Number(rule[2]) : undefined);
    if (line) return line;
  }
  if (kind === 'alertmanager') {
    const receiver = /undefined receiver "((?:[^"\\]|\\.)*)"/.exec(message);
    const line = receiver && yaml.scalarLines(unquote(receiver[1]!), 'receiver')[0];
    if (line) return line;
  }
  const repeated = /\b(multiple|repeated|duplicate)\b/i.test(message);
  for (const value of quotedValues(message)) {
    const lines = yaml.scalarLines(value);
    const line = repeated ? (lines[1] ?? lines[0]) : lines[0];
    if (line) return line;
  }
  return yaml.syntaxErrorLine ?? 1;
}

/** The problems a failed check reported, each with its line; one for the whole file when it said nothing usable. */
export function toolProblems(
  kind: MonitoringKind,
  output: string,
  file: string,
  yaml: MonitoringYaml,
): ToolProblem[] {
  const messages = toolMessages(output, file);
  if (messages.length === 0) {
    return [{ message: 'rejected without a message', line: yaml.syntaxErrorLine ?? 1 }];
  }
  return messages.map((message) => ({
    // The position is the finding's line; YAML's own line is dropped with it (it is often wrong).
    message: message.replace(/^(\d+:\d+: )+/, '').replace(/^(yaml: )?line \d+: /, '$1'),
    line: problemLine(kind, message, yaml),
  }));
}
