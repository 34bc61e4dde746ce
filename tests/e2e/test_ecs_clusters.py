"""ECS clusters end to end with boto3: CreateCluster, DescribeClusters, ListClusters, DeleteCluster,
UpdateCluster, UpdateClusterSettings, PutClusterCapacityProviders and tags on clusters."""
import json
import unittest


from harness import ACCOUNT, REGION, ServerTestCase, signed_request


def cluster_arn(name, region=REGION):
    return f"arn:aws:ecs:{region}:{ACCOUNT}:cluster/{name}"


class EcsClusterTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ecs = self.server.client("ecs")

    def settings_of(self, cluster):
        return {s["name"]: s["value"] for s in cluster.get("settings", [])}


class CreateClusterTest(EcsClusterTestCase):
    def test_default_name(self):
        c = self.ecs.create_cluster()["cluster"]
        self.assertEqual(c["clusterName"], "default")
        self.assertEqual(c["clusterArn"], cluster_arn("default"))
        self.assertEqual(c["status"], "ACTIVE")
        for count in ("registeredContainerInstancesCount", "runningTasksCount", "pendingTasksCount",
                      "activeServicesCount"):
            self.assertEqual(c[count], 0, count)
        # DescribeClusters without clusters describes "default".
        described = self.ecs.describe_clusters()["clusters"]
        self.assertEqual([d["clusterArn"] for d in described], [cluster_arn("default")])

    def test_idempotent_by_name(self):
        first = self.ecs.create_cluster(clusterName="fargatecluster", tags=[{"key": "team", "value": "batch"}])
        second = self.ecs.create_cluster(clusterName="fargatecluster")
        self.assertEqual(first["cluster"]["clusterArn"], second["cluster"]["clusterArn"])
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [cluster_arn("fargatecluster")])
        # The second call did not wipe what the first one set.
        tags = self.ecs.list_tags_for_resource(resourceArn=cluster_arn("fargatecluster"))["tags"]
        self.assertEqual(tags, [{"key": "team", "value": "batch"}])

    def test_settings_container_insights(self):
        c = self.ecs.create_cluster(clusterName="ci", settings=[{"name": "containerInsights", "value": "enabled"}])
        self.assertEqual(self.settings_of(c["cluster"]), {"containerInsights": "enabled"})
        d = self.ecs.describe_clusters(clusters=["ci"], include=["SETTINGS"])["clusters"][0]
        self.assertEqual(self.settings_of(d), {"containerInsights": "enabled"})
        # Without a setting the cluster has containerInsights disabled.
        plain = self.ecs.create_cluster(clusterName="plain")["cluster"]
        self.assertEqual(self.settings_of(plain), {"containerInsights": "disabled"})

    def test_tags(self):
        tags = [{"key": "env", "value": "dev"}, {"key": "project", "value": "gantry"}, {"key": "empty", "value": ""}]
        c = self.ecs.create_cluster(clusterName="tagged", tags=tags)["cluster"]
        self.assertEqual(sorted(c["tags"], key=lambda t: t["key"]), sorted(tags, key=lambda t: t["key"]))
        listed = self.ecs.list_tags_for_resource(resourceArn=c["clusterArn"])["tags"]
        self.assertEqual(sorted(listed, key=lambda t: t["key"]), sorted(tags, key=lambda t: t["key"]))

    def test_capacity_providers(self):
        strategy = [{"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 4, "base": 0}]
        c = self.ecs.create_cluster(clusterName="cp", capacityProviders=["FARGATE", "FARGATE_SPOT"],
                                    defaultCapacityProviderStrategy=strategy)["cluster"]
        self.assertEqual(c["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        self.assertEqual(c["defaultCapacityProviderStrategy"], strategy)
        d = self.ecs.describe_clusters(clusters=["cp"])["clusters"][0]
        self.assertEqual(d["capacityProviders"], ["FARGATE", "FARGATE_SPOT"])
        self.assertEqual(d["defaultCapacityProviderStrategy"], strategy)

    def test_invalid_capacity_provider(self):
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="bad",
                            capacityProviders=["NOT_A_PROVIDER"])
        # A strategy may only name providers of the cluster.
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="bad",
                            capacityProviders=["FARGATE"],
                            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
        # Only one strategy item may have a base.
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="bad",
                            capacityProviders=["FARGATE", "FARGATE_SPOT"],
                            defaultCapacityProviderStrategy=[
                                {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
                                {"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 2}])
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [], "a failed create leaves nothing behind")

    def test_invalid_name(self):
        for name in ("has space", "slash/name", "x" * 256, "dot.name"):
            with self.subTest(name=name):
                msg = self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName=name)
                self.assertIn("255", msg)
        # The longest valid name is accepted.
        long_name = "a" * 255
        self.assertEqual(self.ecs.create_cluster(clusterName=long_name)["cluster"]["clusterName"], long_name)
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [cluster_arn(long_name)])

    def test_bad_settings(self):
        # A value the setting does not take.
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="s",
                            settings=[{"name": "containerInsights", "value": "sometimes"}])
        # A setting name outside the model's enum (boto3 does not check enums, the server does).
        msg = self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="s",
                                  settings=[{"name": "turboMode", "value": "enabled"}])
        self.assertIn("containerInsights", msg)
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [])


