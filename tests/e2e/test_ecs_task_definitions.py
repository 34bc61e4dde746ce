"""ECS task definitions end to end with boto3 and raw signed HTTP: RegisterTaskDefinition (round trip of
every field, Fargate validation), DescribeTaskDefinition, ListTaskDefinitions, ListTaskDefinitionFamilies,
DeregisterTaskDefinition, DeleteTaskDefinitions and tags on task definitions."""
import copy
import datetime
import json
import unittest

from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, ServerTestCase, signed_request

IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/python-batch-job:latest"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/appTaskRole"

# The seed workflow's task definition as the console would send it (0.25 vCPU, 0.5 GB, a 128 MB hard
# limit and 1 CPU unit on the container).
SEED = {
    "family": "my-batch-job",
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "0.25 vCPU",
    "memory": "0.5 GB",
    "executionRoleArn": EXECUTION_ROLE,
    "containerDefinitions": [{
        "name": "python-batch-container",
        "image": IMAGE,
        "memory": 128,
        "cpu": 1,
        "essential": True,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": "/ecs/my-batch-job", "awslogs-region": REGION,
                        "awslogs-stream-prefix": "ecs"},
        },
    }],
}

# What ECS adds to a container definition that did not give these.
CONTAINER_DEFAULTS = {"portMappings": [], "environment": [], "mountPoints": [], "volumesFrom": []}


def td_arn(family, revision, region=REGION):
    return f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{family}:{revision}"


def fargate(family, cpu="256", memory="512", containers=None, **extra):
    """A minimal valid Fargate task definition."""
    body = {"family": family, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": cpu,
            "memory": memory,
            "containerDefinitions": containers or [{"name": "app", "image": "public.ecr.aws/docker/library/busybox"}]}
    body.update(extra)
    return body


class TaskDefinitionTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs = self.server.client("ecs")

    def register(self, **kwargs):
        return self.ecs.register_task_definition(**kwargs)["taskDefinition"]

    def simple(self, family, **extra):
        """Registers a small EC2-compatible definition and returns it."""
        return self.register(family=family, containerDefinitions=[{"name": "c", "image": "busybox", "memory": 64}],
                             **extra)

    def assertRegisterFails(self, body, code="ClientException", *message_words):
        msg = self.assertAwsError(code, self.ecs.register_task_definition, **body)
        for w in message_words:
            self.assertIn(w.lower(), msg.lower())
        return msg

    def raw(self, target, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, headers, out = signed_request(self.server, "ecs", target, data)
        return status, headers, json.loads(out)

    def list_all_task_definitions(self, page_size, **kwargs):
        arns, token = [], None
        for _ in range(100):
            args = dict(kwargs, maxResults=page_size)
            if token:
                args["nextToken"] = token
            r = self.ecs.list_task_definitions(**args)
            self.assertLessEqual(len(r["taskDefinitionArns"]), page_size)
            arns.extend(r["taskDefinitionArns"])
            token = r.get("nextToken")
            if not token:
                return arns
        self.fail("pagination does not end")


class SeedTaskDefinitionTest(TaskDefinitionTestCase):
    def check_seed(self, td):
        self.assertEqual(td["taskDefinitionArn"], td_arn("my-batch-job", 1))
        self.assertEqual(td["family"], "my-batch-job")
        self.assertEqual(td["revision"], 1)
        self.assertEqual(td["status"], "ACTIVE")
        self.assertEqual(td["requiresCompatibilities"], ["FARGATE"])
        self.assertEqual(td["networkMode"], "awsvpc")
        # Task sizes come back in units, as strings.
        self.assertEqual(td["cpu"], "256")
        self.assertEqual(td["memory"], "512")
        self.assertEqual(td["executionRoleArn"], EXECUTION_ROLE)
        self.assertNotIn("taskRoleArn", td)
        self.assertIn("FARGATE", td["compatibilities"])
        self.assertEqual(td["volumes"], [])
        self.assertEqual(td["placementConstraints"], [])
        self.assertIsInstance(td["registeredAt"], datetime.datetime)
        self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - td["registeredAt"]).total_seconds()), 600)
        self.assertTrue(td["registeredBy"].startswith(f"arn:aws:iam::{ACCOUNT}:"))
        attrs = {a["name"] for a in td["requiresAttributes"]}
        for needed in ("com.amazonaws.ecs.capability.logging-driver.awslogs", "ecs.capability.execution-role-awslogs",
                       "com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull",
                       "ecs.capability.task-eni"):
            self.assertIn(needed, attrs)

        self.assertEqual(len(td["containerDefinitions"]), 1)
        got = td["containerDefinitions"][0]
        sent = SEED["containerDefinitions"][0]
        for key, value in sent.items():
            self.assertEqual(got[key], value, f"container field {key}")
        for key, value in CONTAINER_DEFAULTS.items():
            self.assertEqual(got[key], value, f"default {key}")
        extra = set(got) - set(sent) - set(CONTAINER_DEFAULTS) - {"systemControls"}
        self.assertEqual(extra, set(), "no fields appear that were neither sent nor AWS defaults")

    def test_register_and_describe_back_exactly(self):
        r = self.ecs.register_task_definition(**SEED)
        self.check_seed(r["taskDefinition"])
        self.assertEqual(r.get("tags", []), [])
        described = self.ecs.describe_task_definition(taskDefinition="my-batch-job")["taskDefinition"]
        self.check_seed(described)
        self.assertEqual(described, r["taskDefinition"], "describe returns what register returned")
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="my-batch-job:1")["taskDefinition"],
                         described)
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition=td_arn("my-batch-job", 1))["taskDefinition"],
                         described)

    def test_seed_survives_restart(self):
        self.ecs.register_task_definition(**SEED)
        before = self.ecs.describe_task_definition(taskDefinition="my-batch-job:1")["taskDefinition"]
        self.server.restart()
        ecs = self.server.client("ecs")
        after = ecs.describe_task_definition(taskDefinition="my-batch-job:1")["taskDefinition"]
        self.assertEqual(after, before)
        self.assertEqual(ecs.register_task_definition(**SEED)["taskDefinition"]["revision"], 2)


