// Starts the whole local stack once (tools/DevStack: Azurite, the Vipps simulator, the local Functions host with the
// Function App as the real isolated worker and the kiosk, webhook registration, a demo machine) and stops it again. Used by the browser tests; not a test file itself.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command to completion; rejects with its tail of output when it fails or overruns. */
export function run(command, args, { timeoutMs, cwd = repoRoot } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const keep = (chunk) => { output = (output + chunk).slice(-20000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
      reject(new Error(`${command} ${args.join(' ')} took over ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Builds and starts tools/DevStack on free ports, waits (up to readyTimeoutMs) for its ready file and returns
 * { info, logPath, stop }. info = { apiBaseUrl, kioskUrl, simulatorUrl, machineId, apiKey, runnerUrl }.
 */
export async function startDevStack({ buildTimeoutMs = 15 * 60_000, readyTimeoutMs = 120_000 } = {}) {
  // A developer may point the tests at a stack that already runs (its ready file); then nothing is started or stopped.
  if (process.env.DEVSTACK_READY_FILE) {
    const info = JSON.parse(readFileSync(process.env.DEVSTACK_READY_FILE, 'utf8'));
    return { info, logPath: null, stop: async () => {}, cleanup: () => {} };
  }
  // Build first, on its own: the spawn below then only starts processes, and its deadline measures just that.
  await run('dotnet', ['build', 'tools/DevStack', '-c', 'Release', '--nologo', '-v', 'q', '-clp:ErrorsOnly'], { timeoutMs: buildTimeoutMs });

  const dir = mkdtempSync(path.join(tmpdir(), 'kiosk-devstack-'));
  const readyFile = path.join(dir, 'ready.json');
  const logPath = path.join(dir, 'devstack.log');
  const log = createWriteStream(logPath);
  // detached: the stack gets its own process group, so one signal reaches dotnet, the stack and Azurite.
  const child = spawn('dotnet', ['run', '--project', 'tools/DevStack', '-c', 'Release', '--no-build', '--',
    '--simulator-port', '0', '--runner-port', '0', '--azurite-port', '0', '--ready-file', readyFile],
  { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exitCode = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => { exitCode = code ?? signal; resolve(); }));
  const killGroup = (signal) => { try { process.kill(-child.pid, signal); } catch { /* already gone */ } };
  // If the test process dies without running after(), do not leave the stack running.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (exitCode === null) {
      killGroup('SIGTERM');
      const deadline = sleep(20_000).then(() => 'timeout');
      if (await Promise.race([exited, deadline]) === 'timeout') {
        process.stderr.write(`DevStack did not stop within 20 s of SIGTERM; killing its process group (log ${logPath})\n`);
        killGroup('SIGKILL');
        await exited;
      }
    }
    log.end();
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (existsSync(readyFile)) {
      try {
        const info = JSON.parse(readFileSync(readyFile, 'utf8'));
        for (const key of ['kioskUrl', 'simulatorUrl', 'machineId', 'apiKey', 'runnerUrl', 'apiBaseUrl']) {
          if (!info[key]) throw new Error(`ready file lacks ${key}`);
        }
        return { info, logPath, stop, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
      } catch (error) {
        if (!(error instanceof SyntaxError)) { await stop(); throw error; } // SyntaxError: still being written
      }
    }
    if (exitCode !== null) {
      await stop();
      throw new Error(`DevStack exited (${exitCode}) before it was ready; log ${logPath}:\n${readFileSync(logPath, 'utf8').slice(-8000)}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DevStack not ready within ${readyTimeoutMs} ms; log ${logPath}:\n${readFileSync(logPath, 'utf8').slice(-8000)}`);
    }
    await sleep(200);
  }
}

/** Polls fn until it returns a truthy value, or throws with the last value after timeoutMs. */
export async function eventually(fn, { timeoutMs = 30_000, intervalMs = 250, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await sleep(intervalMs);
  }
}
