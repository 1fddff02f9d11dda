// host/bootstrap.sh as the action ships it (the payload on the remote bash's stdin, the arguments)
// and the script's pure parts: the systems it takes, Docker's packages and apt source, the
// daemon.json merge, the directories it refuses, the unattended-upgrades origins.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HOST_SCRIPT, hostFunctions } from './testing.js';
import {
  bootstrapArgs,
  bootstrapPayload,
  bootstrapScript,
  readPrivilege,
  rootShell,
  type BootstrapSettings,
} from './script.js';

const settings: BootstrapSettings = {
  profile: 'production',
  'deploy-user': 'deploy',
  'deploy-public-keys': ['ssh-ed25519 AAAA a', 'ssh-ed25519 BBBB b'],
  'remote-dir': "/opt/it's $(id)",
  'backup-dir': '/var/backups/shop',
  'docker-source': 'distro',
};

describe('the payload', () => {
  it('hands the arguments and keys over verbatim, nothing evaluated', () => {
    const probe = 'printf "[%s]\\n" "$@"; printf "%s" "$BERTH_DEPLOY_KEYS"';
    const args = bootstrapArgs(settings, 'prepare');
    const r = spawnSync('bash', ['-s'], {
      input: bootstrapPayload(probe, args, settings['deploy-public-keys']),
      encoding: 'utf8',
    });
    expect(r.stdout).toBe(`${args.map((a) => `[${a}]`).join('\n')}\nssh-ed25519 AAAA a\nssh-ed25519 BBBB b`);
    expect(args).toContain("/opt/it's $(id)");
  });

  it('gives phase prepare the directories and the Docker source, phase harden only what it needs', () => {
    expect(bootstrapArgs(settings, 'prepare')).toEqual(
      expect.arrayContaining([
        '--phase',
        'prepare',
        '--remote-dir',
        '--backup-dir',
        '/var/backups/shop',
        '--docker-source',
        'distro',
        '--report',
      ]),
    );
    expect(bootstrapArgs(settings, 'harden')).toEqual([
      '--profile',
      'production',
      '--deploy-user',
      'deploy',
      '--phase',
      'harden',
      '--report',
    ]);
  });

  it('is the repository file, ending with main "$@" so nothing it runs reads the rest of it from stdin', () => {
    const text = bootstrapScript();
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text.trimEnd().split('\n').at(-1)).toBe('main "$@"');
  });

  it('runs as root directly, or through sudo without a password', () => {
    expect(readPrivilege('root\n')).toBe('root');
    expect(readPrivilege('sudo\n')).toBe('sudo');
    expect(readPrivilege('none\n')).toBe('none');
    expect(readPrivilege('sudo: a password is required\n')).toBe('none');
    expect(rootShell('sudo')).toBe('sudo -n bash -s');
    expect(rootShell('root')).toBe('bash -s');
  });
});