class RichTaskDefinitionTest(TaskDefinitionTestCase):
    RICH = {
        "family": "rich-app",
        "taskRoleArn": TASK_ROLE,
        "executionRoleArn": EXECUTION_ROLE,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "1024",
        "memory": "4096",
        "ephemeralStorage": {"sizeInGiB": 50},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "volumes": [
            {"name": "scratch", "host": {}},
            {"name": "shared", "efsVolumeConfiguration": {"fileSystemId": "fs-12345678", "rootDirectory": "/data",
                                                          "transitEncryption": "ENABLED",
                                                          "authorizationConfig": {"accessPointId": "fsap-1234",
                                                                                  "iam": "ENABLED"}}},
        ],
        "containerDefinitions": [
            {
                "name": "web",
                "image": "public.ecr.aws/nginx/nginx:1.25",
                "cpu": 512,
                "memory": 2048,
                "memoryReservation": 1024,
                "essential": True,
                "command": ["nginx", "-g", "daemon off;"],
                "entryPoint": ["/docker-entrypoint.sh"],
                "environment": [{"name": "MODE", "value": "production"}, {"name": "EMPTY", "value": ""}],
                "environmentFiles": [{"value": "arn:aws:s3:::my-bucket/app.env", "type": "s3"}],
                "secrets": [{"name": "DB_PASSWORD",
                             "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/db/password"}],
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp", "name": "http",
                                  "appProtocol": "http"},
                                 {"containerPort": 9000, "hostPort": 9000, "protocol": "udp"}],
                "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
                                "interval": 10, "timeout": 3, "retries": 5, "startPeriod": 20},
                "dependsOn": [{"containerName": "init", "condition": "SUCCESS"},
                              {"containerName": "sidecar", "condition": "START"}],
                "startTimeout": 60,
                "stopTimeout": 90,
                "workingDirectory": "/srv",
                "user": "1000:1000",
                "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}],
                "readonlyRootFilesystem": True,
                "linuxParameters": {"capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]},
                                    "initProcessEnabled": True},
                "dockerLabels": {"com.example.team": "platform", "version": "3"},
                "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/tmp/scratch", "readOnly": False},
                                {"sourceVolume": "shared", "containerPath": "/data", "readOnly": True}],
                "volumesFrom": [],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/rich",
                                                                        "awslogs-region": REGION,
                                                                        "awslogs-stream-prefix": "web"},
                                     "secretOptions": []},
                "systemControls": [{"namespace": "net.ipv4.tcp_keepalive_time", "value": "60"}],
                "pseudoTerminal": False,
                "interactive": False,
            },
            {"name": "init", "image": "busybox", "essential": False, "command": ["sh", "-c", "echo ready"],
             "memoryReservation": 64},
            {"name": "sidecar", "image": "public.ecr.aws/aws-observability/aws-otel-collector:latest",
             "essential": True, "cpu": 128, "memoryReservation": 256, "versionConsistency": "disabled",
             "restartPolicy": {"enabled": True, "restartAttemptPeriod": 60, "ignoredExitCodes": [0]}},
        ],
        "tags": [{"key": "app", "value": "rich"}],
    }

    def test_every_field_round_trips(self):
        r = self.ecs.register_task_definition(**self.RICH)
        self.assertEqual(r["tags"], [{"key": "app", "value": "rich"}])
        td = self.ecs.describe_task_definition(taskDefinition="rich-app", include=["TAGS"])
        self.assertEqual(td["tags"], [{"key": "app", "value": "rich"}])
        got = td["taskDefinition"]
        for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode", "requiresCompatibilities", "cpu",
                    "memory", "ephemeralStorage", "runtimePlatform", "volumes"):
            self.assertEqual(got[key], self.RICH[key], key)
        self.assertNotIn("tags", got, "tags are not part of the task definition itself")
        self.assertEqual([c["name"] for c in got["containerDefinitions"]], ["web", "init", "sidecar"])
        for sent, back in zip(self.RICH["containerDefinitions"], got["containerDefinitions"]):
            for key, value in sent.items():
                self.assertEqual(back[key], value, f"{sent['name']}.{key}")
        init = got["containerDefinitions"][1]
        self.assertEqual(init["cpu"], 0)
        for key, value in CONTAINER_DEFAULTS.items():
            self.assertEqual(init[key], value, f"init.{key}")
        attrs = {a["name"] for a in got["requiresAttributes"]}
        for needed in ("com.amazonaws.ecs.capability.task-iam-role", "ecs.capability.container-ordering",
                       "ecs.capability.container-health-check"):
            self.assertIn(needed, attrs)

    def test_container_defaults_filled_in(self):
        td = self.register(**fargate("defaults", containers=[{
            "name": "app", "image": "busybox", "portMappings": [{"containerPort": 80}],
            "healthCheck": {"command": ["CMD", "true"]}}]))
        c = td["containerDefinitions"][0]
        self.assertEqual(c["essential"], True)
        self.assertEqual(c["cpu"], 0)
        # With awsvpc the host port is the container port; the protocol defaults to tcp.
        self.assertEqual(c["portMappings"], [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}])
        # ECS stores the documented health-check defaults.
        self.assertEqual(c["healthCheck"], {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3})


