"""ECS tasks of several containers end to end: the network, IPC and UTS namespaces the containers of a task
share (loopback between them, one hostname: the ENI's privateDnsName), dependsOn ordering (START, COMPLETE,
SUCCESS, HEALTHY), essential and non-essential exits, stopping the other containers (SIGTERM, SIGKILL after
stopTimeout), and container health checks.

Needs root and runc, like test_ecs_tasks.py (whose helpers it uses); otherwise every test is skipped with
GANTRY_E2E_SKIPPED."""
import json
import os
import time
import unittest
import urllib.request

from botocore.exceptions import ClientError

import test_ecs_tasks
from test_ecs_tasks import (CLUSTER, ESSENTIAL_EXITED, EXECUTION_ROLE, LOG_GROUP, LOG_PREFIX, REGION, STATUS_ORDER,
                            TaskServerTestCase, loopback_image, runc_containers)


def setUpModule():
    test_ecs_tasks.setUpModule()  # prints GANTRY_E2E_SKIPPED and skips without root or runc


class MultiContainerTest(TaskServerTestCase):

    # --- helpers -------------------------------------------------------------------------------------
    def container(self, name, command, essential=True, **extra):
        """A busybox container definition running `command` (a shell string or an argv) with awslogs."""
        c = {"name": name, "image": loopback_image(self.server, "busybox"), "essential": essential,
             "command": ["/bin/sh", "-c", command] if isinstance(command, str) else command,
             "logConfiguration": {"logDriver": "awslogs", "options": {
                 "awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": LOG_PREFIX,
                 "awslogs-create-group": "true"}}}
        c.update(extra)
        return c

    def register_task(self, family, *containers, cpu="256", memory="512"):
        return self.ecs.register_task_definition(
            family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu=cpu, memory=memory,
            executionRoleArn=EXECUTION_ROLE, containerDefinitions=list(containers))["taskDefinition"][
                "taskDefinitionArn"]

    @staticmethod
    def by_name(task):
        return {c["name"]: c for c in task["containers"]}

    def events(self, task, container, expect=(), timeout=10):
        """The (timestamp seconds, message) events of a container's awslogs stream, once every string of
        `expect` is among the messages."""
        self.log_lines(task, expect, container=container, timeout=timeout)
        events = self.logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=self.stream_of(task, container),
                                          startFromHead=True)["events"]
        return [(e["timestamp"] / 1000.0, e["message"]) for e in events]

    def event_time(self, task, container, text):
        for ts, message in self.events(task, container, [text]):
            if text in message:
                return ts
        self.fail(f"no log event {text!r} of container {container}")

    def describe_one(self, arn):
        return self.describe([arn])[0]

    def watch_until_stopped(self, arn, timeout=60):
        """Polls the task until it is STOPPED; returns (the stopped task, every snapshot seen)."""
        snapshots = []

        def poll():
            t = self.describe_one(arn)
            snapshots.append(t)
            return t["lastStatus"] == "STOPPED"

        self.wait_for(f"task {arn} to stop", poll, timeout=timeout, interval=0.1)
        return snapshots[-1], snapshots

    def assert_status_forward(self, snapshots):
        statuses = [s["lastStatus"] for s in snapshots]
        for s in statuses:
            self.assertIn(s, STATUS_ORDER)
        self.assertEqual(statuses, sorted(statuses, key=STATUS_ORDER.index), f"lastStatus went back: {statuses}")

    def dump(self, task):
        return "\n" + json.dumps(task, default=str, indent=1)[:4000] + self.log_tail()

    # --- one network, one hostname ----------------------------------------------------------------------
    def test_containers_share_network_and_hostname(self):
        # web serves /etc over HTTP on 8080 (its /etc/hostname holds the task's hostname); client, which
        # depends on web having started, fetches it over loopback, by 127.0.0.1 and by the hostname (which
        # /etc/hosts maps to 127.0.0.1).
        web = self.container(
            "web", 'echo "web hostname $(hostname)"; trap "echo web got TERM; exit 0" TERM; '
                   'httpd -f -p 8080 -h /etc & wait', essential=False)
        client = self.container(
            "client",
            'echo "client hostname $(hostname)"; '
            'for i in $(seq 1 100); do body=$(wget -q -O - http://127.0.0.1:8080/hostname) && break; '
            'sleep 0.1; done; echo "fetched by ip: $body"; '
            'echo "fetched by name: $(wget -q -O - http://$(hostname):8080/hostname)"; '
            'echo "env HOSTNAME $HOSTNAME"',
            dependsOn=[{"containerName": "web", "condition": "START"}])
        self.register_task("webpair", web, client)
        arn = self.run_tasks("webpair")[0]["taskArn"]
        task, snapshots = self.watch_until_stopped(arn)
        self.assert_status_forward(snapshots)
        eni = [a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface"][0]
        dns = {d["name"]: d["value"] for d in eni["details"]}["privateDnsName"]
        self.assertTrue(dns, eni)

        self.assertEqual(task.get("stopCode"), "EssentialContainerExited", self.dump(task))
        self.assertEqual(task.get("stoppedReason"), ESSENTIAL_EXITED)
        containers = self.by_name(task)
        self.assertEqual(containers["client"].get("exitCode"), 0, self.dump(task))
        self.assertEqual(containers["web"]["lastStatus"], "STOPPED")
        self.assertEqual(containers["web"].get("exitCode"), 0,
                         "web traps SIGTERM and exits 0 when the essential client has exited" + self.dump(task))

        client_lines = self.log_lines(task, ["client hostname", "fetched by ip:", "fetched by name:"],
                                      container="client")
        web_lines = self.log_lines(task, ["web hostname", "web got TERM"], container="web")
        self.assertIn(f"client hostname {dns}", client_lines)
        self.assertIn(f"web hostname {dns}", web_lines, "both containers see one hostname: the ENI's DNS name")
        self.assertIn(f"fetched by ip: {dns}", client_lines,
                      "the client reaches web on 127.0.0.1:8080 (one network namespace)")
        self.assertIn(f"fetched by name: {dns}", client_lines, "the hostname resolves to loopback in /etc/hosts")
        self.assertIn(f"env HOSTNAME {dns}", client_lines)
        self.assertEqual(runc_containers(self.server.data_dir), [])

    # --- dependsOn ---------------------------------------------------------------------------------------
    def test_depends_on_success_and_complete_order_the_start(self):
        # app starts only after init-ok exited 0 (SUCCESS) and init-fails exited at all (COMPLETE: its
        # exit code 3 does not matter).
        init_ok = self.container("init-ok", "echo init-ok start; sleep 1; echo init-ok done", essential=False)
        init_fails = self.container("init-fails", "echo init-fails start; sleep 0.5; echo init-fails done; exit 3",
                                    essential=False)
        app = self.container("app", "echo app start",
                             dependsOn=[{"containerName": "init-ok", "condition": "SUCCESS"},
                                        {"containerName": "init-fails", "condition": "COMPLETE"}])
        self.register_task("ordered", init_ok, init_fails, app)
        arn = self.run_tasks("ordered")[0]["taskArn"]
        task, snapshots = self.watch_until_stopped(arn)
        self.assert_status_forward(snapshots)
        self.assert_stopped_ok_named(task)
        containers = self.by_name(task)
        self.assertEqual(containers["init-ok"].get("exitCode"), 0, self.dump(task))
        self.assertEqual(containers["init-fails"].get("exitCode"), 3, self.dump(task))
        self.assertEqual(containers["app"].get("exitCode"), 0, self.dump(task))

        init_done = self.event_time(task, "init-ok", "init-ok done")
        other_done = self.event_time(task, "init-fails", "init-fails done")
        app_start = self.event_time(task, "app", "app start")
        self.assertGreaterEqual(app_start, init_done, "app printed before init-ok finished")
        self.assertGreaterEqual(app_start, other_done, "app printed before init-fails finished")
        # While app waited, it was PENDING, never RUNNING or STOPPED.
        for snap in snapshots:
            c = self.by_name(snap)
            if c["init-ok"]["lastStatus"] == "RUNNING":
                self.assertEqual(c["app"]["lastStatus"], "PENDING", self.dump(snap))

    def assert_stopped_ok_named(self, task, container="app"):
        self.assertEqual(task["lastStatus"], "STOPPED")
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited", self.dump(task))
        self.assertEqual(task.get("stoppedReason"), ESSENTIAL_EXITED)
        for c in task["containers"]:
            self.assertEqual(c["lastStatus"], "STOPPED", c)

    def test_failed_success_dependency_never_starts_the_app(self):
        init = self.container("init", "echo init failing; exit 1", essential=False)
        app = self.container("app", "echo app start",
                             dependsOn=[{"containerName": "init", "condition": "SUCCESS"}])
        self.register_task("broken-init", init, app)
        arn = self.run_tasks("broken-init")[0]["taskArn"]
        task, snapshots = self.watch_until_stopped(arn, timeout=30)
        self.assert_status_forward(snapshots)
        containers = self.by_name(task)
        self.assertEqual(task.get("stopCode"), "TaskFailedToStart", self.dump(task))
        self.assertTrue(task.get("stoppedReason"), self.dump(task))
        self.assertEqual(containers["init"].get("exitCode"), 1, self.dump(task))
        self.assertEqual(containers["app"]["lastStatus"], "STOPPED")
        self.assertNotIn("exitCode", containers["app"], "app never ran" + self.dump(task))
        self.assertTrue(containers["app"].get("reason"), "the container says why it never started" + self.dump(task))
        self.assertIn("init failing", self.log_lines(task, ["init failing"], container="init"))
        try:
            messages = [e["message"] for e in self.logs.get_log_events(
                logGroupName=LOG_GROUP, logStreamName=self.stream_of(task, "app"), startFromHead=True)["events"]]
        except self.logs.exceptions.ResourceNotFoundException:
            messages = []
        self.assertNotIn("app start", messages)
        self.assertEqual(runc_containers(self.server.data_dir), [])

    def test_task_running_only_once_every_container_started(self):
        """ECS reports a task RUNNING when every container has reached RUNNING (or gone past it): the ECS
        agent's task status is the earliest of its containers' (getEarliestKnownTaskStatusForContainers). A
        container waiting on a dependency keeps the task PENDING; a task whose essential container never
        started never was RUNNING and has no startedAt."""
        init = self.container("init", "echo init start; sleep 1.5; echo init done", essential=False)
        app = self.container("app", "echo app start; sleep 0.5",
                             dependsOn=[{"containerName": "init", "condition": "SUCCESS"}])
        self.register_task("slow-init", init, app)
        failing = self.container("init", "sleep 0.5; exit 1", essential=False)
        self.register_task("failing-init", failing, dict(app))
        ok_arn = self.run_tasks("slow-init")[0]["taskArn"]
        failed_arn = self.run_tasks("failing-init")[0]["taskArn"]
        task, snapshots = self.watch_until_stopped(ok_arn)
        failed = self.wait_stopped([failed_arn])[0]
        for snap in snapshots:
            c = self.by_name(snap)
            if c["app"]["lastStatus"] == "PENDING":
                self.assertIn(snap["lastStatus"], ("PROVISIONING", "PENDING"),
                              "a task is not RUNNING while one of its containers waits" + self.dump(snap))
        init_done = self.event_time(task, "init", "init done")
        self.assertGreaterEqual(task["startedAt"].timestamp(), init_done - 0.1,
                                "startedAt: when the last container started, after init finished" + self.dump(task))
        self.assertEqual(failed.get("stopCode"), "TaskFailedToStart", self.dump(failed))
        self.assertNotIn("startedAt", failed, "the task never was RUNNING" + self.dump(failed))

    def test_depends_on_cycle_does_not_hang(self):
        # a and b each wait for the other to start. Either RegisterTaskDefinition refuses the cycle, or
        # the task fails to start; it must not sit in PENDING for ever.
        a = self.container("a", "echo a", dependsOn=[{"containerName": "b", "condition": "START"}])
        b = self.container("b", "echo b", dependsOn=[{"containerName": "a", "condition": "START"}])
        try:
            self.register_task("cycle", a, b)
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "ClientException", e.response)
            return
        arn = self.run_tasks("cycle")[0]["taskArn"]
        try:
            task = self.wait_for("the task with a dependency cycle to stop",
                                 lambda: [t for t in self.describe([arn]) if t["lastStatus"] == "STOPPED"],
                                 timeout=20, interval=0.2)[0]
        finally:
            if self.describe_one(arn)["lastStatus"] != "STOPPED":
                self.ecs.stop_task(cluster=CLUSTER, task=arn, reason="cycle test cleanup")
        self.assertEqual(task.get("stopCode"), "TaskFailedToStart", self.dump(task))
        for c in task["containers"]:
            self.assertNotIn("exitCode", c)

    def test_stop_task_while_a_container_waits_for_its_dependency(self):
        init = self.container("init", 'trap "echo init got TERM; exit 0" TERM; echo init ready; sleep 300 & wait',
                              essential=False)
        app = self.container("app", "echo app start",
                             dependsOn=[{"containerName": "init", "condition": "COMPLETE"}])
        self.register_task("waiting", init, app)
        arn = self.run_tasks("waiting")[0]["taskArn"]
        self.log_lines(arn, ["init ready"], container="init", timeout=20)
        requested = time.time()
        self.ecs.stop_task(cluster=CLUSTER, task=arn, reason="not waiting any longer")
        task = self.wait_stopped([arn], timeout=30)[0]
        self.assertLess(task["stoppedAt"].timestamp() - requested, 10, self.dump(task))
        self.assertEqual(task.get("stopCode"), "UserInitiated")
        self.assertEqual(task.get("stoppedReason"), "not waiting any longer")
        containers = self.by_name(task)
        self.assertEqual(containers["init"].get("exitCode"), 0, self.dump(task))
        self.assertEqual(containers["app"]["lastStatus"], "STOPPED")
        self.assertNotIn("exitCode", containers["app"], self.dump(task))
        self.assertIn("init got TERM", self.log_lines(task, ["init got TERM"], container="init"))

    # --- essential and non-essential exits --------------------------------------------------------------
    def test_non_essential_exit_does_not_stop_the_task(self):
        side = self.container("side", "echo side exiting; exit 7", essential=False)
        main = self.container("main", "echo main start; sleep 2; echo main done")
        self.register_task("side-exits", side, main)
        arn = self.run_tasks("side-exits")[0]["taskArn"]
        # Once side has exited, the task still runs, desired RUNNING.
        seen = self.wait_for("side to exit", lambda: [
            t for t in self.describe([arn]) if self.by_name(t)["side"]["lastStatus"] == "STOPPED"], timeout=30)[0]
        if self.by_name(seen)["main"]["lastStatus"] != "STOPPED":
            self.assertEqual(seen["desiredStatus"], "RUNNING", self.dump(seen))
            self.assertEqual(seen["lastStatus"], "RUNNING", self.dump(seen))
            self.assertNotIn("stopCode", seen)
        task = self.wait_stopped([arn])[0]
        containers = self.by_name(task)
        self.assertEqual(containers["side"].get("exitCode"), 7, self.dump(task))
        self.assertEqual(containers["main"].get("exitCode"), 0, self.dump(task))
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited")
        self.assertEqual(task.get("stoppedReason"), ESSENTIAL_EXITED)
        self.assertGreaterEqual(task["executionStoppedAt"].timestamp() - task["startedAt"].timestamp(), 1.5,
                                "the task ran until main exited after 2 s" + self.dump(task))
        side_exit = self.event_time(task, "side", "side exiting")
        main_done = self.event_time(task, "main", "main done")
        self.assertGreaterEqual(main_done - side_exit, 1.5)

    def test_essential_exit_stops_the_other_containers(self):
        main = self.container("main", "echo main start; sleep 1; echo main done")
        # graceful handles SIGTERM (default stopTimeout 30 s); stubborn is busybox sleep as pid 1, which
        # ignores SIGTERM (pid 1 has no default signal actions), so it is SIGKILLed after its 2 s.
        graceful = self.container("graceful", 'trap "echo graceful got TERM; exit 0" TERM; echo graceful ready; '
                                              'sleep 300 & wait', essential=False)
        stubborn = self.container("stubborn", "echo stubborn up; exec sleep 300", essential=False, stopTimeout=2)
        self.register_task("sidecars", main, graceful, stubborn)
        arn = self.run_tasks("sidecars")[0]["taskArn"]
        task, snapshots = self.watch_until_stopped(arn, timeout=60)
        self.assert_status_forward(snapshots)
        self.assertEqual(task.get("stopCode"), "EssentialContainerExited", self.dump(task))
        self.assertEqual(task.get("stoppedReason"), ESSENTIAL_EXITED)
        containers = self.by_name(task)
        self.assertEqual(containers["main"].get("exitCode"), 0)
        self.assertEqual(containers["graceful"].get("exitCode"), 0, self.dump(task))
        self.assertEqual(containers["stubborn"].get("exitCode"), 137, self.dump(task))
        # The containers start one after the other (on a loaded machine, seconds apart): the stop begins
        # once main has exited and the last one, stubborn, has started.
        main_done = self.event_time(task, "main", "main done")
        stubborn_up = self.event_time(task, "stubborn", "stubborn up")
        begin = max(main_done, stubborn_up)
        took = task["executionStoppedAt"].timestamp() - begin
        self.assertGreaterEqual(took, 1.5, "stubborn was SIGKILLed only after its stopTimeout of 2 s" + self.dump(task))
        self.assertLess(took, 10, "the sidecars were stopped soon after main exited" + self.dump(task))
        graceful_term = self.event_time(task, "graceful", "graceful got TERM")
        self.assertLess(graceful_term - begin, 3, "graceful got SIGTERM right after main exited")
        self.assertLess(graceful_term - begin, took, "SIGTERM went to every container at once")
        self.assertIn("stoppingAt", task)
        self.assertEqual(runc_containers(self.server.data_dir), [])

    def test_reset_kills_a_task_that_is_already_stopping(self):
        """POST /_gantry/reset kills every container at once, also one a StopTask already sent SIGTERM to and
        that waits out its stopTimeout. (One container is enough; the same holds for the sidecars of a task
        whose essential container exited, and for the server's shutdown grace.)"""
        stubborn = self.container("stubborn", 'trap "" TERM; echo stubborn ready; while true; do sleep 1; done',
                                  stopTimeout=15)
        self.register_task("slow-stop", stubborn)
        arn = self.run_tasks("slow-stop")[0]["taskArn"]
        self.log_lines(arn, ["stubborn ready"], container="stubborn", timeout=20)
        self.ecs.stop_task(cluster=CLUSTER, task=arn)
        self.wait_for("the task to be stopping", lambda: self.describe_one(arn)["lastStatus"] == "DEACTIVATING",
                      timeout=10)
        time.sleep(0.5)  # SIGTERM sent, SIGKILL due in 15 s
        started = time.monotonic()
        req = urllib.request.Request(self.server.endpoint + "/_gantry/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=40) as r:
            self.assertEqual(r.status, 200)
        took = time.monotonic() - started
        self.assertLess(took, 5, f"reset waited {took:.1f} s for the container's stopTimeout (15 s) instead of "
                                 "killing it at once" + self.log_tail())
        self.assertEqual(runc_containers(self.server.data_dir), [])

    # --- health checks -----------------------------------------------------------------------------------
    def test_health_check_and_healthy_dependency(self):
        check = {"command": ["CMD-SHELL", "test -f /tmp/ready"], "interval": 5, "retries": 2, "startPeriod": 0}
        app = self.container("app", 'trap "exit 0" TERM; touch /tmp/ready; echo app ready; sleep 300 & wait',
                             healthCheck=check)
        after = self.container("after", "echo dependency is healthy", essential=False,
                               dependsOn=[{"containerName": "app", "condition": "HEALTHY"}])
        self.register_task("healthy", app, after)
        sick = self.container("app", 'trap "exit 0" TERM; echo never ready; sleep 300 & wait', healthCheck=check)
        self.register_task("unhealthy", sick)
        arn = self.run_tasks("healthy")[0]["taskArn"]
        sick_arn = self.run_tasks("unhealthy")[0]["taskArn"]
        started = time.time()
        task = self.wait_for("the task to be HEALTHY", lambda: [
            t for t in self.describe([arn]) if t.get("healthStatus") == "HEALTHY"], timeout=25, interval=0.3)[0]
        self.assertEqual(self.by_name(task)["app"].get("healthStatus"), "HEALTHY", self.dump(task))
        self.assertGreaterEqual(time.time() - started, 3, "the first check runs an interval (5 s) after the start")
        self.assertEqual(task["lastStatus"], "RUNNING")
        healthy_at = time.time()
        self.log_lines(task, ["dependency is healthy"], container="after", timeout=10)
        after_ts = self.event_time(task, "after", "dependency is healthy")
        ready_ts = self.event_time(task, "app", "app ready")
        self.assertGreaterEqual(after_ts - ready_ts, 3, "after started only once app was HEALTHY")
        self.assertLessEqual(after_ts, healthy_at + 3)

        sick_task = self.wait_for("the other task to be UNHEALTHY", lambda: [
            t for t in self.describe([sick_arn]) if t.get("healthStatus") == "UNHEALTHY"], timeout=25,
            interval=0.3)[0]
        self.assertEqual(self.by_name(sick_task)["app"].get("healthStatus"), "UNHEALTHY", self.dump(sick_task))
        self.assertEqual(sick_task["lastStatus"], "RUNNING", "an unhealthy standalone task keeps running")

        for a in (arn, sick_arn):
            self.ecs.stop_task(cluster=CLUSTER, task=a)
        for t in self.wait_stopped([arn, sick_arn]):
            self.assertEqual(t.get("stopCode"), "UserInitiated")
        self.assertEqual(self.by_name(self.describe_one(arn))["after"].get("exitCode"), 0)

    def test_healthy_dependency_that_turns_unhealthy_fails_the_start(self):
        check = {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 1, "startPeriod": 0}
        app = self.container("app", 'trap "exit 0" TERM; echo app up; sleep 300 & wait', healthCheck=check)
        after = self.container("after", "echo should not run",
                               dependsOn=[{"containerName": "app", "condition": "HEALTHY"}])
        self.register_task("never-healthy", app, after)
        arn = self.run_tasks("never-healthy")[0]["taskArn"]
        task = self.wait_stopped([arn], timeout=30)[0]
        containers = self.by_name(task)
        self.assertEqual(task.get("stopCode"), "TaskFailedToStart", self.dump(task))
        self.assertNotIn("exitCode", containers["after"], self.dump(task))
        self.assertEqual(containers["app"]["lastStatus"], "STOPPED")
        self.assertEqual(containers["app"].get("healthStatus"), "UNHEALTHY", "after gave up because app turned "
                         "UNHEALTHY" + self.dump(task))
        self.assertGreaterEqual(task["stoppingAt"].timestamp() - task["pullStoppedAt"].timestamp(), 4,
                                "the first check runs an interval (5 s) after app started" + self.dump(task))


if __name__ == "__main__":
    unittest.main()
