"""The seed workflow's ECS steps driven by the real `aws` CLI (--endpoint-url), as a user would type them."""
import json
import os
import tempfile
import unittest

from harness import ACCOUNT, REGION, ServerTestCase
from test_ecs_task_definitions import CONTAINER_DEFAULTS, SEED, td_arn


def cluster_arn(name):
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"


class EcsCliTest(ServerTestCase):
    def aws_json(self, *args):
        p = self.server.aws(*args)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def write_json(self, obj):
        fd, path = tempfile.mkstemp(prefix="gantry-cli-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
        self.addCleanup(os.remove, path)
        return path

    def test_seed_flow(self):
        cluster = self.aws_json("ecs", "create-cluster", "--cluster-name", "fargatecluster")["cluster"]
        self.assertEqual(cluster["clusterArn"], cluster_arn("fargatecluster"))
        self.assertEqual(cluster["status"], "ACTIVE")

        path = self.write_json(SEED)
        registered = self.aws_json("ecs", "register-task-definition", "--cli-input-json", f"file://{path}")
        td = registered["taskDefinition"]
        self.assertEqual(td["taskDefinitionArn"], td_arn("my-batch-job", 1))
        self.assertEqual((td["cpu"], td["memory"]), ("256", "512"))

        described = self.aws_json("ecs", "describe-task-definition", "--task-definition", "my-batch-job")
        d = described["taskDefinition"]
        self.assertEqual(d["family"], "my-batch-job")
        self.assertEqual(d["revision"], 1)
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(d["networkMode"], "awsvpc")
        self.assertEqual(d["requiresCompatibilities"], ["FARGATE"])
        self.assertEqual(d["executionRoleArn"], SEED["executionRoleArn"])
        self.assertEqual((d["cpu"], d["memory"]), ("256", "512"))
        container = d["containerDefinitions"][0]
        for key, value in SEED["containerDefinitions"][0].items():
            self.assertEqual(container[key], value, key)
        for key, value in CONTAINER_DEFAULTS.items():
            self.assertEqual(container[key], value, key)
        # The CLI prints registeredAt as a timestamp string; it is present.
        self.assertTrue(d["registeredAt"])

        listed = self.aws_json("ecs", "list-task-definitions")
        self.assertEqual(listed["taskDefinitionArns"], [td_arn("my-batch-job", 1)])
        families = self.aws_json("ecs", "list-task-definition-families", "--family-prefix", "my-")
        self.assertEqual(families["families"], ["my-batch-job"])

        # A second registration from the same file is revision 2.
        again = self.aws_json("ecs", "register-task-definition", "--cli-input-json", f"file://{path}")
        self.assertEqual(again["taskDefinition"]["revision"], 2)

        gone = self.aws_json("ecs", "deregister-task-definition", "--task-definition", "my-batch-job:1")
        self.assertEqual(gone["taskDefinition"]["status"], "INACTIVE")
        self.assertIn("deregisteredAt", gone["taskDefinition"])
        self.assertEqual(self.aws_json("ecs", "list-task-definitions", "--status", "INACTIVE")["taskDefinitionArns"],
                         [td_arn("my-batch-job", 1)])
        self.assertEqual(self.aws_json("ecs", "list-task-definitions")["taskDefinitionArns"],
                         [td_arn("my-batch-job", 2)])
        latest = self.aws_json("ecs", "describe-task-definition", "--task-definition", "my-batch-job")
        self.assertEqual(latest["taskDefinition"]["revision"], 2)

        clusters = self.aws_json("ecs", "describe-clusters", "--clusters", "fargatecluster", "--include", "SETTINGS")
        self.assertEqual(clusters["clusters"][0]["clusterName"], "fargatecluster")
        self.assertEqual(clusters["failures"], [])

    def test_shorthand_register(self):
        p = self.server.aws(
            "ecs", "register-task-definition", "--family", "short", "--requires-compatibilities", "FARGATE",
            "--network-mode", "awsvpc", "--cpu", ".25 vcpu", "--memory", "0.5 GB",
            "--container-definitions", "name=app,image=busybox,memory=128,essential=true")
        td = json.loads(p.stdout)["taskDefinition"]
        self.assertEqual((td["family"], td["cpu"], td["memory"]), ("short", "256", "512"))
        self.assertEqual(td["containerDefinitions"][0]["memory"], 128)

    def test_errors_name_the_aws_error_code(self):
        p = self.server.aws("ecs", "describe-task-definition", "--task-definition", "no-such-family", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ClientException", p.stderr)
        self.assertIn("DescribeTaskDefinition", p.stderr)

        bad = dict(SEED, cpu="256", memory="4096")
        path = self.write_json(bad)
        p = self.server.aws("ecs", "register-task-definition", "--cli-input-json", f"file://{path}", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ClientException", p.stderr)
        self.assertIn("Fargate", p.stderr)

        p = self.server.aws("ecs", "delete-cluster", "--cluster", "missing", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ClusterNotFoundException", p.stderr)
        self.assertTrue(self.server.alive())

    def test_list_clusters_pagination(self):
        names = [f"cli-{i}" for i in range(7)]
        for n in names:
            self.aws_json("ecs", "create-cluster", "--cluster-name", n)
        expected = sorted(cluster_arn(n) for n in names)

        # The CLI follows nextToken by itself: small pages still return everything.
        everything = self.aws_json("ecs", "list-clusters", "--page-size", "2")
        self.assertEqual(sorted(everything["clusterArns"]), expected)
        self.assertNotIn("NextToken", everything)

        # --max-items stops early and hands out a token to continue from.
        seen, token = [], None
        for _ in range(10):
            args = ["ecs", "list-clusters", "--max-items", "3", "--page-size", "2"]
            if token:
                args += ["--starting-token", token]
            page = self.aws_json(*args)
            self.assertLessEqual(len(page["clusterArns"]), 3)
            seen.extend(page["clusterArns"])
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(sorted(seen), expected)

        # The server's own token through --no-paginate.
        first = self.aws_json("ecs", "list-clusters", "--no-paginate", "--max-results", "4")
        self.assertEqual(len(first["clusterArns"]), 4)
        rest = self.aws_json("ecs", "list-clusters", "--no-paginate", "--next-token", first["nextToken"])
        self.assertEqual(sorted(first["clusterArns"] + rest["clusterArns"]), expected)

        p = self.server.aws("ecs", "list-clusters", "--no-paginate", "--next-token", "bogus", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("InvalidParameterException", p.stderr)


if __name__ == "__main__":
    unittest.main()