class DescribeClustersTest(EcsClusterTestCase):
    def test_include_tags_settings_statistics(self):
        self.ecs.create_cluster(clusterName="full", tags=[{"key": "k", "value": "v"}],
                                settings=[{"name": "containerInsights", "value": "enabled"}])
        bare = self.ecs.describe_clusters(clusters=["full"])["clusters"][0]
        self.assertEqual(bare.get("tags", []), [], "tags only with include=TAGS")
        self.assertEqual(bare.get("statistics", []), [], "statistics only with include=STATISTICS")
        self.assertNotIn("settings", bare, "settings only with include=SETTINGS")

        full = self.ecs.describe_clusters(clusters=["full"], include=["TAGS", "SETTINGS", "STATISTICS"])
        self.assertEqual(full["failures"], [])
        c = full["clusters"][0]
        self.assertEqual(c["tags"], [{"key": "k", "value": "v"}])
        self.assertEqual(self.settings_of(c), {"containerInsights": "enabled"})
        stats = {s["name"]: s["value"] for s in c["statistics"]}
        for name in ("runningFargateTasksCount", "pendingFargateTasksCount", "activeFargateServiceCount"):
            self.assertEqual(stats.get(name), "0", name)

    def test_failures_for_missing_names_and_arns(self):
        self.ecs.create_cluster(clusterName="there")
        unknown_arn = cluster_arn("ghost-by-arn")
        r = self.ecs.describe_clusters(clusters=["there", "ghost", unknown_arn])
        self.assertEqual([c["clusterName"] for c in r["clusters"]], ["there"])
        self.assertEqual(sorted(r["failures"], key=lambda f: f["arn"]),
                         sorted([{"arn": cluster_arn("ghost"), "reason": "MISSING"},
                                 {"arn": unknown_arn, "reason": "MISSING"}], key=lambda f: f["arn"]))

    def test_lookup_by_arn(self):
        arn = self.ecs.create_cluster(clusterName="byarn")["cluster"]["clusterArn"]
        r = self.ecs.describe_clusters(clusters=[arn])
        self.assertEqual(r["failures"], [])
        self.assertEqual(len(r["clusters"]), 1)
        self.assertEqual(r["clusters"][0]["clusterArn"], arn)
        self.assertEqual(r["clusters"][0]["clusterName"], "byarn")

    def test_name_and_arn_mixed(self):
        self.ecs.create_cluster(clusterName="one")
        self.ecs.create_cluster(clusterName="two")
        r = self.ecs.describe_clusters(clusters=["one", cluster_arn("two")])
        self.assertEqual(sorted(c["clusterName"] for c in r["clusters"]), ["one", "two"])
        self.assertEqual(r["failures"], [])


