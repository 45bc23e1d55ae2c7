// End to end (issue 5, "Done means" 2): docker-py — the one installed for python3 and
// Debian's python3-docker when both are there — does the basics against a private berthd:
// containers.run (foreground, with a failing command, detached), create/start/wait/logs/
// remove, list, exec_run (and the low-level exec API), api.attach, images.pull/list/get
// (save)/load/push/remove, commit, images.build, events with since/until and decode=True. One python
// script (test/integration/py/e2e_docker_py.py) runs every step on its own and prints JSON;
// each step's result is asserted here as docker-py shows it against dockerd.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startBerthd, type Berthd } from '../helpers/berthd.js';
import { e2eSkipReason, logTail, pushBusybox, startLocalRegistry, type BusyboxImage, type LocalRegistry } from '../helpers/e2e-fixtures.js';
import { REPO } from '../helpers/runtime.js';

const SCRIPT = join(REPO, 'test/integration/py/e2e_docker_py.py');

interface Interpreter {
  executable: string;
  dockerPy: string;
}

/** Each python with a different docker-py: python3 on PATH, then Debian's /usr/bin/python3. */
function interpretersWithDockerPy(): Interpreter[] {
  const found: Interpreter[] = [];
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(candidate, ['-c', 'import sys, docker; print(sys.executable); print(docker.__version__)'], { encoding: 'utf8' });
    if (r.status !== 0) continue;
    const [executable = '', dockerPy = ''] = r.stdout.trim().split('\n');
    if (!found.some((f) => f.dockerPy === dockerPy)) found.push({ executable, dockerPy });
  }
  return found;
}

const interpreters = e2eSkipReason() ? [] : interpretersWithDockerPy();
const skip = e2eSkipReason() || (interpreters.length > 0 ? false : 'needs python3 with docker-py');
const work = skip ? '/nonexistent' : mkdtempSync('/var/tmp/berth-e2e-py-');

let daemon: Berthd | undefined;
let registry: LocalRegistry | undefined;
let busybox: BusyboxImage;

type Step = { ok: true; value: unknown } | { ok: false; error: string; trace: string };
interface Summary {
  docker_py: string;
  api_version: string;
  left_after_cleanup: string[];
}
interface ScriptResult {
  steps: Record<string, Step>;
  /** The last line, printed when the script got to its end. */
  summary?: Summary;
}

/** The script's JSON lines: one per step as it ended, then the summary. */
function parseScriptOutput(stdout: string): ScriptResult {
  const result: ScriptResult = { steps: {} };
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const obj = JSON.parse(line) as ({ step: string } & Step) | Summary;
    if ('step' in obj) result.steps[obj.step] = obj;
    else result.summary = obj;
  }
  return result;
}