class RevisionTest(TaskDefinitionTestCase):
    def test_revisions_count_up_per_family(self):
        self.assertEqual([self.simple("alpha")["revision"] for _ in range(3)], [1, 2, 3])
        self.assertEqual(self.simple("beta")["revision"], 1)
        self.assertEqual(self.simple("alpha")["revision"], 4)
        self.assertEqual(self.simple("beta")["taskDefinitionArn"], td_arn("beta", 2))

    def test_describe_by_family_revision_and_arn(self):
        for i in range(3):
            self.register(family="multi", containerDefinitions=[
                {"name": "c", "image": f"busybox:{i + 1}", "memory": 64}])
        latest = self.ecs.describe_task_definition(taskDefinition="multi")["taskDefinition"]
        self.assertEqual(latest["revision"], 3)
        self.assertEqual(latest["containerDefinitions"][0]["image"], "busybox:3")
        second = self.ecs.describe_task_definition(taskDefinition="multi:2")["taskDefinition"]
        self.assertEqual(second["revision"], 2)
        self.assertEqual(second["containerDefinitions"][0]["image"], "busybox:2")
        first = self.ecs.describe_task_definition(taskDefinition=td_arn("multi", 1))["taskDefinition"]
        self.assertEqual(first["containerDefinitions"][0]["image"], "busybox:1")
        self.assertEqual(first["taskDefinitionArn"], td_arn("multi", 1))

    def test_describe_missing(self):
        self.simple("here")
        for ref in ("nothere", "here:2", td_arn("nothere", 1), td_arn("here", 1, region="eu-west-1")):
            with self.subTest(ref=ref):
                self.assertAwsError("ClientException", self.ecs.describe_task_definition, taskDefinition=ref)
        for ref in ("here:zero", "here:0", "here:-1", "bad name:1", "arn:aws:ecs:us-east-1:000000000000:cluster/x"):
            with self.subTest(ref=ref):
                self.assertAwsError("ClientException", self.ecs.describe_task_definition, taskDefinition=ref)

    def test_include_tags(self):
        self.simple("tagged", tags=[{"key": "owner", "value": "me"}])
        plain = self.ecs.describe_task_definition(taskDefinition="tagged")
        self.assertNotIn("tags", plain)
        with_tags = self.ecs.describe_task_definition(taskDefinition="tagged", include=["TAGS"])
        self.assertEqual(with_tags["tags"], [{"key": "owner", "value": "me"}])

    def test_regional(self):
        west = self.server.client("ecs", region="us-west-2")
        td = west.register_task_definition(family="west", containerDefinitions=[
            {"name": "c", "image": "busybox", "memory": 64}])["taskDefinition"]
        self.assertEqual(td["taskDefinitionArn"], td_arn("west", 1, region="us-west-2"))
        self.assertAwsError("ClientException", self.ecs.describe_task_definition, taskDefinition="west")
        self.assertEqual(self.ecs.list_task_definitions()["taskDefinitionArns"], [])
        self.assertEqual(self.simple("west")["revision"], 1, "revisions are counted per region")


