import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The tests drive the built CLI, exactly as `ares` runs once installed: build first (npm run build).
const ARES = fileURLToPath(new URL('../../dist/cli/ares.js', import.meta.url));
if (!fs.existsSync(ARES)) throw new Error(`${ARES} is missing: run \`npx tsc -p tsconfig.build.json\` first`);

const RUN_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

interface Teardown {
  teardown(fn: () => unknown): void;
}

function tempDir(tt: Teardown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ares-cli-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The parent's environment without any ARES_* setting, plus `extra`. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^ARES_(CENTRAL|HUB|LOG)_/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function ares(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [ARES, ...args], {
    env: cliEnv(opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running `ares` child: collects output, is killed at teardown whatever happens. */
function service(tt: Teardown, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [ARES, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  tt.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    poke();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    poke();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      poke();
    });
  });

  /** Resolves with find()'s first defined result; kills the child and rejects on timeout or early exit. */
  function waitFor<T>(
    what: string,
    find: (out: { stdout: string; stderr: string }) => T | undefined,
    ms = START_TIMEOUT_MS,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        fn();
      };
      const check = () => {
        const found = find({ stdout, stderr });
        if (found !== undefined) done(() => resolve(found));
        else if (child.exitCode !== null || child.signalCode !== null) {
          done(() =>
            reject(
              new Error(
                `ares exited (${child.exitCode ?? child.signalCode}) before ${what}\nstdout:${stdout}\nstderr:${stderr}`,
              ),
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(() => reject(new Error(`timed out waiting for ${what}\nstdout:${stdout}\nstderr:${stderr}`)));
      }, ms);
      waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then the exit code; SIGKILL and a rejection if it takes longer than STOP_TIMEOUT_MS. */
  async function stop(): Promise<number | null> {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`ares did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr:${stderr}`));
      }, STOP_TIMEOUT_MS);
    });
    try {
      return (await Promise.race([exited, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  return { child, waitFor, stop, output: () => ({ stdout, stderr }) };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

t.test('help and usage errors', async (t) => {
  const help = ares(['--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage: ares <command>/);
  for (const cmd of ['central [', 'central create-admin', 'demo']) t.match(help.stdout, `ares ${cmd}`);

  const none = ares([]);
  t.equal(none.status, 2, 'no command is a usage error');
  t.match(none.stdout, 'Usage: ares');

  const nope = ares(['nope']);
  t.equal(nope.status, 2);
  t.match(nope.stderr, 'unknown command "nope"');

  for (const words of [['central'], ['central', 'create-admin'], ['demo']]) {
    const r = ares([...words, '--help']);
    t.equal(r.status, 0, `${words.join(' ')} --help exits 0`);
    t.match(r.stdout, new RegExp(`^Usage: ares ${words.join(' ')}`), `${words.join(' ')} --help prints its usage`);
    t.match(r.stdout, '--config');
  }

  const bogus = ares(['central', '--bogus']);
  t.equal(bogus.status, 2);
  t.match(bogus.stderr, '--bogus');
  const bogus2 = ares(['central', 'create-admin', '--emial', 'x@y.example']);
  t.equal(bogus2.status, 2);
  t.match(bogus2.stderr, '--emial');
  const extra = ares(['demo', 'now']);
  t.equal(extra.status, 2);
  t.match(extra.stderr, 'unexpected argument "now"');
});

t.test('fall replay: usage errors exit 2; a file that cannot be read is an error line and exit 1', async (t) => {
  const noFiles = ares(['fall', 'replay']);
  t.equal(noFiles.status, 2);
  t.match(noFiles.stderr, 'missing argument');
  const model = ares(['fall', 'replay', '--model', 'nope', 'x.txt']);
  t.equal(model.status, 2);
  t.match(model.stderr, '--model: expected one of imu-fall, radar-fall');
  const rate = ares(['fall', 'replay', '--rate', 'fast', 'x.txt']);
  t.equal(rate.status, 2);
  t.match(rate.stderr, '--rate');
  const missing = ares(['fall', 'replay', '/nonexistent/F01_SA01_R01.txt']);
  t.equal(missing.status, 1);
  t.same(JSON.parse(missing.stdout), {
    file: '/nonexistent/F01_SA01_R01.txt',
    error: "ENOENT: no such file or directory, open '/nonexistent/F01_SA01_R01.txt'",
  });
});

t.test('fall replay: radar JSON lines go through radar-fall, one line per file (§4.9)', async (t) => {
  const fixtures = fileURLToPath(new URL('../fixtures/radar/', import.meta.url));
  const fall = path.join(fixtures, 'fall.jsonl');
  const adl = path.join(fixtures, 'adl.jsonl');
  const r = ares(['fall', 'replay', fall, adl]);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file: string; alerts: { t_s: number; prob: number | null }[] });
  t.equal(lines.length, 2);
  t.match(lines[0], { file: fall, alerts: [{ t_s: Number, prob: Number }] }, 'the simulated fall raises an alert');
  t.equal(lines[0]!.alerts.length, 1);
  t.same(lines[1], { file: adl, alerts: [] }, 'sitting watching TV raises none');
});

t.test('central create-admin', async (t) => {
  const env = { ARES_CENTRAL_DATA_DIR: tempDir(t) };
  const args = ['central', 'create-admin', '--email', 'a@b.example', '--password-stdin'];

  const first = ares(args, { env, input: 'correct-horse-battery\n' });
  t.equal(first.status, 0, first.stderr);
  const lines = first.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'stdout is one line');
  const created = JSON.parse(lines[0]!) as Record<string, unknown>;
  t.same(Object.keys(created).sort(), ['created', 'email', 'id', 'roles']);
  t.type(created['id'], 'number');
  t.same({ ...created, id: 0 }, { id: 0, email: 'a@b.example', created: true, roles: ['prime_admin'] });

  const again = ares(args, { env, input: 'whatever-else-123\n' });
  t.equal(again.status, 0, again.stderr);
  t.same(JSON.parse(again.stdout), { ...created, created: false }, 'same account, not created again');

  const noStdin = ares(['central', 'create-admin', '--email', 'c@b.example'], { env, input: 'password-123\n' });
  t.equal(noStdin.status, 2);
  t.match(noStdin.stderr, '--password-stdin');
  const noEmail = ares(['central', 'create-admin', '--password-stdin'], { env, input: 'password-123\n' });
  t.equal(noEmail.status, 2);
  t.match(noEmail.stderr, '--email');
  const badEmail = ares(['central', 'create-admin', '--email', 'not-an-email', '--password-stdin'], {
    env,
    input: 'password-123\n',
  });
  t.equal(badEmail.status, 2);
  t.match(badEmail.stderr, 'not an email address');
  const short = ares(['central', 'create-admin', '--email', 'd@b.example', '--password-stdin'], {
    env,
    input: 'short\n',
  });
  t.equal(short.status, 2);
  t.match(short.stderr, /password: must be \d+/);
  t.equal(short.stdout, '', 'nothing is printed as created');
});

t.test('bad configuration exits 2 naming the setting', async (t) => {
  const dir = tempDir(t);
  const badPort = ares(['central'], { env: { ARES_CENTRAL_DATA_DIR: dir, ARES_CENTRAL_PORT: 'abc' } });
  t.equal(badPort.status, 2);
  t.match(badPort.stderr, 'central.port');

  const file = path.join(dir, 'ares.yaml');
  fs.writeFileSync(file, 'central:\n  prot: 0\n');
  const misspelt = ares(['central', '--config', file], { env: { ARES_CENTRAL_DATA_DIR: dir } });
  t.equal(misspelt.status, 2);
  t.match(misspelt.stderr, /central\.prot.*did you mean central\.port\?/);
  const createAdmin = ares(['central', 'create-admin', '-c', file, '--email', 'a@b.example', '--password-stdin'], {
    env: { ARES_CENTRAL_DATA_DIR: dir },
    input: 'password-123\n',
  });
  t.equal(createAdmin.status, 2, 'create-admin validates the config too');
  t.match(createAdmin.stderr, 'central.prot');
});

t.test('central refuses plain HTTP on a non-loopback host', async (t) => {
  const dir = tempDir(t);
  const r = ares(['central'], {
    env: {
      ARES_CENTRAL_DATA_DIR: dir,
      ARES_CENTRAL_HOST: '0.0.0.0',
      ARES_CENTRAL_PORT: '0',
      ARES_CENTRAL_MQTT_PORT: '0',
    },
  });
  t.equal(r.status, 2);
  t.match(r.stderr, 'central.tls_cert');
  t.notMatch(r.stdout, 'central listening');
  t.notOk(fs.existsSync(path.join(dir, 'central.db')), 'refused before opening the database, let alone listening');
});

t.test('central serves and stops gracefully on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const svc = service(t, ['central'], {
    ARES_CENTRAL_DATA_DIR: dir,
    ARES_CENTRAL_PORT: '0',
    ARES_CENTRAL_MQTT_PORT: '0',
  });
  const listening = await svc.waitFor('"central listening"', ({ stdout }) =>
    jsonLines(stdout).find((l) => l['msg'] === 'central listening' && typeof l['url'] === 'string'),
  );
  const url = listening['url'] as string;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(url, 'http://127.0.0.1:0', 'reports the port it actually got');

  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200);
  t.same(await res.json(), { status: 'ok', database: 'ok' });
  t.ok(fs.existsSync(path.join(dir, 'central.db')), 'the database lives in the data dir');

  t.equal(await svc.stop(), 0, 'exits 0 after SIGTERM');
  t.ok(
    jsonLines(svc.output().stdout).some((l) => l['msg'] === 'stopping' && l['signal'] === 'SIGTERM'),
    'logs the signal',
  );
});