class ListClustersTest(EcsClusterTestCase):
    def test_empty(self):
        r = self.ecs.list_clusters()
        self.assertEqual(r["clusterArns"], [])
        self.assertNotIn("nextToken", r)

    def test_pagination_through_many(self):
        names = [f"cluster-{i:03d}" for i in range(57)]
        for n in names:
            self.ecs.create_cluster(clusterName=n)
        seen, token, pages = [], None, 0
        while True:
            kwargs = {"maxResults": 10}
            if token:
                kwargs["nextToken"] = token
            r = self.ecs.list_clusters(**kwargs)
            pages += 1
            self.assertLessEqual(len(r["clusterArns"]), 10)
            seen.extend(r["clusterArns"])
            token = r.get("nextToken")
            if not token:
                break
            self.assertLess(pages, 20, "pagination does not end")
        self.assertEqual(pages, 6)
        self.assertEqual(len(seen), len(set(seen)), "no cluster is listed twice")
        self.assertEqual(sorted(seen), sorted(cluster_arn(n) for n in names))
        # Without maxResults all 57 fit in one page (the default page holds 100).
        everything = self.ecs.list_clusters()
        self.assertEqual(sorted(everything["clusterArns"]), sorted(seen))
        self.assertNotIn("nextToken", everything)

    def test_boto3_paginator(self):
        for i in range(12):
            self.ecs.create_cluster(clusterName=f"p{i}")
        pages = list(self.ecs.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 5}))
        self.assertEqual([len(p["clusterArns"]) for p in pages], [5, 5, 2])
        arns = [a for p in pages for a in p["clusterArns"]]
        self.assertEqual(sorted(arns), sorted(cluster_arn(f"p{i}") for i in range(12)))

    def test_garbage_next_token(self):
        self.ecs.create_cluster(clusterName="a")
        for token in ("garbage", "!!!not-base64!!!", "x" * 3000, "AAAA"):
            with self.subTest(token=token[:20]):
                self.assertAwsError("InvalidParameterException", self.ecs.list_clusters, nextToken=token)
        # A token of another listing is not accepted either.
        for i in range(3):
            self.ecs.register_task_definition(family=f"f{i}", containerDefinitions=[
                {"name": "c", "image": "busybox", "memory": 64}])
        td_token = self.ecs.list_task_definitions(maxResults=1)["nextToken"]
        self.assertAwsError("InvalidParameterException", self.ecs.list_clusters, nextToken=td_token)
        self.assertTrue(self.server.alive())
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [cluster_arn("a")])

    def test_max_results_out_of_range(self):
        status, _, body = signed_request(self.server, "ecs", "ListClusters", json.dumps({"maxResults": 101}).encode())
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "InvalidParameterException")
        status, _, body = signed_request(self.server, "ecs", "ListClusters", json.dumps({"maxResults": 0}).encode())
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["__type"], "InvalidParameterException")


class DeleteClusterTest(EcsClusterTestCase):
    def test_delete_lifecycle(self):
        arn = self.ecs.create_cluster(clusterName="doomed", tags=[{"key": "k", "value": "v"}])["cluster"]["clusterArn"]
        self.ecs.create_cluster(clusterName="keeper")
        deleted = self.ecs.delete_cluster(cluster="doomed")["cluster"]
        self.assertEqual(deleted["clusterArn"], arn)
        self.assertEqual(deleted["status"], "INACTIVE")
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [cluster_arn("keeper")])
        d = self.ecs.describe_clusters(clusters=["doomed"])
        self.assertEqual(d["failures"], [])
        self.assertEqual(d["clusters"][0]["status"], "INACTIVE")
        self.assertAwsError("ClusterNotFoundException", self.ecs.delete_cluster, cluster="doomed")
        # Re-creating brings back an ACTIVE cluster under the same ARN.
        again = self.ecs.create_cluster(clusterName="doomed")["cluster"]
        self.assertEqual(again["clusterArn"], arn)
        self.assertEqual(again["status"], "ACTIVE")
        self.assertEqual(sorted(self.ecs.list_clusters()["clusterArns"]), sorted([arn, cluster_arn("keeper")]))
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [],
                         "the old cluster's tags do not come back with the new one")

    def test_delete_by_arn(self):
        arn = self.ecs.create_cluster(clusterName="viaarn")["cluster"]["clusterArn"]
        self.assertEqual(self.ecs.delete_cluster(cluster=arn)["cluster"]["status"], "INACTIVE")
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [])

    def test_delete_missing(self):
        self.assertAwsError("ClusterNotFoundException", self.ecs.delete_cluster, cluster="never-was")
        self.assertAwsError("ClusterNotFoundException", self.ecs.delete_cluster, cluster=cluster_arn("never-was"))