class ListTaskDefinitionsTest(TaskDefinitionTestCase):
    def test_family_prefix_is_exact(self):
        for fam in ("web", "web", "web-api", "webby", "other"):
            self.simple(fam)
        r = self.ecs.list_task_definitions(familyPrefix="web")
        self.assertEqual(r["taskDefinitionArns"], [td_arn("web", 1), td_arn("web", 2)])
        self.assertEqual(self.ecs.list_task_definitions(familyPrefix="we")["taskDefinitionArns"], [])
        everything = self.ecs.list_task_definitions()["taskDefinitionArns"]
        self.assertEqual(sorted(everything), sorted([td_arn("web", 1), td_arn("web", 2), td_arn("web-api", 1),
                                                     td_arn("webby", 1), td_arn("other", 1)]))

    def test_status_and_sort(self):
        for _ in range(3):
            self.simple("s")
        self.ecs.deregister_task_definition(taskDefinition="s:2")
        self.assertEqual(self.ecs.list_task_definitions()["taskDefinitionArns"], [td_arn("s", 1), td_arn("s", 3)])
        self.assertEqual(self.ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"], [td_arn("s", 2)])
        self.assertEqual(self.ecs.list_task_definitions(status="ACTIVE", sort="DESC")["taskDefinitionArns"],
                         [td_arn("s", 3), td_arn("s", 1)])
        self.assertEqual(self.ecs.list_task_definitions(sort="ASC")["taskDefinitionArns"],
                         [td_arn("s", 1), td_arn("s", 3)])

    def test_pagination(self):
        expected = []
        for fam in ("a", "b", "c"):
            for rev in range(1, 5):
                self.simple(fam)
                expected.append(td_arn(fam, rev))
        asc = self.list_all_task_definitions(3)
        self.assertEqual(asc, expected, "families in order, revisions ascending, nothing lost or repeated")
        desc = self.list_all_task_definitions(5, sort="DESC")
        self.assertEqual(desc, list(reversed(expected)))
        only_b = self.list_all_task_definitions(1, familyPrefix="b")
        self.assertEqual(only_b, [td_arn("b", r) for r in range(1, 5)])
        pages = list(self.ecs.get_paginator("list_task_definitions").paginate(PaginationConfig={"PageSize": 5}))
        self.assertEqual([len(p["taskDefinitionArns"]) for p in pages], [5, 5, 2])

    def test_bad_token(self):
        self.simple("x")
        self.assertAwsError("InvalidParameterException", self.ecs.list_task_definitions, nextToken="not-a-token")
        self.assertAwsError("InvalidParameterException", self.ecs.list_task_definition_families, nextToken="%%%")
        self.assertTrue(self.server.alive())
        self.assertEqual(self.ecs.list_task_definitions()["taskDefinitionArns"], [td_arn("x", 1)])


class ListTaskDefinitionFamiliesTest(TaskDefinitionTestCase):
    def test_prefix_and_status(self):
        for fam in ("web", "web-api", "webby", "worker", "db"):
            self.simple(fam)
        self.simple("web")
        self.ecs.deregister_task_definition(taskDefinition="worker:1")
        self.ecs.deregister_task_definition(taskDefinition="web:1")  # web:2 stays ACTIVE
        self.assertEqual(self.ecs.list_task_definition_families(familyPrefix="web")["families"],
                         ["web", "web-api", "webby"])
        self.assertEqual(self.ecs.list_task_definition_families(familyPrefix="w")["families"],
                         ["web", "web-api", "webby", "worker"])
        self.assertEqual(self.ecs.list_task_definition_families()["families"],
                         ["db", "web", "web-api", "webby", "worker"], "default status is ALL")
        self.assertEqual(self.ecs.list_task_definition_families(status="ALL")["families"],
                         ["db", "web", "web-api", "webby", "worker"])
        self.assertEqual(self.ecs.list_task_definition_families(status="ACTIVE")["families"],
                         ["db", "web", "web-api", "webby"])
        self.assertEqual(self.ecs.list_task_definition_families(status="INACTIVE")["families"], ["worker"])
        self.assertEqual(self.ecs.list_task_definition_families(familyPrefix="zzz")["families"], [])

    def test_pagination(self):
        names = [f"fam-{i:02d}" for i in range(23)]
        for n in names:
            self.simple(n)
        self.simple("fam-05")  # a second revision does not list the family twice
        seen, token = [], None
        for _ in range(50):
            kwargs = {"maxResults": 4, "familyPrefix": "fam-"}
            if token:
                kwargs["nextToken"] = token
            r = self.ecs.list_task_definition_families(**kwargs)
            self.assertLessEqual(len(r["families"]), 4)
            seen.extend(r["families"])
            token = r.get("nextToken")
            if not token:
                break
        self.assertEqual(seen, names)


class DeregisterTest(TaskDefinitionTestCase):
    def test_deregister(self):
        for _ in range(3):
            self.simple("d")
        td = self.ecs.deregister_task_definition(taskDefinition="d:3")["taskDefinition"]
        self.assertEqual(td["status"], "INACTIVE")
        self.assertEqual(td["revision"], 3)
        self.assertIsInstance(td["deregisteredAt"], datetime.datetime)
        self.assertGreaterEqual(td["deregisteredAt"], td["registeredAt"])
        # Still describable by revision, with its status.
        again = self.ecs.describe_task_definition(taskDefinition="d:3")["taskDefinition"]
        self.assertEqual(again["status"], "INACTIVE")
        self.assertIn("deregisteredAt", again)
        # The bare family now means the latest ACTIVE revision.
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="d")["taskDefinition"]["revision"], 2)
        self.ecs.deregister_task_definition(taskDefinition=td_arn("d", 2))
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="d")["taskDefinition"]["revision"], 1)
        self.ecs.deregister_task_definition(taskDefinition="d:1")
        self.assertAwsError("ClientException", self.ecs.describe_task_definition, taskDefinition="d")
        # A new registration continues the numbering.
        self.assertEqual(self.simple("d")["revision"], 4)
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="d")["taskDefinition"]["revision"], 4)

    def test_deregister_errors(self):
        self.simple("e")
        self.assertAwsError("ClientException", self.ecs.deregister_task_definition, taskDefinition="e:9")
        self.assertAwsError("ClientException", self.ecs.deregister_task_definition, taskDefinition="missing:1")
        self.assertAwsError("ClientException", self.ecs.deregister_task_definition, taskDefinition="e")
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="e:1")["taskDefinition"]["status"], "ACTIVE")