t.test('demo starts, its admin can log in, and it stops on SIGTERM', async (t) => {
  const svc = service(t, ['demo'], {});
  const info = await svc.waitFor('the demo credentials', ({ stderr }) => {
    const m = /Ares demo is running[^\n]*\n(\{[\s\S]*?\n\})\n/.exec(stderr);
    return m
      ? (JSON.parse(m[1]!) as { central: string; data_dir: string; admin: { email: string; password: string } })
      : undefined;
  });
  t.teardown(() => {
    // Only ever remove what the demo itself created under the temp dir.
    if (path.basename(info.data_dir).startsWith('ares-demo-') && path.dirname(info.data_dir) === os.tmpdir()) {
      fs.rmSync(info.data_dir, { recursive: true, force: true });
    }
  });
  t.match(info.central, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.match(path.basename(info.data_dir), /^ares-demo-/);
  t.type(info.admin.email, 'string');
  t.ok(info.admin.password.length >= 8, 'a real random password');

  const res = await fetch(`${info.central}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: info.admin.email, password: info.admin.password }),
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(res.status, 200);
  const body = (await res.json()) as { access_token?: unknown };
  t.type(body.access_token, 'string');

  const wrong = await fetch(`${info.central}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: info.admin.email, password: 'not-the-password' }),
    signal: AbortSignal.timeout(10_000),
  });
  t.equal(wrong.status, 401, 'a wrong password is refused');

  t.equal(await svc.stop(), 0, 'exits 0 after SIGTERM');
});