describe('docker-py against berthd', { skip, timeout: 1_200_000 }, () => {
  before(async () => {
    daemon = await startBerthd();
    registry = await startLocalRegistry(join(work, 'registry'));
    busybox = pushBusybox(work, registry.host, ['e2e/busybox:py']);
  });
  after(async () => {
    await daemon?.cleanup();
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  interpreters.forEach((python, i) => describe(`docker-py ${python.dockerPy} (${python.executable})`, () => {
    const prefix = `py${i}`;
    let result: ScriptResult | undefined;
    let failure = '';

    before(() => {
      const config = { base_url: daemon!.host, registry: registry!.host, repository: 'e2e/busybox', tag: 'py', prefix };
      const r = spawnSync(python.executable, [SCRIPT, JSON.stringify(config)], { encoding: 'utf8', timeout: 500_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
      try {
        result = parseScriptOutput(r.stdout);
      } catch (err) {
        failure = `unreadable output: ${String(err)}\n`;
      }
      if (!result?.summary) failure += `the script did not finish (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    });

    /** The value of one step; fails with the python traceback and the daemon's log when the step raised. */
    const value = <T>(step: string): T => {
      assert.ok(result, failure);
      const s = result.steps[step];
      assert.ok(s, `no step ${step} in the script's output\n${failure}`);
      if (!s.ok) assert.fail(`${step} raised ${s.error}\n${s.trace}\nberthd log (tail):\n${logTail(daemon!.log())}`);
      return s.value as T;
    };
    const image = (): string => `${registry!.host}/e2e/busybox:py`;
    const name = (what: string): string => `${prefix}-${what}`;

    it('negotiates an API version', () => {
      assert.ok(result?.summary, failure);
      assert.match(result.summary.api_version, /^1\.4[1-7]$/);
    });

    it('images.pull pulls the image from the local registry', () => {
      const v = value<{ id: string; tags: string[] }>('images_pull');
      assert.equal(v.id, busybox.imageId);
      assert.ok(v.tags.includes(image()), JSON.stringify(v.tags));
    });

    it('containers.run returns the output (stdout, or both with stderr=True) and remove=True removes the container', () => {
      const v = value<{ stdout: string; both: string; left: string[] }>('containers_run');
      assert.deepEqual(v, { stdout: 'out\n', both: 'out\nerr\n', left: [] });
    });

    it('containers.run raises ContainerError with the exit status and stderr of a failing command', () => {
      assert.deepEqual(value('containers_run_error'), { exit_status: 3, stderr: 'bad\n' });
    });

    it('containers.run(detach=True) returns a running container whose logs grow', () => {
      const v = value<{ status: string; name: string; logs: string }>('containers_run_detach');
      assert.deepEqual({ status: v.status, name: v.name, logs: v.logs }, { status: 'running', name: name('detached'), logs: 'started\n' });
    });

    it('containers.create, start, wait, logs and remove', () => {
      const v = value<{ before: string; wait: { StatusCode: number; Error?: unknown }; logs: string; stdout: string; after: string; gone: boolean }>('containers_create_start_wait_logs_remove');
      assert.equal(v.before, 'created');
      assert.equal(v.wait.StatusCode, 2);
      assert.ok(v.wait.Error === undefined || v.wait.Error === null, JSON.stringify(v.wait));
      assert.equal(v.logs, 'created\noops\n');
      assert.equal(v.stdout, 'created\n');
      assert.equal(v.after, 'exited');
      assert.equal(v.gone, true);
    });

    it('containers.list shows running containers, and exited ones with all=True', () => {
      const v = value<{ running: string[]; all: string[] }>('containers_list');
      assert.ok(v.running.includes(name('listed-running')), JSON.stringify(v.running));
      assert.ok(!v.running.includes(name('listed-exited')), JSON.stringify(v.running));
      assert.ok(v.all.includes(name('listed-running')) && v.all.includes(name('listed-exited')), JSON.stringify(v.all));
    });

    it('exec_run returns the exit code and output (demux splits the streams); the exec API agrees', () => {
      assert.deepEqual(value('exec_run'), { exit_code: 3, output: 'x\n', demux: ['o\n', 'e\n'], api_output: 'in-container\n', api_exit_code: 0, api_running: false });
    });

    it('exec_run with environment, workdir and user', () => {
      assert.deepEqual(value('exec_run_options'), { exit_code: 0, output: 'bar\n/tmp\n65534\n' });
    });

    it('api.attach streams a running container\'s output until it exits', () => {
      const v = value<{ text: string; exit_code: number }>('api_attach');
      assert.equal(v.exit_code, 4);
      const ticks = v.text.trimEnd().split('\n').map((l) => Number(/^tick(\d+)$/.exec(l)?.[1] ?? NaN));
      assert.ok(ticks.length >= 2, v.text);
      ticks.forEach((t, i) => assert.equal(t, ticks[0]! + i, `attach output out of order or broken: ${JSON.stringify(v.text)}`));
    });

    it('api.attach(logs=True, stream=False) on an exited container returns its log and ends', () => {
      assert.deepEqual(value('api_attach_logs'), { replayed: 'one\ntwo\n', stdout_only: 'one\n' });
    });

    it('images.list lists the pulled image, and filters by name', () => {
      const v = value<{ tags: string[]; named: string[] }>('images_list');
      assert.ok(v.tags.includes(image()), JSON.stringify(v.tags));
      assert.deepEqual(v.named, [image()]);
    });

    it('commit, images.get().save() and images.load() bring back the same image', () => {
      const v = value<{ id: string; archive_bytes: number; loaded: Array<{ id: string; tags: string[] }>; run: string }>('images_get_save_load');
      assert.ok(v.archive_bytes > 0);
      assert.deepEqual(v.loaded, [{ id: v.id, tags: [`${prefix}-saved:1`] }]);
      assert.equal(v.run, 'saved\n');
    });

    it('images.push sends a committed image to the registry; after remove, pull brings it back', async () => {
      const v = value<{ id: string; errors: unknown[]; digest: string | null; still_there: boolean; pulled_id: string; run: string }>('images_push_pull');
      assert.deepEqual(v.errors, []);
      assert.match(v.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      const head = await fetch(`http://${registry!.host}/v2/e2e/${prefix}-pushed/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(head.headers.get('docker-content-digest'), v.digest);
      assert.equal(v.still_there, false);
      assert.equal(v.pulled_id, v.id);
      assert.equal(v.run, 'pushed\n');
    });

    it('images.build builds a Dockerfile with build args; a failing RUN raises BuildError', () => {
      const v = value<{ id: string; tags: string[]; steps: string[]; run: string; failure: string }>('images_build');
      assert.match(v.id, /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(v.tags, [`${prefix}-built:1`]);
      assert.deepEqual(v.steps.map((s) => s.replace(/ : .*/, '')), ['Step 1/4', 'Step 2/4', 'Step 3/4', 'Step 4/4']);
      assert.equal(v.run, 'built for docker-py\n');
      assert.match(v.failure, /The command '\/bin\/sh -c exit 3' returned a non-zero code: 3/);
    });

    it('images.remove untags; an unknown image raises ImageNotFound', () => {
      const v = value<{ found_after_remove: boolean; base_still_there: boolean; unknown: string; result: unknown }>('images_remove');
      assert.equal(v.found_after_remove, false);
      assert.equal(v.base_still_there, true);
      assert.match(v.unknown, new RegExp(`No such image: ${prefix}-no-such-image:1`));
      assert.deepEqual(v.result, [{ Untagged: `${prefix}-removed:1` }]);
    });

    it('events(since, until, decode=True, filters) returns create, start, die with exitCode, destroy', () => {
      const v = value<Array<Record<string, unknown>>>('events');
      const meta = v.at(-1) as { container_id: string };
      const lifecycle = v.slice(0, -1).filter((e) => ['create', 'start', 'die', 'destroy'].includes(String(e.Action)));
      assert.deepEqual(lifecycle.map((e) => [e.Type, e.Action, e.name, e.exitCode ?? null]), [
        ['container', 'create', name('events'), null],
        ['container', 'start', name('events'), null],
        ['container', 'die', name('events'), '7'],
        ['container', 'destroy', name('events'), null],
      ]);
      for (const e of lifecycle) {
        assert.equal(e.id, meta.container_id);
        assert.equal(e.status, e.Action);
        assert.match(String(e.timeNano), /^\d+$/);
      }
    });

    it('leaves no container behind', () => {
      assert.ok(result?.summary, failure);
      assert.deepEqual(result.summary.left_after_cleanup, []);
    });
  }));
});
