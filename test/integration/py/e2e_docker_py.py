"""docker-py against berthd, for test/integration/e2e-docker-py.test.ts.

Usage: python3 e2e_docker_py.py '{"base_url": "unix:///...", "registry": "127.0.0.1:PORT",
                                   "repository": "e2e/busybox", "tag": "py", "prefix": "py5"}'

Runs each step of the workflow on its own (a failing step does not stop the others) and
prints one JSON line per step as it ends: {"step": name, "ok": true, "value": ...} or
{"step": name, "ok": false, "error": "...", "trace": "..."} (a step still running after
STEP_TIMEOUT seconds is reported as a TimeoutError and left behind), then a last line
{"docker_py": version, "api_version": ..., "left_after_cleanup": [...]}. The test asserts on the values. Everything the script
makes carries the label e2e=<prefix> or the <prefix> in its name and is removed at the end.
"""

import json
import os
import sys
import threading
import time
import traceback

import docker
from docker.errors import ContainerError, ImageNotFound, NotFound

CONFIG = json.loads(sys.argv[1])
PREFIX = CONFIG["prefix"]
LABELS = {"e2e": PREFIX}
REGISTRY = CONFIG["registry"]
REPOSITORY = f"{REGISTRY}/{CONFIG['repository']}"
IMAGE = f"{REPOSITORY}:{CONFIG['tag']}"

client = docker.DockerClient(base_url=CONFIG["base_url"], version="auto", timeout=30)
steps = {}
made_images = []


STEP_TIMEOUT = 30