class DeleteTaskDefinitionsTest(TaskDefinitionTestCase):
    def test_delete(self):
        for _ in range(3):
            self.simple("del")
        self.ecs.deregister_task_definition(taskDefinition="del:3")
        r = self.ecs.delete_task_definitions(taskDefinitions=["del:1", "del:3", "nope:1"])
        self.assertEqual([t["taskDefinitionArn"] for t in r["taskDefinitions"]], [td_arn("del", 3)])
        self.assertEqual(r["taskDefinitions"][0]["status"], "DELETE_IN_PROGRESS")
        self.assertIn("deleteRequestedAt", r["taskDefinitions"][0])
        failures = {f["arn"]: f["reason"] for f in r["failures"]}
        self.assertEqual(set(failures), {td_arn("del", 1), td_arn("nope", 1)})
        self.assertIn("ACTIVE", failures[td_arn("del", 1)])
        # The ACTIVE one is untouched; the deleted one no longer lists as INACTIVE.
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="del:1")["taskDefinition"]["status"],
                         "ACTIVE")
        self.assertEqual(self.ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"], [])
        self.assertEqual(self.ecs.list_task_definitions(status="DELETE_IN_PROGRESS")["taskDefinitionArns"],
                         [td_arn("del", 3)])
        # Deleting again does not fail and does not move the request time.
        second = self.ecs.delete_task_definitions(taskDefinitions=["del:3"])
        self.assertEqual(second["failures"], [])
        self.assertEqual(second["taskDefinitions"][0]["deleteRequestedAt"], r["taskDefinitions"][0]["deleteRequestedAt"])
        # Revision numbers are never reused, even when the highest revision is deleted.
        self.assertEqual(self.simple("del")["revision"], 4)

    def test_delete_whole_family_keeps_numbering(self):
        self.simple("gone")
        self.ecs.deregister_task_definition(taskDefinition="gone:1")
        r = self.ecs.delete_task_definitions(taskDefinitions=[td_arn("gone", 1)])
        self.assertEqual(r["failures"], [])
        self.assertEqual(self.simple("gone")["revision"], 2)

    def test_delete_needs_revision(self):
        self.simple("norev")
        self.ecs.deregister_task_definition(taskDefinition="norev:1")
        r = self.ecs.delete_task_definitions(taskDefinitions=["norev"])
        self.assertEqual(r["taskDefinitions"], [])
        self.assertEqual(len(r["failures"]), 1)
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="norev:1")["taskDefinition"]["status"],
                         "INACTIVE")

    def test_too_many(self):
        self.assertAwsError("InvalidParameterException", self.ecs.delete_task_definitions,
                            taskDefinitions=[f"x:{i}" for i in range(1, 12)])
        self.assertAwsError("InvalidParameterException", self.ecs.delete_task_definitions, taskDefinitions=[])


