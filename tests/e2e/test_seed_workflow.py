"""The seed workflow script (scripts/seed-workflow) runs green against a fresh server: every step
Gantry implements works, and every step it does not implement yet is refused with UnsupportedOperation."""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.request

from harness import ACCESS_KEY, REPO, SECRET_KEY, ServerTestCase


def setUpModule():
    if not os.path.exists(os.path.join(REPO, "build", "test-images", "python", "index.json")):
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make-test-images"), "--quiet"], check=True,
                       capture_output=True, timeout=300)


class SeedWorkflowTest(ServerTestCase):
    # The manual clock lets the script reach the rule's next slot at once (POST /_gantry/clock).
    server_args = ("--clock", "manual")

    def test_seed_workflow_script(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_CONFIG_FILE="/dev/null")
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "seed-workflow"),
                            "--endpoint", self.server.endpoint], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("ok           ECR: create repository python-batch-job", p.stdout)
        self.assertIn("ok           ECR: build and push the batch job image", p.stdout)
        self.assertIn("ok           ECS: create cluster fargatecluster", p.stdout)
        self.assertIn("ok           EC2: the default VPC's subnets for the task: subnet-", p.stdout)
        self.assertIn("ok           ECS: register task definition my-batch-job", p.stdout)
        self.assertIn("ok           IAM: role run_task_lambda_role with ecs:RunTask + iam:PassRole", p.stdout)
        self.assertNotIn("FAILED", p.stdout)
        self.assertIn("ok           Events: rule rate(5 minutes) -> run_task: arn:aws:events:", p.stdout)
        self.assertNotIn("  not yet  ", p.stdout)
        if os.geteuid() == 0 and shutil.which("runc"):
            # The seed's last step: the rule's slot invokes the function, which starts the task.
            self.assertIn("ok           Events: the rule's next slot invokes run_task, which starts the task: the "
                          "clock moved 5 minutes (1 slot fired)", p.stdout)
            # The middle of the seed runs for real: the batch job's two lines reached its log stream.
            self.assertIn("ok           ECS: run the task on Fargate and read its logs", p.stdout)
            self.assertIn("'Task starting..', 'Task ended, took 5 seconds'", p.stdout)
            # The seed's Lambda handler started that task, with the role's credentials, through Gantry's API.
            self.assertIn("ok           Lambda: create function run_task", p.stdout)
            self.assertIn("ok           Lambda: invoke run_task, which starts the task with ecs.run_task", p.stdout)
            self.assertIn("(started by run_task)", p.stdout)
            self.assertIn("ok           Logs: the function's START, END and REPORT lines", p.stdout)
        ecs = self.server.client("ecs")
        td = ecs.describe_task_definition(taskDefinition="my-batch-job")["taskDefinition"]
        self.assertEqual((td["cpu"], td["memory"]), ("256", "512"))
        iam = self.server.client("iam")
        self.assertEqual(iam.list_role_policies(RoleName="run_task_lambda_role")["PolicyNames"], ["run-task"])
        self.assertEqual([p["PolicyName"] for p in
                          iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]],
                         ["AmazonECSTaskExecutionRolePolicy"])

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("runc"), "needs root and runc")
    def test_seed_with_a_one_minute_rule_on_the_manual_clock(self):
        """The seed's function on a rate(1 minute) rule: one invocation per slot, one task per invocation, every
        task STOPPED with exit 0, the invocations in the function's log; DisableRule stops it."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_CONFIG_FILE="/dev/null")
        p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "seed-workflow"),
                            "--endpoint", self.server.endpoint], env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        events, lam, ecs, logs = (self.server.client(n) for n in ("events", "lambda", "ecs", "logs"))
        events.disable_rule(Name="run-batch-every-5-minutes")
        rule = events.put_rule(Name="every-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
        lam.add_permission(FunctionName="run_task", StatementId="every-minute", Action="lambda:InvokeFunction",
                           Principal="events.amazonaws.com", SourceArn=rule)
        fn = lam.get_function(FunctionName="run_task")["Configuration"]["FunctionArn"]
        events.put_targets(Rule="every-minute", Targets=[{"Id": "run_task", "Arn": fn}])

        def tasks():
            return set(ecs.list_tasks(cluster="fargatecluster", desiredStatus="STOPPED")["taskArns"]) | \
                set(ecs.list_tasks(cluster="fargatecluster")["taskArns"])

        def starts():
            evs = logs.filter_log_events(logGroupName="/aws/lambda/run_task")["events"]
            return sum(1 for e in evs if e["message"].startswith("START RequestId:"))

        def clock(body):
            req = urllib.request.Request(self.server.endpoint + "/_gantry/clock", data=json.dumps(body).encode(),
                                         method="POST")
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.load(r)

        def wait_until(what, fn, timeout=90):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if fn():
                    return
                time.sleep(0.5)
            self.fail(f"timed out waiting for {what}")

        before_tasks, before_starts = tasks(), starts()
        self.assertEqual(clock({"advance_seconds": 180})["fired"], 3)
        wait_until("three new tasks", lambda: len(tasks() - before_tasks) >= 3)
        new = sorted(tasks() - before_tasks)
        self.assertEqual(len(new), 3, "one task per invocation")
        ecs.get_waiter("tasks_stopped").wait(cluster="fargatecluster", tasks=new,
                                             WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        for t in ecs.describe_tasks(cluster="fargatecluster", tasks=new)["tasks"]:
            self.assertEqual((t["lastStatus"], t["containers"][0].get("exitCode")), ("STOPPED", 0), t)
        wait_until("three more invocations in the function's log", lambda: starts() - before_starts >= 3)
        self.assertEqual(starts() - before_starts, 3)
        # DisableRule stops it.
        events.disable_rule(Name="every-minute")
        self.assertEqual(clock({"advance_seconds": 300})["fired"], 0)
        time.sleep(2)
        self.assertEqual(len(tasks() - before_tasks), 3)

    def test_seed_workflow_is_rerunnable(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_CONFIG_FILE="/dev/null")
        # The second run bundles an old boto3 in the function, as the seed does (it ignores AWS_ENDPOINT_URL).
        for extra in ([], ["--bundle-boto3", os.path.join(REPO, "build", "debs")]):
            p = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "seed-workflow"),
                                "--endpoint", self.server.endpoint, *extra], env=env, capture_output=True, text=True,
                               timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertNotIn("FAILED", p.stdout)
        if os.geteuid() == 0 and shutil.which("runc"):
            self.assertIn("boto3 1.26 bundled", p.stdout)
            self.assertIn("(started by run_task)", p.stdout)
        revisions = self.server.client("ecs").list_task_definitions(familyPrefix="my-batch-job")["taskDefinitionArns"]
        self.assertEqual(len(revisions), 2)


if __name__ == "__main__":
    unittest.main()