describe("host/bootstrap.sh's pure parts", () => {
  it('supports Debian 12, Ubuntu 22.04 and 24.04 only', () => {
    const r = hostFunctions(
      'for s in "debian 12" "ubuntu 22.04" "ubuntu 24.04" "debian 11" "ubuntu 20.04" "debian 13" "fedora 40"; do os_supported $s && echo "$s yes" || echo "$s no"; done',
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      'debian 12 yes',
      'ubuntu 22.04 yes',
      'ubuntu 24.04 yes',
      'debian 11 no',
      'ubuntu 20.04 no',
      'debian 13 no',
      'fedora 40 no',
    ]);
  });

  it("picks Docker's packages: Debian 12's from Debian 13 with minimum versions, Ubuntu's own, or Docker's repository", () => {
    const r = hostFunctions(
      'docker_packages debian distro; docker_packages ubuntu distro; docker_packages ubuntu docker',
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      'docker.io/trixie:25 docker-cli/trixie docker-buildx/trixie docker-compose/trixie:2',
      'docker.io:25 docker-buildx docker-compose-v2',
      'docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin',
    ]);
  });

  it("writes Docker's apt source in deb822, signed by its own key", () => {
    expect(hostFunctions('docker_apt_source ubuntu noble amd64').stdout).toBe(
      [
        'Types: deb',
        'URIs: https://download.docker.com/linux/ubuntu',
        'Suites: noble',
        'Components: stable',
        'Architectures: amd64',
        'Signed-By: /etc/apt/keyrings/docker.asc',
        '',
      ].join('\n'),
    );
  });

  it("merges daemon.json: Berth's keys set, every other key and the user's log sizes kept", () => {
    const current = {
      features: { 'containerd-snapshotter': true },
      'log-opts': { 'max-size': '50m' },
      'live-restore': false,
    };
    const merged = JSON.parse(hostFunctions('daemon_json_merge false', JSON.stringify(current)).stdout);
    expect(merged).toEqual({
      features: { 'containerd-snapshotter': true },
      'log-driver': 'local',
      'log-opts': { 'max-size': '50m', 'max-file': '3' },
      'live-restore': true,
      'no-new-privileges': true,
    });
    const swarm = JSON.parse(hostFunctions('daemon_json_merge true', '{}').stdout);
    expect(swarm['live-restore']).toBeUndefined();
    expect(swarm['log-driver']).toBe('local');
  });

  it('refuses system and shared directories as remote-dir or backup dir', () => {
    const dirs = [
      '/opt/shop',
      '/home/deploy/shop',
      '/var/backups/shop',
      'opt/shop',
      '/opt',
      '/etc/shop',
      '/var/lib/docker',
      '/opt/../etc',
      '/usr/local/x',
      '/var/backups/',
    ];
    const r = hostFunctions(
      `for d in ${dirs.map((d) => `'${d}'`).join(' ')}; do p=$(dir_problem "$d"); echo "$d: \${p:-ok}"; done`,
    );
    expect(r.stdout.trim().split('\n')).toEqual([
      '/opt/shop: ok',
      '/home/deploy/shop: ok',
      '/var/backups/shop: ok',
      'opt/shop: is not an absolute path',
      '/opt: is a top-level directory (use one of its own, e.g. /opt/shop)',
      '/etc/shop: is inside a system directory',
      '/var/lib/docker: is inside a system directory',
      '/opt/../etc: has . or .. or a control character',
      '/usr/local/x: is inside a system directory',
      '/var/backups/: is a shared directory (use one of its own, e.g. /opt/shop)',
    ]);
  });

  it('limits unattended-upgrades to the security archive', () => {
    const debian = hostFunctions('unattended_conf debian').stdout;
    expect(debian).toContain('#clear Unattended-Upgrade::Origins-Pattern;');
    expect(debian.match(/^ {2}"origin=.*";$/gm)).toEqual([
      '  "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";',
    ]);
    const ubuntu = hostFunctions('unattended_conf ubuntu').stdout;
    expect(ubuntu.match(/^ {2}"origin=.*";$/gm)?.every((l) => l.includes('security'))).toBe(true);
  });

  it('lets new connections from outside reach containers on 80 and 443 only', () => {
    const rules = hostFunctions('docker_user_rules 80 443').stdout;
    expect(rules.match(/--ctorigdstport \d+/g)).toEqual(['--ctorigdstport 80', '--ctorigdstport 443']);
    expect(rules).toMatch(
      /--ctstate NEW,INVALID .*-j DROP\n-A DOCKER-USER -j RETURN\nCOMMIT\n# END BERTH DOCKER-USER\n$/,
    );
  });
});

describe('host/bootstrap.sh run by hand', () => {
  const asNobody = (args: string[]) => {
    const root = process.getuid?.() === 0;
    const [cmd, pre] = root
      ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash']]
      : ['bash', []];
    return spawnSync(cmd, [...pre, HOST_SCRIPT, ...args], { encoding: 'utf8' });
  };

  it('refuses a caller who is not root, before anything else', () => {
    const r = asNobody(['--profile', 'production', '--remote-dir', '/opt/shop']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^bootstrap: error: run as root \(sudo \S*bootstrap\.sh \.\.\.\): it installs packages and changes system files; nothing was changed\n$/,
    );
    expect(r.stdout).toBe('');
  });

  it('says how it is used, and refuses an unknown argument', () => {
    expect(asNobody(['--help']).stdout).toMatch(
      /^Usage: sudo bootstrap\.sh --profile development\|production\|ubuntu/,
    );
    const r = asNobody(['--profile', 'production', '--force']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('bootstrap: error: unknown argument --force (see --help)\n');
  });
});
