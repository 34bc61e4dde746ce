"""ECS task execution end to end: RunTask / DescribeTasks / ListTasks / StopTask with real containers
under runc, boto3's task waiters, awslogs output in CloudWatch Logs, exit codes, OOM kills, SIGTERM and
SIGKILL on StopTask, image pull failures, capacity queueing, and tasks caught by a server crash.

Needs root and runc (tasks only run then); otherwise every test is skipped with GANTRY_E2E_SKIPPED.
The test images of scripts/make-test-images are pushed to the server's own registry over raw HTTP on
127.0.0.1 (a reset wipes the blob store, so each test pushes what it runs); task definitions name them
as 127.0.0.1:PORT/REPO:TAG or ACCOUNT.dkr.ecr.REGION.localhost:PORT/REPO:TAG, which the server resolves
to itself: no test ever causes network traffic beyond loopback."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

from botocore.exceptions import ClientError, WaiterError

import oci_helpers
from harness import ACCOUNT, REGION, REPO, GantryServer, ServerTestCase, ensure_execution_role, skip_unless_containers_run

RUNC = shutil.which("runc")
IMAGES = os.environ.get("GANTRY_TEST_IMAGES_DIR") or os.path.join(REPO, "build", "test-images")
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
CLUSTER = "tasks"
LOG_GROUP = "/ecs/e2e"
LOG_PREFIX = "e2e"
# Every lastStatus a task may report, in the order the supervisor moves through them.
STATUS_ORDER = ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING", "DEACTIVATING", "STOPPING",
                "DEPROVISIONING", "STOPPED"]
ESSENTIAL_EXITED = "Essential container in task exited"
# The seed's batch job (shared/seed): what its image runs.
SEED_SCRIPT = ("import time\nprint('Task starting..', flush=True)\ntime.sleep(5)\n"
               "print('Task ended, took 5 seconds', flush=True)\n")


def setUpModule():
    skip_unless_containers_run("tasks")
    if not os.path.exists(os.path.join(IMAGES, "images.json")):
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make-test-images"), "--out", IMAGES,
                            "--quiet"], capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"scripts/make-test-images failed ({p.returncode}): {p.stderr[-3000:]}")


# --- images ------------------------------------------------------------------------------------------
def _layout_image(name):
    """(manifest bytes, manifest media type, [blob bytes of config and layers]) of IMAGES/<name>:latest."""
    root = os.path.join(IMAGES, name)

    def blob(digest):
        with open(os.path.join(root, "blobs", "sha256", digest.split(":", 1)[1]), "rb") as f:
            return f.read()

    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    desc = [d for d in index["manifests"]
            if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
    manifest = blob(desc["digest"])
    parsed = json.loads(manifest)
    return manifest, desc["mediaType"], [blob(parsed["config"]["digest"])] + [blob(l["digest"])
                                                                             for l in parsed["layers"]]


_IMAGE_CACHE = {}


def layout_image(name):
    if name not in _IMAGE_CACHE:
        _IMAGE_CACHE[name] = _layout_image(name)
    return _IMAGE_CACHE[name]


def python_image_runs_batch_job():
    """Whether the python test image's own command is the seed's batch job (else a task names it)."""
    _, _, blobs = layout_image("python")
    config = json.loads(blobs[0]).get("config", {})
    return "Task starting" in json.dumps([config.get("Entrypoint"), config.get("Cmd")])


def push_test_image(server, name, repo, tag="latest"):
    """Creates ECR repository `repo` (if needed) and pushes test image `name` to it as `tag`, over raw HTTP
    to 127.0.0.1, the way a registry client does (blobs, then the manifest)."""
    try:
        server.client("ecr").create_repository(repositoryName=repo)
    except ClientError as e:
        if e.response["Error"]["Code"] != "RepositoryAlreadyExistsException":
            raise
    reg = oci_helpers.Registry(server, oci_helpers.registry_password(server))
    manifest, media_type, blobs = layout_image(name)
    for data in blobs:
        reg.push_blob(repo, data)
    status, _, body = reg.put_manifest(repo, tag, manifest, media_type)
    assert status == 201, (status, body)


def loopback_image(server, repo, tag="latest"):
    return f"127.0.0.1:{server.port}/{repo}:{tag}"


def ecr_image(server, repo, tag="latest"):
    return f"{ACCOUNT}.dkr.ecr.{REGION}.localhost:{server.port}/{repo}:{tag}"


# --- runc hygiene -------------------------------------------------------------------------------------
def runc_containers(data_dir):
    """Ids of the containers runc knows under the server's runc root (<data-dir>/runc)."""
    p = subprocess.run([RUNC, "--root", os.path.join(data_dir, "runc"), "list", "--format", "json"],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError(f"runc list failed ({p.returncode}): {p.stderr}")
    return [c["id"] for c in (json.loads(p.stdout or "null") or [])]


def force_cleanup(data_dir):
    """Leaves nothing of a test server behind on the machine: kills and deletes its runc containers and
    unmounts whatever is still mounted under its data dir. Returns what it had to clean."""
    leftovers = []
    if RUNC and os.path.isdir(os.path.join(data_dir, "runc")):
        try:
            for cid in runc_containers(data_dir):
                leftovers.append(f"container {cid}")
                subprocess.run([RUNC, "--root", os.path.join(data_dir, "runc"), "delete", "--force", cid],
                               capture_output=True, timeout=30)
        except (AssertionError, ValueError, OSError, subprocess.SubprocessError):
            pass
    real = os.path.realpath(data_dir) + "/"
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1].encode().decode("unicode_escape") for line in f]
    for mnt in sorted((m for m in mounts if m.startswith(real)), key=len, reverse=True):
        leftovers.append(f"mount {mnt}")
        subprocess.run(["umount", "-l", mnt], capture_output=True, timeout=30)
    return leftovers


