"""The server starts, reports health, and answers a signed ECS call."""
import json
import unittest
import urllib.request

from harness import ServerTestCase


class SmokeTest(ServerTestCase):
    def test_health(self):
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/health") as r:
            body = json.load(r)
        self.assertEqual(body["status"], "ok")
        self.assertIn("version", body)
        self.assertGreaterEqual(body["uptime_seconds"], 0)

    def test_create_and_list_cluster(self):
        ecs = self.server.client("ecs")
        arn = ecs.create_cluster(clusterName="fargatecluster")["cluster"]["clusterArn"]
        self.assertEqual(arn, "arn:aws:ecs:us-east-1:000000000000:cluster/fargatecluster")
        self.assertEqual(ecs.list_clusters()["clusterArns"], [arn])


if __name__ == "__main__":
    unittest.main()