class TaskDefinitionTagsTest(TaskDefinitionTestCase):
    def test_tag_untag_list(self):
        arn = self.simple("t", tags=[{"key": "a", "value": "1"}])["taskDefinitionArn"]
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"],
                         [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        self.ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "b", "value": "2"}])
        # Tags belong to one revision.
        arn2 = self.simple("t")["taskDefinitionArn"]
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn2)["tags"], [])

    def test_missing_task_definition(self):
        self.simple("t")
        for arn in (td_arn("t", 2), td_arn("missing", 1), f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/t"):
            with self.subTest(arn=arn):
                with self.assertRaises(ClientError) as cm:
                    self.ecs.list_tags_for_resource(resourceArn=arn)
                self.assertIn(cm.exception.response["Error"]["Code"],
                              ("ResourceNotFoundException", "ClientException", "InvalidParameterException"))

    def test_tag_limits_on_register(self):
        self.assertRegisterFails(dict(family="t", containerDefinitions=[{"name": "c", "image": "i", "memory": 64}],
                                      tags=[{"key": "aws:reserved", "value": "x"}]), "InvalidParameterException")
        self.assertRegisterFails(dict(family="t", containerDefinitions=[{"name": "c", "image": "i", "memory": 64}],
                                      tags=[{"key": f"k{i}", "value": "v"} for i in range(51)]),
                                 "InvalidParameterException")
        self.assertEqual(self.ecs.list_task_definition_families()["families"], [])


class FargateValidationTest(TaskDefinitionTestCase):
    def test_network_mode_must_be_awsvpc(self):
        for mode in ("bridge", "host", "none"):
            with self.subTest(mode=mode):
                self.assertRegisterFails(fargate("nm", networkMode=mode), "ClientException", "awsvpc")
        body = fargate("nm")
        del body["networkMode"]
        self.assertRegisterFails(body, "ClientException", "awsvpc")

    def test_task_cpu_and_memory_required(self):
        body = fargate("sz")
        del body["cpu"]
        self.assertRegisterFails(body, "ClientException", "cpu")
        body = fargate("sz")
        del body["memory"]
        self.assertRegisterFails(body, "ClientException", "memory")

    def test_invalid_pair(self):
        msg = self.assertRegisterFails(fargate("pair", cpu="256", memory="4096"), "ClientException", "256", "4096")
        self.assertIn("fargate", msg.lower())
        self.assertRegisterFails(fargate("pair", cpu="300", memory="1024"), "ClientException")
        self.assertRegisterFails(fargate("pair", cpu="lots", memory="1024"), "ClientException", "cpu")
        self.assertRegisterFails(fargate("pair", cpu="256", memory="half a gig"), "ClientException", "memory")

    # (cpu, memory) pairs at and beyond the edges of each row of the Fargate table.
    VALID = [(256, 512), (256, 1024), (256, 2048),
             (512, 1024), (512, 2048), (512, 4096),
             (1024, 2048), (1024, 5120), (1024, 8192),
             (2048, 4096), (2048, 16384),
             (4096, 8192), (4096, 30720),
             (8192, 16384), (8192, 20480), (8192, 61440),
             (16384, 32768), (16384, 40960), (16384, 122880)]
    INVALID = [(256, 256), (256, 1536), (256, 3072), (256, 4096),
               (512, 512), (512, 1536), (512, 5120),
               (1024, 1024), (1024, 9216),
               (2048, 3072), (2048, 17408),
               (4096, 7168), (4096, 31744),
               (8192, 12288), (8192, 18432), (8192, 65536),
               (16384, 24576), (16384, 36864), (16384, 131072),
               (128, 512), (32768, 65536)]

    def test_fargate_table(self):
        for cpu, memory in self.VALID:
            with self.subTest(cpu=cpu, memory=memory):
                td = self.register(**fargate(f"ok-{cpu}-{memory}", cpu=str(cpu), memory=str(memory)))
                self.assertEqual((td["cpu"], td["memory"]), (str(cpu), str(memory)))
        for cpu, memory in self.INVALID:
            with self.subTest(cpu=cpu, memory=memory):
                self.assertRegisterFails(fargate("bad", cpu=str(cpu), memory=str(memory)), "ClientException")
        self.assertNotIn("bad", self.ecs.list_task_definition_families()["families"])

    def test_unit_strings(self):
        for cpu, memory, want in ((".25 vcpu", "0.5 GB", ("256", "512")), ("1 vCPU", "2GB", ("1024", "2048")),
                                  ("2 VCPU", "16 gb", ("2048", "16384")), ("0.5 vCPU", "1024", ("512", "1024"))):
            with self.subTest(cpu=cpu, memory=memory):
                td = self.register(**fargate("units", cpu=cpu, memory=memory))
                self.assertEqual((td["cpu"], td["memory"]), want)

    def test_container_memory_above_task_memory(self):
        msg = self.assertRegisterFails(fargate("mem", containers=[{"name": "big", "image": "busybox",
                                                                   "memory": 1024}]), "ClientException")
        self.assertIn("big", msg)
        # Equal to the task memory is fine.
        self.assertEqual(self.register(**fargate("mem", containers=[
            {"name": "fits", "image": "busybox", "memory": 512}]))["revision"], 1)
        # Reservations that add up to more than the task memory are refused too.
        self.assertRegisterFails(fargate("mem", containers=[
            {"name": "a", "image": "busybox", "memoryReservation": 300},
            {"name": "b", "image": "busybox", "memoryReservation": 300}]), "ClientException")

    def test_no_essential_container(self):
        self.assertRegisterFails(fargate("ess", containers=[{"name": "a", "image": "busybox", "essential": False},
                                                             {"name": "b", "image": "busybox", "essential": False}]),
                                 "ClientException", "essential")

    def test_duplicate_container_names(self):
        self.assertRegisterFails(fargate("dup", containers=[{"name": "same", "image": "busybox"},
                                                             {"name": "same", "image": "busybox"}]),
                                 "ClientException", "same")

    def test_empty_container_list(self):
        body = fargate("empty")
        body["containerDefinitions"] = []
        self.assertRegisterFails(body, "ClientException", "container")

    def test_awslogs_needs_execution_role(self):
        body = copy.deepcopy(SEED)
        del body["executionRoleArn"]
        self.assertRegisterFails(body, "ClientException", "execution role")
        # Secrets need it as well.
        self.assertRegisterFails(fargate("sec", containers=[{
            "name": "a", "image": "busybox",
            "secrets": [{"name": "S", "valueFrom": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/s"}]}]),
            "ClientException", "execution role")

    def test_depends_on_missing_container(self):
        self.assertRegisterFails(fargate("dep", containers=[{
            "name": "a", "image": "busybox", "dependsOn": [{"containerName": "ghost", "condition": "START"}]}]),
            "ClientException", "ghost")

    def test_bad_family_name(self):
        for family in ("has space", "slash/family", "f" * 256, "colon:family"):
            with self.subTest(family=family):
                self.assertRegisterFails(fargate(family), "ClientException")
        self.assertEqual(self.ecs.list_task_definition_families()["families"], [])

    def test_health_check_ranges(self):
        def with_check(**hc):
            return fargate("hc", containers=[{"name": "a", "image": "busybox",
                                              "healthCheck": dict({"command": ["CMD", "true"]}, **hc)}])
        for field, bad in (("interval", 4), ("interval", 301), ("timeout", 1), ("timeout", 61), ("retries", 0),
                           ("retries", 11), ("startPeriod", -1), ("startPeriod", 301)):
            with self.subTest(field=field, value=bad):
                self.assertRegisterFails(with_check(**{field: bad}), "ClientException", field)
        td = self.register(**with_check(interval=5, timeout=60, retries=10, startPeriod=300))
        self.assertEqual(td["containerDefinitions"][0]["healthCheck"],
                         {"command": ["CMD", "true"], "interval": 5, "timeout": 60, "retries": 10, "startPeriod": 300})

    def test_awsvpc_port_mismatch(self):
        self.assertRegisterFails(fargate("ports", containers=[{
            "name": "a", "image": "busybox", "portMappings": [{"containerPort": 80, "hostPort": 8080}]}]),
            "ClientException", "awsvpc")

    def test_nothing_registered_after_failures(self):
        self.assertRegisterFails(fargate("once", cpu="256", memory="4096"), "ClientException")
        self.assertEqual(self.register(**fargate("once"))["revision"], 1, "a failed register takes no revision")


class RawRequestTest(TaskDefinitionTestCase):
    def test_wrong_json_types(self):
        good = fargate("raw")
        cases = {
            "family as a number": dict(good, family=42),
            "containerDefinitions as an object": dict(good, containerDefinitions={"name": "app"}),
            "container memory as a string": dict(good, containerDefinitions=[{"name": "a", "image": "i",
                                                                              "memory": "128"}]),
            "essential as a string": dict(good, containerDefinitions=[{"name": "a", "image": "i",
                                                                       "essential": "yes"}]),
            "cpu as a number": dict(good, cpu=256),
            "tags as a map": dict(good, tags={"k": "v"}),
        }
        for name, body in cases.items():
            with self.subTest(name):
                status, headers, out = self.raw("RegisterTaskDefinition", body)
                self.assertEqual(status, 400)
                self.assertTrue(out["__type"].endswith("SerializationException"), out)
                self.assertTrue(out.get("message"))
                self.assertIn("x-amzn-RequestId", {k: v for k, v in headers.items()})
        self.assertEqual(self.ecs.list_task_definition_families()["families"], [])

    def test_malformed_json(self):
        for body in (b"{", b"[1,2]", b"not json", b'{"family": "x",}'):
            with self.subTest(body=body):
                status, _, out = self.raw("RegisterTaskDefinition", body)
                self.assertEqual(status, 400)
                self.assertIn("SerializationException", out["__type"])
        self.assertTrue(self.server.alive())

    def test_missing_required_params(self):
        status, _, out = self.raw("RegisterTaskDefinition", {"containerDefinitions": [{"name": "a", "image": "i",
                                                                                       "memory": 64}]})
        self.assertEqual(status, 400)
        self.assertEqual(out["__type"], "InvalidParameterException")
        self.assertIn("family", out["message"])
        status, _, out = self.raw("RegisterTaskDefinition", {"family": "f"})
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))
        self.assertIn("containerDefinitions", out["message"])
        status, _, out = self.raw("DescribeTaskDefinition", {})
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))
        self.assertIn("taskDefinition", out["message"])
        status, _, out = self.raw("DeregisterTaskDefinition", {})
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))
        status, _, out = self.raw("DeleteTaskDefinitions", {})
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))

    def test_enum_violation(self):
        status, _, out = self.raw("RegisterTaskDefinition", fargate("e", networkMode="turbo"))
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))
        self.assertIn("networkMode", out["message"])
        status, _, out = self.raw("ListTaskDefinitions", {"sort": "SIDEWAYS"})
        self.assertEqual((status, out["__type"]), (400, "InvalidParameterException"))

    def test_raw_success_matches_boto3(self):
        status, headers, out = self.raw("RegisterTaskDefinition", SEED)
        self.assertEqual(status, 200)
        self.assertEqual(out["taskDefinition"]["cpu"], "256")
        self.assertEqual(out["taskDefinition"]["memory"], "512")
        self.assertIsInstance(out["taskDefinition"]["registeredAt"], (int, float))
        self.assertIn("application/x-amz-json-1.1", headers.get("Content-Type", ""))
        self.assertEqual(self.ecs.describe_task_definition(taskDefinition="my-batch-job")["taskDefinition"]["revision"],
                         1)


if __name__ == "__main__":
    unittest.main()