# --- the test base --------------------------------------------------------------------------------------
class TaskTestMixin:
    """Helpers shared by the task tests: clients, task definitions, RunTask and waits. Needs self.server."""

    def clients(self):
        ensure_execution_role(self.server)  # what pulls the images and writes the logs (IAM is enforced)
        self.ecs = self.server.client("ecs")
        self.logs = self.server.client("logs")
        self.ec2 = self.server.client("ec2")

    def log_tail(self, n=4000):
        try:
            return "\n--- server log (tail) ---\n" + self.server.read_log()[-n:]
        except OSError as e:
            return f"\n(no server log: {e})"

    def subnets(self, n=1):
        found = sorted(s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"])
        self.assertGreaterEqual(len(found), n, "the default VPC has too few subnets")
        return found[:n]

    def network(self, subnets=None):
        return {"awsvpcConfiguration": {"subnets": subnets or self.subnets(), "assignPublicIp": "DISABLED"}}

    def register(self, family, command=None, image=None, cpu="256", memory="512", name="app", stop_timeout=None,
                 environment=None, task_role=None, execution_role=EXECUTION_ROLE, **container):
        """Registers a one-container Fargate task definition logging with awslogs (with `task_role` as its
        taskRoleArn, `execution_role` as its executionRoleArn); returns its ARN."""
        c = {"name": name, "image": image or loopback_image(self.server, "busybox"), "essential": True,
             "logConfiguration": {"logDriver": "awslogs", "options": {
                 "awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": LOG_PREFIX,
                 "awslogs-create-group": "true"}}}
        if command is not None:
            c["command"] = ["/bin/sh", "-c", command] if isinstance(command, str) else command
        if stop_timeout is not None:
            c["stopTimeout"] = stop_timeout
        if environment:
            c["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
        c.update(container)
        td = self.ecs.register_task_definition(
            family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu=cpu, memory=memory,
            containerDefinitions=[c], **({"taskRoleArn": task_role} if task_role else {}),
            **({"executionRoleArn": execution_role} if execution_role else {}))["taskDefinition"]
        return td["taskDefinitionArn"]

    def run_tasks(self, task_definition, count=1, cluster=CLUSTER, **kwargs):
        """RunTask on Fargate in the default VPC's first subnet; returns the tasks (failures must be empty)."""
        kwargs.setdefault("networkConfiguration", self.network())
        resp = self.ecs.run_task(cluster=cluster, taskDefinition=task_definition, launchType="FARGATE", count=count,
                                 **kwargs)
        self.assertEqual(resp["failures"], [], "RunTask reported failures" + self.log_tail())
        self.assertEqual(len(resp["tasks"]), count, resp)
        return resp["tasks"]

    def describe(self, arns, cluster=CLUSTER):
        """DescribeTasks of `arns` (any number), as a list in the same order; no failures allowed."""
        tasks = {}
        for i in range(0, len(arns), 100):
            resp = self.ecs.describe_tasks(cluster=cluster, tasks=arns[i:i + 100])
            self.assertEqual(resp["failures"], [], f"DescribeTasks {arns[i:i + 100]}")
            tasks.update({t["taskArn"]: t for t in resp["tasks"]})
        return [tasks[a] for a in arns]

    def wait(self, waiter, arns, cluster=CLUSTER, timeout=60):
        try:
            self.ecs.get_waiter(waiter).wait(cluster=cluster, tasks=arns,
                                             WaiterConfig={"Delay": 1, "MaxAttempts": timeout})
        except WaiterError as e:
            last = e.last_response.get("tasks", e.last_response) if e.last_response else None
            self.fail(f"waiter {waiter} failed: {e}\nlast DescribeTasks: {json.dumps(last, default=str)[:3000]}"
                      + self.log_tail())
        return self.describe(arns, cluster)

    def wait_stopped(self, arns, cluster=CLUSTER, timeout=60):
        return self.wait("tasks_stopped", arns, cluster, timeout)

    def wait_running(self, arns, cluster=CLUSTER, timeout=60):
        return self.wait("tasks_running", arns, cluster, timeout)

    def wait_for(self, what, fn, timeout=15, interval=0.1):
        """Polls fn() until it returns something truthy; fails naming `what` (and the last value) otherwise."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = fn()
            if value:
                return value
            time.sleep(interval)
        self.fail(f"timed out after {timeout}s waiting for {what}; last: {value!r}" + self.log_tail())

    def run_to_stop(self, task_definition, **kwargs):
        """Runs one task and waits for it to stop; returns the stopped task."""
        arn = self.run_tasks(task_definition, **kwargs)[0]["taskArn"]
        return self.wait_stopped([arn])[0]

    @staticmethod
    def task_id(task):
        arn = task if isinstance(task, str) else task["taskArn"]
        return arn.rsplit("/", 1)[1]

    def stream_of(self, task, container="app", prefix=LOG_PREFIX):
        return f"{prefix}/{container}/{self.task_id(task)}"

    def log_lines(self, task, expect=(), container="app", group=LOG_GROUP, prefix=LOG_PREFIX, timeout=10):
        """The messages of the task's awslogs stream, once every string of `expect` is among them."""
        stream = self.stream_of(task, container, prefix)
        messages = []

        def read():
            nonlocal messages
            try:
                events = self.logs.get_log_events(logGroupName=group, logStreamName=stream,
                                                  startFromHead=True)["events"]
            except self.logs.exceptions.ResourceNotFoundException:
                return False
            messages = [e["message"] for e in events]
            return all(any(x in m for m in messages) for x in expect)

        self.wait_for(f"log lines {list(expect)} in {group} / {stream}", read, timeout=timeout, interval=0.2)
        return messages

    def assert_stopped_ok(self, task, exit_code=0):
        """The task stopped because its essential container exited with `exit_code`."""
        self.assertEqual(task["lastStatus"], "STOPPED", task)
        self.assertEqual(task["desiredStatus"], "STOPPED")
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited", task)
        self.assertEqual(task.get("stoppedReason"), ESSENTIAL_EXITED)
        self.assertEqual(task["containers"][0]["lastStatus"], "STOPPED")
        self.assertEqual(task["containers"][0].get("exitCode"), exit_code,
                         f"container: {task['containers'][0]}" + self.log_tail())

    def stop_leftover_tasks(self):
        """Stops tasks a failed test left running, so the next test (and the machine) starts clean."""
        if not self.server.alive():
            return
        try:
            arns = []
            for cluster in self.ecs.list_clusters()["clusterArns"]:
                for arn in self.ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]:
                    self.ecs.stop_task(cluster=cluster, task=arn, reason="e2e cleanup")
                    arns.append((cluster, arn))
            deadline = time.monotonic() + 40
            while arns and time.monotonic() < deadline:
                arns = [(c, a) for c, a in arns
                        if self.ecs.describe_tasks(cluster=c, tasks=[a])["tasks"][0]["lastStatus"] != "STOPPED"]
                time.sleep(0.2)
        except ClientError:
            pass


class TaskServerTestCase(TaskTestMixin, ServerTestCase):
    """A server per class (reset before each test); cluster CLUSTER and busybox pushed for every test."""

    @classmethod
    def tearDownClass(cls):
        data_dir = cls.server.data_dir
        cls.server.stop()
        leftovers = force_cleanup(data_dir)
        super().tearDownClass()
        if leftovers:
            raise AssertionError(f"the server left behind after shutdown: {leftovers}")

    def setUp(self):
        super().setUp()
        self.clients()
        self.ecs.create_cluster(clusterName=CLUSTER)
        push_test_image(self.server, "busybox", "busybox")

    def tearDown(self):
        self.stop_leftover_tasks()
        super().tearDown()


# --- the tests -----------------------------------------------------------------------------------------
class RunTaskTest(TaskServerTestCase):

    def test_lifecycle_response_timestamps_and_logs(self):
        td = self.register("hello", "echo hello from gantry; sleep 2; echo second line >&2; sleep 0.3; echo bye")
        subnet = self.subnets()[0]
        before = time.time()
        resp = self.ecs.run_task(cluster=CLUSTER, taskDefinition="hello", launchType="FARGATE", count=1,
                                 networkConfiguration=self.network([subnet]))
        self.assertEqual(resp["failures"], [])
        self.assertEqual(len(resp["tasks"]), 1)
        task = resp["tasks"][0]
        arn = task["taskArn"]
        self.assertRegex(arn, rf"^arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/[0-9a-f]{{32}}$")
        self.assertEqual(task["clusterArn"], f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}")
        self.assertEqual(task["taskDefinitionArn"], td)
        self.assertEqual(task["lastStatus"], "PROVISIONING")
        self.assertEqual(task["desiredStatus"], "RUNNING")
        self.assertEqual(task["group"], "family:hello")
        self.assertEqual((task["cpu"], task["memory"]), ("256", "512"))
        self.assertEqual(task["launchType"], "FARGATE")
        self.assertEqual(task["platformVersion"], "1.4.0")
        self.assertIsInstance(task["version"], int)
        self.assertGreaterEqual(task["createdAt"].timestamp(), before - 1)
        self.assertLessEqual(task["createdAt"].timestamp(), time.time() + 1)
        self.assertEqual(len(task["containers"]), 1)
        c = task["containers"][0]
        self.assertEqual((c["name"], c["image"], c["lastStatus"]), ("app", loopback_image(self.server, "busybox"),
                                                                     "PENDING"))
        self.assertEqual(c["taskArn"], arn)
        self.assertRegex(c["containerArn"], rf"^arn:aws:ecs:{REGION}:{ACCOUNT}:container/")
        enis = [a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface"]
        self.assertEqual(len(enis), 1, task["attachments"])
        self.assertIn({"name": "subnetId", "value": subnet}, enis[0]["details"])

        # Watch it move: lastStatus never goes back, and RUNNING is seen (the container sleeps 2 s).
        seen = []

        def observe():
            t = self.describe([arn])[0]
            if not seen or seen[-1] != t["lastStatus"]:
                seen.append(t["lastStatus"])
            return t["lastStatus"] == "STOPPED"

        self.wait_for("the task to stop", observe, timeout=60, interval=0.1)
        for s in seen:
            self.assertIn(s, STATUS_ORDER, f"unknown lastStatus {s!r}")
        self.assertEqual(seen, sorted(seen, key=STATUS_ORDER.index), f"lastStatus went backwards: {seen}")
        self.assertIn("RUNNING", seen, f"statuses seen: {seen}")

        task = self.wait_stopped([arn])[0]  # the waiter agrees
        self.assert_stopped_ok(task, 0)
        self.assertEqual(task["containers"][0]["image"], loopback_image(self.server, "busybox"))
        ts = {k: task[k].timestamp() for k in ("createdAt", "pullStartedAt", "pullStoppedAt", "startedAt",
                                                "stoppingAt", "executionStoppedAt", "stoppedAt") if k in task}
        for k in ("pullStartedAt", "pullStoppedAt", "startedAt", "stoppingAt", "executionStoppedAt", "stoppedAt"):
            self.assertIn(k, ts, f"a stopped task reports {k}: {task}")
        order = ["createdAt", "pullStartedAt", "pullStoppedAt", "startedAt", "executionStoppedAt", "stoppedAt"]
        for a, b in zip(order, order[1:]):
            self.assertLessEqual(ts[a], ts[b], f"{a} after {b}: {ts}")
        self.assertLessEqual(ts["stoppingAt"], ts["stoppedAt"])
        self.assertGreaterEqual(ts["executionStoppedAt"] - ts["startedAt"], 1.5, f"the container sleeps 2 s: {ts}")

        lines = self.log_lines(task, ["hello from gantry", "second line", "bye"])
        self.assertEqual(lines, ["hello from gantry", "second line", "bye"], "one event per line, in order")
        groups = [g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]]
        self.assertIn(LOG_GROUP, groups, "awslogs-create-group creates the group")

        # Stopped tasks are not RUNNING: nothing is listed by default, and no container is left in runc.
        self.assertEqual(self.ecs.list_tasks(cluster=CLUSTER)["taskArns"], [])
        self.assertEqual(self.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"], [arn])
        self.wait_for("runc to forget the container", lambda: runc_containers(self.server.data_dir) == [], timeout=10)

    def test_exit_code(self):
        self.register("exits", "echo about to fail; exit 3")
        task = self.run_to_stop("exits")
        self.assert_stopped_ok(task, 3)
        self.assertIn("about to fail", self.log_lines(task, ["about to fail"]))

    def test_overrides_change_command_and_environment(self):
        self.register("greeter", 'echo "td says $GREETING $OTHER"',
                      environment={"GREETING": "from-definition", "OTHER": "kept"})
        plain = self.run_to_stop("greeter")
        self.assert_stopped_ok(plain)
        self.assertIn("td says from-definition kept", self.log_lines(plain, ["td says"]))

        overridden = self.run_to_stop("greeter", overrides={"containerOverrides": [{
            "name": "app", "command": ["/bin/sh", "-c", 'echo "override says $GREETING $OTHER $EXTRA"'],
            "environment": [{"name": "GREETING", "value": "from-override"}, {"name": "EXTRA", "value": "added"}]}]})
        self.assert_stopped_ok(overridden)
        lines = self.log_lines(overridden, ["override says"])
        self.assertIn("override says from-override kept added", lines,
                      "override variables replace or add to the definition's, the rest stay")
        self.assertFalse(any("td says" in m for m in lines), lines)

    def test_container_out_of_memory(self):
        # The task has 512 MiB; dd, as the container's pid 1, fills a 700 MiB buffer (0.3 s without a limit).
        self.register("hog", "echo allocating; exec dd if=/dev/zero of=/dev/null bs=700M count=1")
        task = self.run_to_stop("hog")
        c = task["containers"][0]
        self.assertEqual(c.get("exitCode"), 137, f"container: {c}" + self.log_tail())
        self.assertTrue(c.get("reason", "").startswith("OutOfMemoryError"), f"container: {c}")
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited")
        lines = self.log_lines(task, ["allocating"])
        self.assertFalse(any("records out" in m for m in lines), f"dd finished its copy: {lines}")

    def test_stop_task_sigterm_handled(self):
        self.register("graceful", 'trap "echo got SIGTERM; exit 0" TERM; echo ready; while true; do sleep 0.2; done',
                      stop_timeout=20)
        arn = self.run_tasks("graceful")[0]["taskArn"]
        self.wait_running([arn])
        self.log_lines(arn, ["ready"])  # the trap is installed
        requested = time.time()
        stopped = self.ecs.stop_task(cluster=CLUSTER, task=arn, reason="rolling back release 42")["task"]
        self.assertEqual(stopped["taskArn"], arn)
        self.assertEqual(stopped["desiredStatus"], "STOPPED")
        self.assertEqual(self.ecs.list_tasks(cluster=CLUSTER)["taskArns"], [],
                         "a task being stopped is no longer desired RUNNING")
        task = self.wait_stopped([arn])[0]
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertEqual(task["stoppedReason"], "rolling back release 42")
        self.assertEqual(task["containers"][0].get("exitCode"), 0, task["containers"][0])
        self.assertIn("stoppingAt", task)
        self.assertLess(task["executionStoppedAt"].timestamp() - requested, 10,
                        "a container that exits on SIGTERM is not kept until its stopTimeout (20 s)")
        self.assertIn("got SIGTERM", self.log_lines(task, ["got SIGTERM"]))

    def test_stop_task_sigkill_after_stop_timeout(self):
        self.register("stubborn", 'trap "" TERM; echo ready; while true; do sleep 1; done', stop_timeout=2)
        arn = self.run_tasks("stubborn")[0]["taskArn"]
        self.wait_running([arn])
        self.log_lines(arn, ["ready"])
        requested = time.time()
        self.ecs.stop_task(cluster=CLUSTER, task=arn, reason="no more")
        task = self.wait_stopped([arn], timeout=30)[0]
        took = task["executionStoppedAt"].timestamp() - requested
        self.assertEqual(task["stopCode"], "UserInitiated")
        self.assertEqual(task["stoppedReason"], "no more")
        self.assertEqual(task["containers"][0].get("exitCode"), 137, task["containers"][0])
        self.assertGreaterEqual(took, 1.5, "SIGKILL only after the container's stopTimeout of 2 s")
        self.assertLess(took, 10, "SIGKILL soon after the container's stopTimeout of 2 s")

    def test_image_that_cannot_be_pulled(self):
        self.register("no-tag", image=loopback_image(self.server, "busybox", "no-such-tag"), command="true")
        self.register("no-repo", image=ecr_image(self.server, "never-pushed"), command="true")
        arns = [self.run_tasks(f)[0]["taskArn"] for f in ("no-tag", "no-repo")]
        for task in self.wait_stopped(arns):
            with self.subTest(task=task["group"]):
                self.assertEqual(task["stopCode"], "TaskFailedToStart", task)
                self.assertTrue(task.get("stoppedReason", "").startswith("CannotPullContainerError"), task)
                self.assertNotIn("startedAt", task, "the container never started")
                self.assertEqual(task["containers"][0]["lastStatus"], "STOPPED")
        self.assertEqual(runc_containers(self.server.data_dir), [])

    def test_ten_tasks_at_once(self):
        self.register("many", "echo done; sleep 0.5")
        tasks = self.run_tasks("many", count=10)
        arns = [t["taskArn"] for t in tasks]
        self.assertEqual(len(set(arns)), 10)
        self.assertTrue(all(t["lastStatus"] == "PROVISIONING" for t in tasks))
        stopped = self.wait_stopped(arns, timeout=120)
        for task in stopped:
            self.assert_stopped_ok(task, 0)
        self.assertEqual(sorted(self.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]),
                         sorted(arns))
        streams = {s["logStreamName"] for s in self.logs.describe_log_streams(logGroupName=LOG_GROUP)["logStreams"]}
        self.assertEqual(streams, {self.stream_of(t) for t in stopped}, "one stream per task")

    def test_list_tasks_filters_and_pagination(self):
        self.register("worker", 'trap "exit 0" TERM; echo ready; while true; do sleep 0.2; done', stop_timeout=2)
        self.register("oneshot", "echo done")
        oneshot = self.run_tasks("oneshot")[0]["taskArn"]
        alpha = [t["taskArn"] for t in self.run_tasks("worker", count=2, startedBy="alpha")]
        beta = self.run_tasks("worker", startedBy="beta")[0]["taskArn"]
        workers = alpha + [beta]
        self.wait_stopped([oneshot])
        self.wait_running(workers)
        self.assertEqual(self.describe([alpha[0]])[0]["startedBy"], "alpha")

        def listed(**kw):
            return sorted(self.ecs.list_tasks(cluster=CLUSTER, **kw)["taskArns"])

        self.assertEqual(listed(), sorted(workers), "ListTasks lists desiredStatus RUNNING by default")
        self.assertEqual(listed(desiredStatus="RUNNING"), sorted(workers))
        self.assertEqual(listed(desiredStatus="STOPPED"), [oneshot])
        self.assertEqual(listed(family="worker"), sorted(workers))
        self.assertEqual(listed(family="oneshot"), [])
        self.assertEqual(listed(family="oneshot", desiredStatus="STOPPED"), [oneshot])
        self.assertEqual(listed(startedBy="alpha"), sorted(alpha))
        self.assertEqual(listed(startedBy="beta"), [beta])
        self.assertEqual(listed(startedBy="nobody"), [])

        pages, token = [], None
        while True:
            kw = {"nextToken": token} if token else {}
            page = self.ecs.list_tasks(cluster=CLUSTER, maxResults=2, **kw)
            self.assertLessEqual(len(page["taskArns"]), 2)
            pages.append(page["taskArns"])
            token = page.get("nextToken")
            if not token:
                break
            self.assertLess(len(pages), 5, "pagination does not end")
        self.assertEqual(len(pages), 2, pages)
        self.assertEqual(sorted(sum(pages, [])), sorted(workers), "every task exactly once across pages")
        paginated = [a for p in self.ecs.get_paginator("list_tasks").paginate(
            cluster=CLUSTER, PaginationConfig={"PageSize": 1}) for a in p["taskArns"]]
        self.assertEqual(sorted(paginated), sorted(workers))

        self.assertAwsError("ClusterNotFoundException", self.ecs.list_tasks, cluster="no-such-cluster")
        self.ecs.create_cluster(clusterName="other")
        self.assertEqual(self.ecs.list_tasks(cluster="other")["taskArns"], [], "tasks belong to their cluster")

        for arn in workers:
            self.ecs.stop_task(cluster=CLUSTER, task=arn)
        self.assertEqual(listed(), [])
        self.wait_stopped(workers)
        self.assertEqual(listed(desiredStatus="STOPPED"), sorted(workers + [oneshot]))

    def test_describe_tasks_by_id_and_missing(self):
        self.register("quick", "echo hi")
        arn = self.run_tasks("quick")[0]["taskArn"]
        task_id = self.task_id(arn)
        by_id = self.ecs.describe_tasks(cluster=CLUSTER, tasks=[task_id])
        self.assertEqual(by_id["failures"], [])
        self.assertEqual([t["taskArn"] for t in by_id["tasks"]], [arn])

        missing_id = "0123456789abcdef0123456789abcdef"
        missing_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/fedcba9876543210fedcba9876543210"
        resp = self.ecs.describe_tasks(cluster=CLUSTER, tasks=[arn, missing_id, missing_arn])
        self.assertEqual([t["taskArn"] for t in resp["tasks"]], [arn])
        self.assertEqual(len(resp["failures"]), 2, resp["failures"])
        for failure, wanted in zip(sorted(resp["failures"], key=lambda f: f["arn"]),
                                   sorted([missing_id, missing_arn.rsplit("/", 1)[1]])):
            self.assertEqual(failure["reason"], "MISSING")
            self.assertTrue(failure["arn"].endswith(wanted), failure)
        # A task is only found in its own cluster.
        self.ecs.create_cluster(clusterName="other")
        resp = self.ecs.describe_tasks(cluster="other", tasks=[task_id])
        self.assertEqual(resp["tasks"], [])
        self.assertEqual([f["reason"] for f in resp["failures"]], ["MISSING"])
        self.assertAwsError("ClusterNotFoundException", self.ecs.describe_tasks, cluster="nope", tasks=[task_id])
        self.assertAwsError("InvalidParameterException", self.ecs.stop_task, cluster=CLUSTER, task=missing_id)
        self.wait_stopped([arn])

    def test_delete_cluster_with_running_task(self):
        self.register("sleeper", 'trap "exit 0" TERM; while true; do sleep 0.2; done', stop_timeout=2)
        arn = self.run_tasks("sleeper")[0]["taskArn"]
        self.assertAwsError("ClusterContainsTasksException", self.ecs.delete_cluster, cluster=CLUSTER)
        self.wait_running([arn])
        self.assertAwsError("ClusterContainsTasksException", self.ecs.delete_cluster, cluster=CLUSTER)
        cluster = self.ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]
        self.assertEqual((cluster["runningTasksCount"], cluster["pendingTasksCount"]), (1, 0), cluster)
        self.ecs.stop_task(cluster=CLUSTER, task=arn)
        self.assertEqual(self.wait_stopped([arn])[0]["stoppedReason"], "Task stopped by user")
        cluster = self.ecs.describe_clusters(clusters=[CLUSTER])["clusters"][0]
        self.assertEqual((cluster["runningTasksCount"], cluster["pendingTasksCount"]), (0, 0), cluster)
        # Stopped tasks do not hold the cluster.
        self.assertEqual(self.ecs.delete_cluster(cluster=CLUSTER)["cluster"]["status"], "INACTIVE")

    def test_run_task_errors(self):
        self.register("valid", "true")
        subnet = self.subnets()[0]
        net = self.network([subnet])
        base = dict(cluster=CLUSTER, taskDefinition="valid", launchType="FARGATE")
        msg = self.assertAwsError("InvalidParameterException", self.ecs.run_task, **base)
        self.assertIn("Network Configuration must be provided when networkMode 'awsvpc' is specified.", msg)
        msg = self.assertAwsError("InvalidParameterException", self.ecs.run_task, **base,
                                  networkConfiguration=self.network(["subnet-0000000000000dead"]))
        self.assertIn("subnet", msg.lower())
        self.assertAwsError("InvalidParameterException", self.ecs.run_task, **base, networkConfiguration=net,
                            count=11)
        self.assertAwsError("InvalidParameterException", self.ecs.run_task, **base, networkConfiguration=net,
                            capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
        self.assertAwsError("ClientException", self.ecs.run_task, **dict(base, taskDefinition="no-such-family"),
                            networkConfiguration=net)
        self.assertAwsError("ClientException", self.ecs.run_task, **dict(base, taskDefinition="valid:99"),
                            networkConfiguration=net)
        self.assertAwsError("ClusterNotFoundException", self.ecs.run_task, **dict(base, cluster="no-such-cluster"),
                            networkConfiguration=net)
        # Nothing was started by any of them.
        for status in ("RUNNING", "STOPPED"):
            self.assertEqual(self.ecs.list_tasks(cluster=CLUSTER, desiredStatus=status)["taskArns"], [])

    def test_seed_batch_job(self):
        """The seed (shared/seed): the python batch job from ECR, in cluster fargatecluster, run the way its
        Lambda runs it, logs in /ecs/my-batch-job."""
        push_test_image(self.server, "python", "python-batch-job")
        self.ecs.create_cluster(clusterName="fargatecluster")
        container = {
            "name": "python-batch-container", "image": ecr_image(self.server, "python-batch-job"),
            "memory": 128, "cpu": 1, "essential": True,
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/my-batch-job", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs",
                "awslogs-create-group": "true"}}}
        if not python_image_runs_batch_job():
            container["command"] = ["python3", "-c", SEED_SCRIPT]
        self.ecs.register_task_definition(
            family="my-batch-job", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="0.25 vCPU",
            memory="0.5 GB", executionRoleArn=EXECUTION_ROLE, containerDefinitions=[container])
        subnets = self.subnets(2)
        resp = self.ecs.run_task(cluster="fargatecluster", launchType="FARGATE", taskDefinition="my-batch-job:1",
                                 count=1, networkConfiguration={"awsvpcConfiguration": {
                                     "subnets": subnets, "assignPublicIp": "DISABLED"}})
        self.assertEqual(resp["failures"], [])
        task = resp["tasks"][0]
        self.assertEqual((task["lastStatus"], task["desiredStatus"]), ("PROVISIONING", "RUNNING"))
        self.assertEqual(task["group"], "family:my-batch-job")
        self.assertEqual((task["cpu"], task["memory"]), ("256", "512"))
        self.assertEqual([c["name"] for c in task["containers"]], ["python-batch-container"])
        eni = [a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface"][0]
        self.assertIn({d["name"]: d["value"] for d in eni["details"]}["subnetId"], subnets)

        arn = task["taskArn"]
        running = self.wait_running([arn], cluster="fargatecluster")[0]
        self.assertEqual(running["lastStatus"], "RUNNING")
        self.assertIn("startedAt", running)
        task = self.wait_stopped([arn], cluster="fargatecluster")[0]
        self.assert_stopped_ok(task, 0)
        self.assertGreaterEqual(task["executionStoppedAt"].timestamp() - task["startedAt"].timestamp(), 4.5,
                                "the job sleeps 5 s")
        lines = self.log_lines(task, ["Task starting..", "Task ended, took 5 seconds"],
                               container="python-batch-container", group="/ecs/my-batch-job", prefix="ecs")
        self.assertEqual(lines, ["Task starting..", "Task ended, took 5 seconds"])


class CapacityTest(TaskServerTestCase):
    """A node offering 512 CPU units runs two 256-unit tasks at a time; the others wait in PROVISIONING."""

    server_args = ("--capacity-cpu", "512")

    def test_tasks_queue_for_capacity(self):
        self.register("queued", "echo start; sleep 2; echo end")
        arns = [t["taskArn"] for t in self.run_tasks("queued", count=4)]
        snapshots = []

        def poll():
            tasks = self.describe(arns)
            snapshots.append([t["lastStatus"] for t in tasks])
            return all(t["lastStatus"] == "STOPPED" for t in tasks)

        self.wait_for("four queued tasks to stop", poll, timeout=90, interval=0.1)
        for snap in snapshots:
            self.assertLessEqual(snap.count("RUNNING"), 2, f"more than 2 tasks RUNNING at once: {snap}")
        self.assertTrue(any(s.count("RUNNING") >= 1 and "PROVISIONING" in s for s in snapshots),
                        "a queued task reports PROVISIONING while others run; snapshots: "
                        + str(snapshots[:50]))

        tasks = self.wait_stopped(arns)
        for task in tasks:
            self.assert_stopped_ok(task, 0)
        # By the server's own timestamps (shrunk by 0.25 s at each end for clock granularity), no point in
        # time is inside more than two tasks' [startedAt, executionStoppedAt], and two did run together.
        spans = [(t["startedAt"].timestamp() + 0.25, t["executionStoppedAt"].timestamp() - 0.25) for t in tasks]
        overlap = max(sum(1 for s, e in spans if s <= point < e) for point, _ in spans)
        self.assertLessEqual(overlap, 2, f"more than 2 tasks ran at once: {spans}")
        self.assertEqual(overlap, 2, f"two tasks fit and should run side by side: {spans}")
        first_end = min(t["executionStoppedAt"].timestamp() for t in tasks)
        third_start = sorted(t["startedAt"].timestamp() for t in tasks)[2]
        self.assertGreaterEqual(third_start, first_end - 0.3,
                                f"the third task started before any capacity was free: {spans}")


class RestartTest(TaskTestMixin, unittest.TestCase):
    """A server killed with SIGKILL while a task runs: on restart the task ends STOPPED and no container
    is left behind."""

    def setUp(self):
        self.server = GantryServer()
        self.addCleanup(self.cleanup_server)
        self.server.start()
        self.clients()
        self.ecs.create_cluster(clusterName=CLUSTER)
        push_test_image(self.server, "busybox", "busybox")

    def cleanup_server(self):
        if self.server.alive():
            self.stop_leftover_tasks()
        self.server.stop()
        leftovers = force_cleanup(self.server.data_dir)
        self.server.cleanup()
        self.assertEqual(leftovers, [], "left behind after the server stopped")

    def test_kill9_during_running_task(self):
        self.register("finished", "echo finished; exit 4")
        finished = self.run_to_stop("finished")
        self.register("long", "echo ready; sleep 30")
        arn = self.run_tasks("long")[0]["taskArn"]
        self.wait_running([arn])
        self.log_lines(arn, ["ready"])

        self.server.kill9()
        restarted = time.time()
        self.server.start()
        self.clients()
        task = self.wait_for("the orphaned task to be STOPPED after the restart",
                             lambda: [t for t in self.describe([arn]) if t["lastStatus"] == "STOPPED"],
                             timeout=15, interval=0.2)[0]
        self.assertEqual(task["desiredStatus"], "STOPPED")
        self.assertIn("restart", task.get("stoppedReason", "").lower(), task)
        self.assertLess(task["stoppedAt"].timestamp() - restarted, 10, "stopped within seconds of the restart")
        self.wait_for("runc to hold no container", lambda: runc_containers(self.server.data_dir) == [], timeout=10)
        self.assertEqual(self.ecs.list_tasks(cluster=CLUSTER)["taskArns"], [])
        # What had finished before the crash is still there, unchanged.
        before = self.describe([finished["taskArn"]])[0]
        self.assert_stopped_ok(before, 4)
        self.assertEqual(before["stoppedAt"], finished["stoppedAt"])
        self.assertIn("finished", self.log_lines(finished, ["finished"]))


if __name__ == "__main__":
    unittest.main()
