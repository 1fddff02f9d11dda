// Bundles each actions/<name>/src/index.ts with ncc into actions/<name>/dist/ (ESM index.js, licenses.txt,
// package.json marking the directory as ESM), then checks the bundle is self-contained.
//
//   node scripts/build-dist.mjs            build every action (in parallel child processes)
//   node scripts/build-dist.mjs build ...  build only the named actions, in this process
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const require = createRequire(import.meta.url);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const actionsDir = join(repoRoot, 'actions');

function actionNames() {
  return readdirSync(actionsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(actionsDir, entry.name, 'src', 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

const builtins = new Set(builtinModules);

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0]);
}

function isLoaderCall(callee) {
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return true; // import('x')
  if (ts.isIdentifier(callee)) return callee.text === 'require'; // require('x')
  // createRequire(import.meta.url)('x'), which is how ncc's ESM output loads builtins.
  return (
    ts.isCallExpression(callee) &&
    ts.isIdentifier(callee.expression) &&
    /createRequire/.test(callee.expression.text)
  );
}

/**
 * Module specifiers the bundle still loads at runtime: static imports and re-exports, import(),
 * require() and createRequire(...)(...) with a literal argument. Parsed rather than grepped, because
 * bundled libraries mention `import('./x')` in JSDoc comments. ncc's own numeric module ids don't count.
 */
export function runtimeSpecifiers(code) {
  const file = ts.createSourceFile('index.js', code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const found = new Set();
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) {
      if (node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier))
        found.add(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && isLoaderCall(node.expression)) {
      const [specifier] = node.arguments;
      if (specifier && ts.isStringLiteralLike(specifier)) found.add(specifier.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return [...found].sort();
}

/** Problems that would make the bundle fail or differ on another machine; empty when it is fine. */
export function bundleProblems(code, distDir) {
  const problems = [];
  for (const specifier of runtimeSpecifiers(code)) {
    if (isBuiltin(specifier)) continue;
    if (specifier.startsWith('.') && existsSync(join(distDir, specifier))) continue;
    problems.push(
      `loads "${specifier}" at runtime, which is not a Node builtin: it must be bundled, not left external`,
    );
  }
  // `import.meta` is a syntax error in CommonJS, so its presence shows ncc emitted an ES module.
  if (!code.includes('import.meta')) problems.push('is not an ES module (ncc emitted CommonJS)');
  if (code.includes(repoRoot))
    problems.push(`contains the absolute path ${repoRoot}: builds would differ by checkout`);
  return problems;
}

/**
 * The package directories (`.../node_modules/<name>`) whose files ncc put into the bundle, read from
 * webpack's module list: the innermost node_modules segment of each bundled file.
 */
export function bundledPackageDirs(resources) {
  const dirs = new Set();
  for (const resource of resources) {
    const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(resource.replace(/\\/g, '/'));
    if (m) dirs.add(m[1]);
  }
  return [...dirs];
}

const LICENSE_FILE = /^(licen[cs]e|copying|notice)(\..*)?$/i;

/**
 * licenses.txt: every bundled package, by name, with its version, its declared license and the text of
 * its license (and NOTICE) files, which licenses such as BSD-3-Clause and Apache-2.0 require to be
 * passed on. ncc's own license output misses ES-module packages (age-encryption, @noble/*).
 */
export function licensesText(packageDirs) {
  const entries = new Map();
  for (const dir of packageDirs) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const key = `${pkg.name}@${pkg.version}`;
    if (entries.has(key)) continue;
    const files = readdirSync(dir)
      .filter((f) => LICENSE_FILE.test(f))
      .sort();
    const texts = files.map((f) => readFileSync(join(dir, f), 'utf8').trim());
    const license = typeof pkg.license === 'string' ? pkg.license : JSON.stringify(pkg.license ?? 'UNKNOWN');
    const body =
      texts.length > 0
        ? texts.join('\n\n')
        : `(the package ships no license file; package.json says ${license})`;
    entries.set(key, `${key}\nLicense: ${license}\n\n${body}\n`);
  }
  return [...entries.keys()]
    .sort()
    .map((key) => entries.get(key))
    .join('\n' + '-'.repeat(72) + '\n\n');
}

async function bundle(name) {
  const ncc = require('@vercel/ncc');
  const entry = join(actionsDir, name, 'src', 'index.ts');
  const distDir = join(actionsDir, name, 'dist');
  // Start empty so files the new build no longer produces disappear from dist/.
  rmSync(distDir, { recursive: true, force: true });
  const { code, assets, symlinks, stats } = await ncc(entry, {
    cache: false,
    minify: false,
    sourceMap: false,
    target: 'es2023',
    quiet: true,
  });
  if (Object.keys(symlinks ?? {}).length > 0)
    throw new Error(`${name}: ncc produced symlinks, which dist/ can't hold`);
  mkdirSync(distDir, { recursive: true });
  writeFileSync(join(distDir, 'index.js'), code);
  for (const [file, asset] of Object.entries(assets)) {
    mkdirSync(dirname(join(distDir, file)), { recursive: true });
    writeFileSync(join(distDir, file), asset.source);
  }
  const resources = [...stats.compilation.modules].map((m) => m.resource ?? '').filter(Boolean);
  writeFileSync(join(distDir, 'licenses.txt'), licensesText(bundledPackageDirs(resources)));
  const problems = bundleProblems(code, distDir);
  if (problems.length > 0) {
    const where = relative(repoRoot, join(distDir, 'index.js'));
    throw new Error(`${where}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
  if (!existsSync(join(distDir, 'package.json'))) {
    throw new Error(`${name}: ncc did not emit dist/package.json marking the bundle as ESM`);
  }
  console.log(`built ${relative(repoRoot, distDir)}/ (${(code.length / 1024).toFixed(0)} KiB)`);
}

function buildInChild(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), name], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    child.on('close', (code) => resolve(code === 0));
  });
}

/** One ncc build per process: ncc keeps global state, and separate processes use all cores. */
async function buildAll(names) {
  const results = new Map();
  const queue = [...names];
  const workers = Array.from({ length: Math.min(names.length, availableParallelism(), 4) }, async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      results.set(name, await buildInChild(name));
    }
  });
  await Promise.all(workers);
  const failed = names.filter((name) => !results.get(name));
  if (failed.length > 0) throw new Error(`build failed for: ${failed.join(', ')}`);
}

async function main() {
  // ncc looks for tsconfig.json between the entry and the working directory (actions/tsconfig.json).
  process.chdir(repoRoot);
  const requested = process.argv.slice(2);
  const known = actionNames();
  const unknown = requested.filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`no actions/<name>/src/index.ts for: ${unknown.join(', ')}`);
  if (requested.length === 0) {
    if (known.length === 0) throw new Error('no actions/*/src/index.ts found');
    await buildAll(known);
  } else {
    for (const name of requested) await bundle(name);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`build-dist: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
