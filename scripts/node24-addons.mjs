// Run by scripts/node24.mjs under Node 24 in the copy of the checkout (argv[2]): every package with an
// install script (native addons: better-sqlite3, epoll, the local ares-sd-notify) must load here, i.e.
// was built for this Node's ABI. Prints one line on success; exits 1 with the reasons otherwise.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dir = process.argv[2];
const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
const packages = lock.packages ?? {};

// Lockfile keys are install paths ("node_modules/a/node_modules/b"); a local `file:` package is keyed by
// its own folder ("native/sd-notify") and reached through a link entry that names it.
const addons = [];
for (const [key, p] of Object.entries(packages)) {
  if (!p.hasInstallScript || key === '') continue;
  const link = Object.entries(packages).find(([, l]) => l.link && l.resolved === key);
  const path = link ? link[0] : key;
  const at = path.lastIndexOf('node_modules/');
  const name = path.slice(at + 'node_modules/'.length);
  // Optional packages for other platforms are in the lockfile but not installed.
  if (!existsSync(join(dir, path))) {
    if (p.optional) continue;
    addons.push({ name, error: `${path} is not installed` });
    continue;
  }
  addons.push({ name, pkgDir: join(dir, key), from: join(dir, path.slice(0, at), 'package.json') });
}

const errors = [];
for (const a of addons) {
  if (a.error) {
    errors.push(a.error);
    continue;
  }
  // npm skips install scripts it was not allowed to run, leaving an addon unbuilt until first use.
  const release = join(a.pkgDir, 'build', 'Release');
  if (
    existsSync(join(a.pkgDir, 'binding.gyp')) &&
    !(existsSync(release) && readdirSync(release).some((f) => f.endsWith('.node')))
  ) {
    errors.push(`${a.name}: has a binding.gyp but no build/Release/*.node (was its install script run?)`);
    continue;
  }
  try {
    const mod = createRequire(a.from)(a.name);
    // better-sqlite3 loads its addon only when a database is opened.
    if (a.name === 'better-sqlite3') new mod(':memory:').prepare('select 1').get();
  } catch (e) {
    errors.push(`${a.name}: ${e.message}`);
  }
}

if (errors.length > 0) {
  process.stdout.write(`${errors.join('\n')}\n`);
  process.exit(1);
}
const names = addons.map((a) => a.name).join(', ');
process.stdout.write(`addons load under ${process.version} (modules ${process.versions.modules}): ${names}\n`);