def step(fn):
    """Run one step in a thread (a hung one is reported and left behind), print its result as a JSON line."""
    result = {"ok": False, "error": f"TimeoutError: still running after {STEP_TIMEOUT} s", "trace": ""}

    def body():
        nonlocal result
        try:
            result = {"ok": True, "value": fn()}
        except Exception as err:  # noqa: BLE001 - every failure is a result to report
            result = {"ok": False, "error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()}

    started = time.time()
    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(STEP_TIMEOUT)
    steps[fn.__name__] = {**result, "seconds": round(time.time() - started, 3)}
    print(json.dumps({"step": fn.__name__, **steps[fn.__name__]}), flush=True)
    return fn


def text(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def name(what):
    return f"{PREFIX}-{what}"


def run_detached(what, command, **kwargs):
    return client.containers.run(IMAGE, command, detach=True, name=name(what), labels=LABELS, **kwargs)


def poll(what, check, timeout=20):
    deadline = time.time() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


@step
def images_pull():
    image = client.images.pull(REPOSITORY, tag=CONFIG["tag"])
    return {"id": image.id, "tags": image.tags}


@step
def containers_run():
    out = client.containers.run(IMAGE, ["sh", "-c", "sleep 0.2; echo out; echo err >&2"], remove=True, name=name("run"), labels=LABELS)
    both = client.containers.run(IMAGE, ["sh", "-c", "sleep 0.2; echo out; sleep 0.2; echo err >&2"], remove=True, stdout=True, stderr=True, labels=LABELS)
    left = [c.name for c in client.containers.list(all=True, filters={"name": name("run")})]
    return {"stdout": text(out), "both": text(both), "left": left}


@step
def containers_run_error():
    try:
        client.containers.run(IMAGE, ["sh", "-c", "sleep 0.2; echo bad >&2; exit 3"], name=name("run-error"), labels=LABELS)
    except ContainerError as err:
        err.container.remove(force=True)
        return {"exit_status": err.exit_status, "stderr": text(err.stderr)}
    return {"raised": False}


@step
def containers_run_detach():
    container = run_detached("detached", ["sh", "-c", "echo started; sleep 600"])
    logs = poll("the detached container's first line", lambda: text(container.logs()) or None)
    container.reload()
    return {"status": container.status, "name": container.name, "logs": logs, "id": container.id}


@step
def containers_create_start_wait_logs_remove():
    container = client.containers.create(IMAGE, ["sh", "-c", "echo created; sleep 0.2; echo oops >&2; exit 2"], name=name("created"), labels=LABELS)
    status_before = container.status
    container.start()
    result = container.wait(timeout=30)
    logs_both = text(container.logs())
    logs_stdout = text(container.logs(stdout=True, stderr=False))
    container.reload()
    status_after = container.status
    container.remove()
    try:
        client.containers.get(container.id)
        gone = False
    except NotFound:
        gone = True
    return {"before": status_before, "wait": result, "logs": logs_both, "stdout": logs_stdout, "after": status_after, "gone": gone}


@step
def containers_list():
    running = run_detached("listed-running", ["sleep", "600"])
    exited = run_detached("listed-exited", ["true"])
    exited.wait(timeout=30)
    filters = {"label": f"e2e={PREFIX}"}
    return {
        "running": sorted(c.name for c in client.containers.list(filters=filters)),
        "all": sorted(c.name for c in client.containers.list(all=True, filters=filters)),
        "running_id": running.id,
    }


@step
def exec_run():
    container = run_detached("exec", ["sleep", "600"])
    code_out = container.exec_run(["sh", "-c", "sleep 0.1; echo x; exit 3"])
    demuxed = container.exec_run(["sh", "-c", "sleep 0.1; echo o; sleep 0.1; echo e >&2"], demux=True)
    with_stdin = client.api.exec_create(container.id, ["sh", "-c", "sleep 0.1; echo in-container"], stdout=True, stderr=True)
    raw = client.api.exec_start(with_stdin["Id"])
    inspected = client.api.exec_inspect(with_stdin["Id"])
    return {
        "exit_code": code_out.exit_code,
        "output": text(code_out.output),
        "demux": [text(part) for part in demuxed.output],
        "api_output": text(raw),
        "api_exit_code": inspected["ExitCode"],
        "api_running": inspected["Running"],
    }


@step
def exec_run_options():
    container = run_detached("exec-options", ["sleep", "600"])
    result = container.exec_run(["sh", "-c", "sleep 0.1; echo $FOO; pwd; id -u"], environment={"FOO": "bar"}, workdir="/tmp", user="nobody")
    return {"exit_code": result.exit_code, "output": text(result.output)}


@step
def api_attach():
    container = run_detached("attach", ["sh", "-c", "i=0; while [ ! -e /tmp/stop ]; do echo tick$i; i=$((i+1)); sleep 0.1; done; exit 4"])
    chunks = []
    stopper = threading.Timer(20, lambda: container.kill())  # a hung stream ends the test's wait, not the script
    stopper.start()
    try:
        stopped = False
        for chunk in client.api.attach(container.id, stream=True, logs=False):
            chunks.append(text(chunk))
            if not stopped and "".join(chunks).count("tick") >= 2:
                container.exec_run(["touch", "/tmp/stop"])
                stopped = True
    finally:
        stopper.cancel()
    exit_code = container.wait(timeout=30)["StatusCode"]
    return {"text": "".join(chunks), "exit_code": exit_code}


@step
def api_attach_logs():
    container = run_detached("attach-logs", ["sh", "-c", "echo one; sleep 0.1; echo two >&2"])
    container.wait(timeout=30)
    return {"replayed": text(client.api.attach(container.id, stream=False, logs=True)), "stdout_only": text(client.api.attach(container.id, stream=False, logs=True, stderr=False))}


@step
def images_list():
    images = client.images.list()
    named = client.images.list(name=REPOSITORY)
    return {"tags": sorted(t for i in images for t in i.tags), "named": sorted(t for i in named for t in i.tags)}


def committed_image(what, marker):
    source = client.containers.run(IMAGE, ["sh", "-c", f"echo {marker} > /marker"], detach=True, name=name(f"{what}-src"), labels=LABELS)
    source.wait(timeout=30)
    repository = f"{PREFIX}-{what}"
    image = source.commit(repository=repository, tag="1", changes=['CMD ["cat", "/marker"]'])
    source.remove()
    made_images.append(f"{repository}:1")
    return image, f"{repository}:1"


@step
def images_get_save_load():
    image, ref = committed_image("saved", "saved")
    archive = b"".join(client.images.get(ref).save(named=True))
    client.images.remove(ref)
    loaded = client.images.load(archive)
    run = client.containers.run(ref, remove=True, labels=LABELS)
    return {"id": image.id, "archive_bytes": len(archive), "loaded": [{"id": i.id, "tags": i.tags} for i in loaded], "run": text(run)}


@step
def images_push_pull():
    image, ref = committed_image("pushed", "pushed")
    remote = f"{REGISTRY}/e2e/{PREFIX}-pushed"
    image.tag(remote, tag="1")
    made_images.append(f"{remote}:1")
    messages = list(client.images.push(remote, tag="1", stream=True, decode=True))
    errors = [m for m in messages if "error" in m or "errorDetail" in m]
    digest = next((m["aux"]["Digest"] for m in messages if "aux" in m and "Digest" in m["aux"]), None)
    client.images.remove(f"{remote}:1")
    client.images.remove(ref)
    try:
        client.images.get(image.id)
        still_there = True
    except ImageNotFound:
        still_there = False
    pulled = client.images.pull(remote, tag="1")
    run = client.containers.run(f"{remote}:1", remove=True, labels=LABELS)
    return {"id": image.id, "errors": errors, "digest": digest, "still_there": still_there, "pulled_id": pulled.id, "run": text(run)}


@step
def images_remove():
    image = client.images.get(IMAGE)
    ref = f"{PREFIX}-removed:1"
    image.tag(ref)
    made_images.append(ref)
    untagged = client.api.remove_image(ref)
    try:
        client.images.get(ref)
        found = True
    except ImageNotFound:
        found = False
    try:
        client.images.remove(f"{PREFIX}-no-such-image:1")
        unknown = "removed?"
    except ImageNotFound as err:
        unknown = str(err.explanation)
    return {"found_after_remove": found, "base_still_there": client.images.get(IMAGE).id == image.id, "unknown": unknown, "result": untagged}


@step
def images_build():
    import io
    dockerfile = f"FROM {IMAGE}\nARG WHO=nobody\nRUN echo built for $WHO > /built\nCMD [\"cat\", \"/built\"]\n"
    ref = f"{PREFIX}-built:1"
    image, logs = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=ref, buildargs={"WHO": "docker-py"}, rm=True)
    made_images.append(ref)
    lines = [chunk.get("stream", "") for chunk in logs]
    run = client.containers.run(ref, remove=True, labels=LABELS)
    try:
        client.images.build(fileobj=io.BytesIO(f"FROM {IMAGE}\nRUN exit 3\n".encode()), rm=True)
        failure = "built?"
    except docker.errors.BuildError as err:
        failure = str(err)
    return {"id": image.id, "tags": image.tags, "steps": [l.strip() for l in lines if l.startswith("Step ")], "run": text(run), "failure": failure}


@step
def events():
    since = int(time.time()) - 1
    container = client.containers.create(IMAGE, ["sh", "-c", "exit 7"], name=name("events"), labels=LABELS)
    container.start()
    container.wait(timeout=30)
    container.remove()
    until = int(time.time()) + 1
    seen = list(client.events(since=since, until=until, decode=True, filters={"container": container.id}))
    return [
        {"Type": e.get("Type"), "Action": e.get("Action"), "status": e.get("status"), "id": e.get("id"),
         "name": e.get("Actor", {}).get("Attributes", {}).get("name"),
         "exitCode": e.get("Actor", {}).get("Attributes", {}).get("exitCode"),
         "timeNano": e.get("timeNano")}
        for e in seen
    ] + [{"container_id": container.id, "since": since, "until": until}]


def cleanup():
    try:
        containers = client.containers.list(all=True, filters={"label": f"e2e={PREFIX}"})
    except Exception:  # noqa: BLE001 - best effort; the test's daemon cleanup kills the rest
        containers = []
    for container in containers:
        try:
            container.remove(force=True)
        except Exception:  # noqa: BLE001 - best effort
            pass
    for ref in made_images:
        try:
            client.images.remove(ref, force=True)
        except Exception:  # noqa: BLE001 - best effort
            pass


def leftovers():
    try:
        return sorted(c.name for c in client.containers.list(all=True, filters={"label": f"e2e={PREFIX}"}))
    except Exception as err:  # noqa: BLE001 - reported, not raised
        return [f"listing failed: {err}"]


cleanup()
print(json.dumps({"docker_py": docker.__version__, "api_version": client.api.api_version, "left_after_cleanup": leftovers()}), flush=True)
# A hung step's thread must not keep the interpreter alive.
os._exit(0)
