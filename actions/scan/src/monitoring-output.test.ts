// The lines of promtool's and amtool's messages: the outputs below are what the tools print (promtool
// 2.42, amtool 0.25) for these files.
import { describe, expect, it } from 'vitest';
import { problemLine, toolMessages, toolProblems } from './monitoring-output.js';
import { MonitoringYaml, type MonitoringKind } from './monitoring-yaml.js';

/** The problems in a tool's output, given as its lines. */
const problems = (kind: MonitoringKind, yaml: MonitoringYaml, file: string, ...lines: string[]) =>
  toolProblems(kind, lines.join('\n'), file, yaml);

const RULES = `groups:
  - name: berth
    rules:
      - alert: TargetDown
        expr: up == 0
        for: 5m
      - record: job:up:sum
        expr: sum by (job) (up)
        for: 5m
      - alert: Templated
        expr: up == 0
        annotations:
          summary: "{{ $labels.instance "
  - name: "quoted \\"group\\""
    rules:
      - alert: A
        expr: up
`;

describe('toolProblems: promtool check rules', () => {
  const yaml = new MonitoringYaml(RULES);
  const file = '/w/rules.yml';
  /** promtool's output for the file: its progress lines, then `lines`. */
  const check = (...lines: string[]) =>
    problems('rules', yaml, file, `Checking ${file}`, '  FAILED:', ...lines);

  it('takes the position when the message has one, else the rule the message names', () => {
    const output = [
      '/w/rules.yml: 7:17: group "berth", rule 2, "job:up:sum": invalid field \'for\' in recording rule',
      '/w/rules.yml: group "berth", rule 3, "Templated": annotation "summary": template: __alert_Templated:1: unclosed action',
      '/w/rules.yml: 15:17: 14:16: group "berth", rule 4, "BothKinds": only one of \'record\' and \'alert\' must be set',
    ];
    expect(check(...output)).toEqual([
      { line: 7, message: 'group "berth", rule 2, "job:up:sum": invalid field \'for\' in recording rule' },
      {
        line: 10,
        message:
          'group "berth", rule 3, "Templated": annotation "summary": template: __alert_Templated:1: unclosed action',
      },
      {
        line: 15,
        message: 'group "berth", rule 4, "BothKinds": only one of \'record\' and \'alert\' must be set',
      },
    ]);
  });

  it('finds a group by its quoted name, escapes and all', () => {
    expect(problemLine('rules', 'group "quoted \\"group\\"", rule 1, "A": broken', yaml)).toBe(16);
    expect(problemLine('rules', 'group "quoted \\"group\\"": broken', yaml)).toBe(14);
  });

  it('one problem per unmarshal error, at its line', () => {
    const unknown = (line: number, field: string) =>
      `  line ${line}: field ${field} not found in type rulefmt.RuleNode`;
    expect(check('/w/rules.yml: yaml: unmarshal errors:', unknown(6, 'foo'), unknown(9, 'bar'))).toEqual([
      { line: 6, message: 'field foo not found in type rulefmt.RuleNode' },
      { line: 9, message: 'field bar not found in type rulefmt.RuleNode' },
    ]);
  });

  it("a YAML syntax error at the parser's line (promtool's is often wrong), once", () => {
    const broken = new MonitoringYaml(
      'groups:\n  - name: x\n    rules:\n      - alert: a\n        expr: up\n     bad: [\n',
    );
    const syntax = '/w/syn.yml: yaml: line 1: did not find expected key';
    expect(
      problems('rules', broken, '/w/syn.yml', 'Checking /w/syn.yml', '  FAILED:', syntax, syntax),
    ).toEqual([{ line: 6, message: 'yaml: did not find expected key' }]);
  });
});

describe('toolProblems: promtool check config and amtool check-config', () => {
  const config = new MonitoringYaml(
    [
      'global:',
      '  scrape_interval: 15x',
      'scrape_configs:',
      '  - job_name: api',
      '    static_configs:',
      "      - targets: ['api:8080']",
      '  - job_name: api',
      '    static_configs:',
      '      - targets: [x]',
      '',
    ].join('\n'),
  );

  it('finds the value a message quotes; the second one when it is repeated', () => {
    expect(
      toolProblems(
        'prometheus',
        'Checking /w/p.yml\n  FAILED: parsing YAML file /w/p.yml: not a valid duration string: "15x"\n',
        '/w/p.yml',
        config,
      ),
    ).toEqual([{ line: 2, message: 'not a valid duration string: "15x"' }]);
    expect(problemLine('prometheus', 'found multiple scrape configs with job name "api"', config)).toBe(7);
    expect(problemLine('prometheus', 'something without a quote', config)).toBe(1);
  });

  const am = new MonitoringYaml(
    [
      'route:',
      '  receiver: default',
      '  routes:',
      '    - matchers: [\'severity="critical"\']',
      '      receiver: pager',
      '    - receiver: chat',
      'receivers:',
      '  - name: default',
      '  - name: pager',
      '',
    ].join('\n'),
  );

  it('an undefined receiver at the route that names it', () => {
    const failed = 'Checking \'/w/am.yml\'  FAILED: undefined receiver "chat" used in route';
    const count = 'amtool: error: failed to validate 1 file(s)';
    expect(problems('alertmanager', am, '/w/am.yml', failed, '', count)).toEqual([
      { line: 6, message: 'undefined receiver "chat" used in route' },
    ]);
  });

  it('says the file was rejected when the tool gave no reason', () => {
    expect(
      toolProblems('alertmanager', 'amtool: error: failed to validate 1 file(s)\n', '/w/am.yml', am),
    ).toEqual([{ line: 1, message: 'rejected without a message' }]);
  });

  it('toolMessages leaves out progress and verdict lines', () => {
    const ok = "Checking '/w/am.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n";
    expect(toolMessages(ok, '/w/am.yml')).toEqual([]);
  });
});
