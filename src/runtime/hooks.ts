// Hooks that run in the runtime's namespaces (prestart, createRuntime, poststart,
// poststop): each gets the container state on stdin and is killed at its timeout.
import { spawn } from 'node:child_process';
import type { Hook, State } from '../oci/runtime-spec.js';
import { internal } from '../util/errors.js';

export async function runHook(name: string, hook: Hook, state: State): Promise<void> {
  const [argv0, ...rest] = hook.args?.length ? hook.args : [hook.path];
  const child = spawn(hook.path, rest, {
    argv0,
    env: Object.fromEntries((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    stdio: ['pipe', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  child.stdin.on('error', () => undefined); // a hook may exit without reading its state
  child.stdin.end(JSON.stringify(state));
  let timedOut = false;
  const timer = hook.timeout ? setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, hook.timeout * 1000) : undefined;
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  if (timer) clearTimeout(timer);
  const detail = stderr.trim() ? `: ${stderr.trim()}` : '';
  if (result.error) throw internal(`${name} hook ${hook.path}: ${result.error.message}`, result.error);
  if (timedOut) throw internal(`${name} hook ${hook.path} timed out after ${hook.timeout} s`);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
    throw internal(`${name} hook ${hook.path} ${how}${detail}`);
  }
}

/** Run hooks in order; the first failure stops the rest. */
export async function runHooks(name: string, hooks: readonly Hook[] | undefined, state: State): Promise<void> {
  for (const hook of hooks ?? []) await runHook(name, hook, state);
}