t.test('central broker-cert: files for an external Mosquitto, from central’s CA', async (t) => {
  const dataDir = tempDir(t);
  const out = path.join(tempDir(t), 'broker');
  const env = { ARES_CENTRAL_DATA_DIR: dataDir };
  const r = ares(['central', 'broker-cert', '--host', 'mqtt.example.org,10.0.0.5', '--out', out], { env });
  t.equal(r.status, 0, r.stderr);
  const written = JSON.parse(r.stdout) as { ca: string; cert: string; key: string };
  const { X509Certificate } = await import('node:crypto');
  const ca = new X509Certificate(fs.readFileSync(written.ca));
  const cert = new X509Certificate(fs.readFileSync(written.cert));
  t.ok(cert.verify(ca.publicKey), 'signed by the CA');
  t.ok(cert.checkIssued(ca));
  t.match(cert.subjectAltName, 'DNS:mqtt.example.org');
  t.match(cert.subjectAltName, 'IP Address:10.0.0.5');
  t.equal(fs.statSync(written.key).mode & 0o777, 0o600, 'the key is private');
  t.equal(
    fs.readFileSync(path.join(dataDir, 'ca', 'ca.crt'), 'utf8'),
    fs.readFileSync(written.ca, 'utf8'),
    'the CA is central’s own (hubs already trust it)',
  );
  const bad = ares(['central', 'broker-cert', '--host', 'bad host!', '--out', out], { env });
  t.equal(bad.status, 2);
  t.match(bad.stderr, '"bad host!" is not a host name');
  const missing = ares(['central', 'broker-cert', '--out', out], { env });
  t.equal(missing.status, 2);
  t.match(missing.stderr, '--host is required');
});
