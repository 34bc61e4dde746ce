"""State in the embedded store survives a clean restart, `kill -9`, and `kill -9` in the middle of a
burst of concurrent writes: what was acknowledged is there, nothing is half written."""
import collections
import json
import os
import random
import threading
import time
import unittest

from botocore.exceptions import ClientError

from harness import GantryServer


def container(name, i, memory=128):
    return {"name": name, "image": f"registry.example/app:{i}", "memory": memory, "essential": True,
            "environment": [{"name": "I", "value": str(i)}], "command": ["sh", "-c", f"echo {i}"],
            "portMappings": [{"containerPort": 8000 + i % 100, "protocol": "tcp"}]}


class PersistenceTest(unittest.TestCase):
    def setUp(self):
        self.server = GantryServer().start()

    def tearDown(self):
        self.server.cleanup()

    def populate(self):
        ecs = self.server.client("ecs")
        west = self.server.client("ecs", region="eu-west-1")
        ecs.create_cluster(clusterName="prod", tags=[{"key": "team", "value": "core"}, {"key": "env", "value": "prod"}],
                           settings=[{"name": "containerInsights", "value": "enabled"}],
                           capacityProviders=["FARGATE", "FARGATE_SPOT"],
                           defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 1}])
        ecs.create_cluster(clusterName="dev")
        ecs.update_cluster_settings(cluster="dev", settings=[{"name": "containerInsights", "value": "disabled"}])
        ecs.tag_resource(resourceArn=ecs.describe_clusters(clusters=["dev"])["clusters"][0]["clusterArn"],
                         tags=[{"key": "owner", "value": "me"}])
        west.create_cluster(clusterName="west-only")
        for i in range(3):
            ecs.register_task_definition(
                family="web", containerDefinitions=[container("app", i)], requiresCompatibilities=["FARGATE"],
                networkMode="awsvpc", cpu="256", memory="512", tags=[{"key": "rev", "value": str(i + 1)}])
        ecs.register_task_definition(family="worker", containerDefinitions=[container("w", 7, memory=64)])
        ecs.register_task_definition(family="worker", containerDefinitions=[container("w", 8, memory=64)])
        ecs.deregister_task_definition(taskDefinition="web:2")
        west.register_task_definition(family="web", containerDefinitions=[container("west", 1)])

    def snapshot(self):
        out = {}
        for region in ("us-east-1", "eu-west-1"):
            ecs = self.server.client("ecs", region=region)
            arns = ecs.list_clusters()["clusterArns"]
            clusters = ecs.describe_clusters(clusters=arns, include=["TAGS", "SETTINGS", "STATISTICS",
                                                                      "CONFIGURATIONS"])["clusters"] if arns else []
            tds = {}
            for status in ("ACTIVE", "INACTIVE"):
                for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]:
                    d = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
                    d.pop("ResponseMetadata")
                    tds[arn] = d
            out[region] = {
                "clusters": sorted(clusters, key=lambda c: c["clusterName"]),
                "families": ecs.list_task_definition_families(status="ALL")["families"],
                "task_definitions": tds,
            }
        return json.loads(json.dumps(out, default=str))

    def check_populated(self, snap):
        east = snap["us-east-1"]
        self.assertEqual([c["clusterName"] for c in east["clusters"]], ["dev", "prod"])
        prod = east["clusters"][1]
        self.assertEqual(sorted((t["key"], t["value"]) for t in prod["tags"]), [("env", "prod"), ("team", "core")])
        self.assertEqual(prod["settings"], [{"name": "containerInsights", "value": "enabled"}])
        self.assertEqual(prod["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        dev = east["clusters"][0]
        self.assertEqual(dev["settings"], [{"name": "containerInsights", "value": "disabled"}])
        self.assertEqual(dev["tags"], [{"key": "owner", "value": "me"}])
        self.assertEqual(sorted(east["families"]), ["web", "worker"])
        tds = {arn.rsplit("/", 1)[1]: d for arn, d in east["task_definitions"].items()}
        self.assertEqual(sorted(tds), ["web:1", "web:2", "web:3", "worker:1", "worker:2"])
        self.assertEqual(tds["web:2"]["taskDefinition"]["status"], "INACTIVE")
        self.assertIn("deregisteredAt", tds["web:2"]["taskDefinition"])
        self.assertEqual(tds["web:3"]["taskDefinition"]["status"], "ACTIVE")
        self.assertEqual(tds["web:3"]["tags"], [{"key": "rev", "value": "3"}])
        self.assertEqual(tds["web:3"]["taskDefinition"]["containerDefinitions"][0]["environment"],
                         [{"name": "I", "value": "2"}])
        self.assertEqual(tds["web:3"]["taskDefinition"]["cpu"], "256")
        west = snap["eu-west-1"]
        self.assertEqual([c["clusterName"] for c in west["clusters"]], ["west-only"])
        self.assertEqual(list(west["task_definitions"]), ["arn:aws:ecs:eu-west-1:000000000000:task-definition/web:1"])

    def after_restart_writes_continue(self):
        ecs = self.server.client("ecs")
        td = ecs.register_task_definition(family="web", containerDefinitions=[container("app", 9)])
        self.assertEqual(td["taskDefinition"]["revision"], 4)
        # Create is idempotent by name: the restored cluster is returned, not a new one.
        self.assertEqual(ecs.create_cluster(clusterName="prod")["cluster"]["clusterName"], "prod")
        self.assertEqual(len(ecs.list_clusters()["clusterArns"]), 2)

    def test_clean_restart(self):
        self.populate()
        before = self.snapshot()
        self.check_populated(before)
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        after = self.snapshot()
        self.assertEqual(after, before)
        self.after_restart_writes_continue()

    def test_kill9(self):
        self.populate()
        before = self.snapshot()
        self.server.kill9()
        self.server.start()
        after = self.snapshot()
        self.assertEqual(after, before)
        self.check_populated(after)
        self.after_restart_writes_continue()
        # And once more, after writes on the restarted server.
        again = self.snapshot()
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.snapshot(), again)

    def test_data_dir_files(self):
        self.populate()
        self.server.kill9()
        names = os.listdir(self.server.data_dir)
        self.assertIn("gantry.db", names)
        self.server.start()
        self.check_populated(self.snapshot())

    def test_kill9_during_concurrent_writes(self):
        seed = int(os.environ.get("GANTRY_TEST_SEED", random.randrange(1 << 30)))
        print(f"\n  seed {seed}")
        families = ["alpha", "beta", "gamma"]
        acked_clusters = {}           # name -> tags sent
        acked_tds = {}                # arn -> (family, revision, marker)
        attempted = {}                # marker -> family, for every RegisterTaskDefinition sent
        lock = threading.Lock()
        stop = threading.Event()
        ok_calls = collections.Counter()

        def worker(n):
            rng = random.Random(seed * 100 + n)
            client = self.server.client("ecs")
            i = 0
            while not stop.is_set():
                i += 1
                marker = f"w{n}-{i}"
                try:
                    if rng.random() < 0.5:
                        family = rng.choice(families)
                        with lock:
                            attempted[marker] = family
                        r = client.register_task_definition(
                            family=family, containerDefinitions=[
                                {"name": "app", "image": "busybox", "memory": 128,
                                 "environment": [{"name": "MARKER", "value": marker}]},
                                {"name": "side", "image": "busybox", "memory": 64, "essential": False}],
                            tags=[{"key": "marker", "value": marker}])
                        td = r["taskDefinition"]
                        with lock:
                            acked_tds[td["taskDefinitionArn"]] = (family, td["revision"], marker)
                            ok_calls["register"] += 1
                    else:
                        tags = [{"key": f"k{j}", "value": f"{marker}-{j}"} for j in range(3)]
                        client.create_cluster(clusterName=f"c-{marker}", tags=tags,
                                              settings=[{"name": "containerInsights", "value": "enabled"}])
                        with lock:
                            acked_clusters[f"c-{marker}"] = tags
                            ok_calls["cluster"] += 1
                except ClientError as e:
                    raise AssertionError(f"unexpected API error before the kill: {e}")
                except Exception:
                    return  # the connection broke: the server is gone

        errors = []

        def run(n):
            try:
                worker(n)
            except AssertionError as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        self.server.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=30)
        self.assertFalse(errors, errors[:3])
        print(f"  acknowledged before kill -9: {dict(ok_calls)}")
        self.assertGreater(len(acked_tds), 10)
        self.assertGreater(len(acked_clusters), 10)

        self.server.start()
        ecs = self.server.client("ecs")
        # Every acknowledged cluster is there with all its tags and its settings.
        names = list(acked_clusters)
        found = {}
        for k in range(0, len(names), 100):
            r = ecs.describe_clusters(clusters=names[k:k + 100], include=["TAGS", "SETTINGS"])
            self.assertEqual(r["failures"], [])
            for c in r["clusters"]:
                found[c["clusterName"]] = c
        for name, tags in acked_clusters.items():
            self.assertIn(name, found)
            self.assertEqual(sorted(found[name]["tags"], key=lambda t: t["key"]), tags)
            self.assertEqual(found[name]["settings"], [{"name": "containerInsights", "value": "enabled"}])
        # Every cluster that exists (acknowledged or caught mid-flight) is whole.
        all_arns = []
        paginator = ecs.get_paginator("list_clusters")
        for page in paginator.paginate():
            all_arns.extend(page["clusterArns"])
        self.assertEqual(len(all_arns), len(set(all_arns)))
        for k in range(0, len(all_arns), 100):
            for c in ecs.describe_clusters(clusters=all_arns[k:k + 100], include=["TAGS", "SETTINGS"])["clusters"]:
                marker = c["clusterName"][2:]
                self.assertEqual(sorted(c["tags"], key=lambda t: t["key"]),
                                 [{"key": f"k{j}", "value": f"{marker}-{j}"} for j in range(3)], c)
        # Task definitions: revisions unique and contiguous per family, every acknowledged one present
        # with its content, every present one whole.
        acked_by_family = collections.defaultdict(dict)
        for arn, (family, rev, marker) in acked_tds.items():
            self.assertNotIn(rev, acked_by_family[family], "two acknowledged registrations got the same revision")
            acked_by_family[family][rev] = marker
        for family in families:
            arns = []
            for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, sort="ASC"):
                arns.extend(page["taskDefinitionArns"])
            revisions = [int(a.rsplit(":", 1)[1]) for a in arns]
            self.assertEqual(revisions, list(range(1, len(revisions) + 1)), f"family {family}: {revisions}")
            for rev, marker in acked_by_family[family].items():
                self.assertLessEqual(rev, len(revisions), f"acknowledged {family}:{rev} is missing")
            for arn in arns:
                d = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
                td = d["taskDefinition"]
                self.assertEqual([c["name"] for c in td["containerDefinitions"]], ["app", "side"])
                marker = td["containerDefinitions"][0]["environment"][0]["value"]
                self.assertEqual(d["tags"], [{"key": "marker", "value": marker}])
                self.assertEqual(attempted.get(marker), family)
                if td["revision"] in acked_by_family[family]:
                    self.assertEqual(acked_by_family[family][td["revision"]], marker)
        # The store keeps working: the next revision follows the last one.
        last = sum(len(p["taskDefinitionArns"])
                   for p in ecs.get_paginator("list_task_definitions").paginate(familyPrefix="alpha"))
        r = ecs.register_task_definition(family="alpha", containerDefinitions=[{"name": "a", "image": "b",
                                                                                  "memory": 128}])
        self.assertEqual(r["taskDefinition"]["revision"], last + 1)


if __name__ == "__main__":
    unittest.main()