class UpdateClusterTest(EcsClusterTestCase):
    def test_update_cluster_settings_and_configuration(self):
        self.ecs.create_cluster(clusterName="u")
        cfg = {"executeCommandConfiguration": {"logging": "OVERRIDE", "logConfiguration": {
            "cloudWatchLogGroupName": "/ecs/exec", "cloudWatchEncryptionEnabled": False}}}
        c = self.ecs.update_cluster(cluster="u", settings=[{"name": "containerInsights", "value": "enabled"}],
                                    configuration=cfg)["cluster"]
        self.assertEqual(self.settings_of(c), {"containerInsights": "enabled"})
        self.assertEqual(c["configuration"], cfg)
        d = self.ecs.describe_clusters(clusters=["u"], include=["SETTINGS", "CONFIGURATIONS"])["clusters"][0]
        self.assertEqual(self.settings_of(d), {"containerInsights": "enabled"})
        self.assertEqual(d["configuration"], cfg)

    def test_update_cluster_settings(self):
        arn = self.ecs.create_cluster(clusterName="s",
                                      settings=[{"name": "containerInsights", "value": "enabled"}])["cluster"]["clusterArn"]
        c = self.ecs.update_cluster_settings(cluster=arn, settings=[{"name": "containerInsights",
                                                                      "value": "disabled"}])["cluster"]
        self.assertEqual(self.settings_of(c), {"containerInsights": "disabled"})
        d = self.ecs.describe_clusters(clusters=["s"], include=["SETTINGS"])["clusters"][0]
        self.assertEqual(d["settings"], [{"name": "containerInsights", "value": "disabled"}])
        self.assertAwsError("InvalidParameterException", self.ecs.update_cluster_settings, cluster="s",
                            settings=[{"name": "containerInsights", "value": "maybe"}])

    def test_update_missing_or_deleted(self):
        self.assertAwsError("ClusterNotFoundException", self.ecs.update_cluster, cluster="nope",
                            settings=[{"name": "containerInsights", "value": "enabled"}])
        self.assertAwsError("ClusterNotFoundException", self.ecs.update_cluster_settings, cluster="nope",
                            settings=[{"name": "containerInsights", "value": "enabled"}])
        self.ecs.create_cluster(clusterName="gone")
        self.ecs.delete_cluster(cluster="gone")
        self.assertAwsError("ClusterNotFoundException", self.ecs.update_cluster_settings, cluster="gone",
                            settings=[{"name": "containerInsights", "value": "enabled"}])

    def test_put_cluster_capacity_providers(self):
        self.ecs.create_cluster(clusterName="cp", capacityProviders=["FARGATE"])
        strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 2}]
        c = self.ecs.put_cluster_capacity_providers(cluster="cp", capacityProviders=["FARGATE_SPOT"],
                                                    defaultCapacityProviderStrategy=strategy)["cluster"]
        self.assertEqual(c["capacityProviders"], ["FARGATE_SPOT"])
        self.assertEqual(c["defaultCapacityProviderStrategy"], strategy)
        d = self.ecs.describe_clusters(clusters=["cp"])["clusters"][0]
        self.assertEqual(d["capacityProviders"], ["FARGATE_SPOT"])
        self.assertEqual(d["defaultCapacityProviderStrategy"], strategy)
        # Removing every provider is allowed.
        c = self.ecs.put_cluster_capacity_providers(cluster="cp", capacityProviders=[],
                                                    defaultCapacityProviderStrategy=[])["cluster"]
        self.assertEqual(c["capacityProviders"], [])
        self.assertEqual(c["defaultCapacityProviderStrategy"], [])

    def test_put_cluster_capacity_providers_errors(self):
        self.ecs.create_cluster(clusterName="cp")
        self.assertAwsError("InvalidParameterException", self.ecs.put_cluster_capacity_providers, cluster="cp",
                            capacityProviders=["EC2_ASG"], defaultCapacityProviderStrategy=[])
        self.assertAwsError("InvalidParameterException", self.ecs.put_cluster_capacity_providers, cluster="cp",
                            capacityProviders=["FARGATE"],
                            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}])
        self.assertAwsError("ClusterNotFoundException", self.ecs.put_cluster_capacity_providers, cluster="nope",
                            capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[])
        # Nothing changed on the failed calls.
        self.assertEqual(self.ecs.describe_clusters(clusters=["cp"])["clusters"][0]["capacityProviders"], [])


class ClusterTagsTest(EcsClusterTestCase):
    def test_tag_untag_list(self):
        arn = self.ecs.create_cluster(clusterName="t", tags=[{"key": "a", "value": "1"}])["cluster"]["clusterArn"]
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "one"}])
        tags = {t["key"]: t["value"] for t in self.ecs.list_tags_for_resource(resourceArn=arn)["tags"]}
        self.assertEqual(tags, {"a": "one", "b": "2"})
        self.ecs.untag_resource(resourceArn=arn, tagKeys=["a", "not-there"])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "b", "value": "2"}])
        d = self.ecs.describe_clusters(clusters=[arn], include=["TAGS"])["clusters"][0]
        self.assertEqual(d["tags"], [{"key": "b", "value": "2"}])

    def test_missing_cluster(self):
        missing = cluster_arn("nobody")
        self.assertAwsError("ClusterNotFoundException", self.ecs.tag_resource, resourceArn=missing,
                            tags=[{"key": "a", "value": "b"}])
        self.assertAwsError("ClusterNotFoundException", self.ecs.untag_resource, resourceArn=missing, tagKeys=["a"])
        self.assertAwsError("ClusterNotFoundException", self.ecs.list_tags_for_resource, resourceArn=missing)

    def test_deleted_cluster_cannot_be_tagged(self):
        arn = self.ecs.create_cluster(clusterName="gone")["cluster"]["clusterArn"]
        self.ecs.delete_cluster(cluster="gone")
        self.assertAwsError("ClusterNotFoundException", self.ecs.tag_resource, resourceArn=arn,
                            tags=[{"key": "k", "value": "v"}])
        self.assertAwsError("ClusterNotFoundException", self.ecs.list_tags_for_resource, resourceArn=arn)

    def test_not_an_arn(self):
        self.assertAwsError("InvalidParameterException", self.ecs.list_tags_for_resource, resourceArn="just-a-name")

    def test_too_many_tags(self):
        arn = self.ecs.create_cluster(clusterName="many")["cluster"]["clusterArn"]
        fifty_one = [{"key": f"k{i}", "value": str(i)} for i in range(51)]
        self.assertAwsError("InvalidParameterException", self.ecs.tag_resource, resourceArn=arn, tags=fifty_one)
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="many2", tags=fifty_one)
        # 30 + 30 distinct keys over two calls would make 60.
        self.ecs.tag_resource(resourceArn=arn, tags=fifty_one[:30])
        self.assertAwsError("InvalidParameterException", self.ecs.tag_resource, resourceArn=arn,
                            tags=[{"key": f"other{i}", "value": ""} for i in range(30)])
        self.assertEqual(len(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"]), 30)
        # Exactly 50 is fine; overwriting existing keys does not count twice.
        self.ecs.tag_resource(resourceArn=arn, tags=fifty_one[:50])
        self.assertEqual(len(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"]), 50)

    def test_reserved_aws_prefix(self):
        arn = self.ecs.create_cluster(clusterName="r")["cluster"]["clusterArn"]
        for key in ("aws:createdBy", "AWS:thing"):
            with self.subTest(key=key):
                msg = self.assertAwsError("InvalidParameterException", self.ecs.tag_resource, resourceArn=arn,
                                          tags=[{"key": key, "value": "x"}])
                self.assertIn("aws:", msg.lower())
        self.assertAwsError("InvalidParameterException", self.ecs.create_cluster, clusterName="r2",
                            tags=[{"key": "aws:x", "value": "y"}])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [])
        # A key merely containing "aws" is fine.
        self.ecs.tag_resource(resourceArn=arn, tags=[{"key": "myaws:key", "value": "v"}])
        self.assertEqual(self.ecs.list_tags_for_resource(resourceArn=arn)["tags"], [{"key": "myaws:key", "value": "v"}])


class RegionTest(EcsClusterTestCase):
    def test_clusters_are_regional(self):
        west = self.server.client("ecs", region="us-west-2")
        c = west.create_cluster(clusterName="westie")["cluster"]
        self.assertEqual(c["clusterArn"], cluster_arn("westie", region="us-west-2"))
        self.assertEqual(west.list_clusters()["clusterArns"], [c["clusterArn"]])
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [])
        r = self.ecs.describe_clusters(clusters=["westie"])
        self.assertEqual(r["clusters"], [])
        self.assertEqual(r["failures"], [{"arn": cluster_arn("westie"), "reason": "MISSING"}])
        # The same name can exist in both regions, separately.
        east = self.ecs.create_cluster(clusterName="westie")["cluster"]
        self.assertEqual(east["clusterArn"], cluster_arn("westie"))
        west.delete_cluster(cluster="westie")
        self.assertEqual(self.ecs.list_clusters()["clusterArns"], [cluster_arn("westie")])
        self.assertEqual(west.list_clusters()["clusterArns"], [])


if __name__ == "__main__":
    unittest.main()
