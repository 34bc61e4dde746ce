"""CloudWatch Logs end to end with boto3 and the aws CLI: log groups (retention, classes, tags), log
streams, PutLogEvents' checks, GetLogEvents' forward/backward tokens, FilterLogEvents' patterns and
paging, region isolation and persistence across a restart."""
import json
import time
import unittest

from harness import ACCOUNT, REGION, GantryServer, ServerTestCase

RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653]
HOUR_MS = 3600 * 1000
DAY_MS = 24 * HOUR_MS


def now_ms():
    return int(time.time() * 1000)


def group_arn(name, region=REGION):
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}"


class LogsTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.logs = self.server.client("logs")

    def put(self, group, stream, messages, start=None, step=1):
        start = now_ms() - 60_000 if start is None else start
        events = [{"timestamp": start + i * step, "message": m} for i, m in enumerate(messages)]
        return self.logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)

    def make_stream(self, group, stream):
        try:
            self.logs.create_log_group(logGroupName=group)
        except self.logs.exceptions.ResourceAlreadyExistsException:
            pass
        self.logs.create_log_stream(logGroupName=group, logStreamName=stream)


class LogGroupTest(LogsTestCase):
    def test_create_describe_delete(self):
        before = now_ms()
        self.logs.create_log_group(logGroupName="/ecs/web", tags={"team": "core"})
        self.logs.create_log_group(logGroupName="/ecs/worker", logGroupClass="INFREQUENT_ACCESS")
        groups = self.logs.describe_log_groups()["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/ecs/web", "/ecs/worker"])
        web = groups[0]
        self.assertEqual(web["arn"], group_arn("/ecs/web") + ":*")
        self.assertEqual(web["logGroupArn"], group_arn("/ecs/web"))
        self.assertEqual(web["storedBytes"], 0)
        self.assertEqual(web["logGroupClass"], "STANDARD")
        self.assertNotIn("retentionInDays", web)
        self.assertGreaterEqual(web["creationTime"], before - 1000)
        self.assertLessEqual(web["creationTime"], now_ms() + 1000)
        self.assertEqual(groups[1]["logGroupClass"], "INFREQUENT_ACCESS")
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=group_arn("/ecs/web"))["tags"], {"team": "core"})

        self.assertAwsError("ResourceAlreadyExistsException", self.logs.create_log_group, logGroupName="/ecs/web")
        self.logs.delete_log_group(logGroupName="/ecs/web")
        self.assertEqual([g["logGroupName"] for g in self.logs.describe_log_groups()["logGroups"]], ["/ecs/worker"])
        self.assertAwsError("ResourceNotFoundException", self.logs.delete_log_group, logGroupName="/ecs/web")
        # A deleted group's name can be used again, without its old tags.
        self.logs.create_log_group(logGroupName="/ecs/web")
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=group_arn("/ecs/web"))["tags"], {})

    def test_names(self):
        for bad in ("has space", "colon:name", "star*", "aws/reserved", "x" * 513):
            with self.subTest(name=bad):
                self.assertAwsError("InvalidParameterException", self.logs.create_log_group, logGroupName=bad)
        for good in ("a", "/aws-not-reserved/x", "A.b-c_d/e#f", "y" * 512):
            self.logs.create_log_group(logGroupName=good)
        self.assertEqual(len(self.logs.describe_log_groups()["logGroups"]), 4)
        self.assertAwsError("InvalidParameterException", self.logs.create_log_group, logGroupName="c",
                            logGroupClass="NOT_A_CLASS")

    def test_prefix_pattern_and_paging(self):
        names = [f"/app/{i:02d}" for i in range(12)] + ["/other/Thing", "/other/thing2"]
        for n in names:
            self.logs.create_log_group(logGroupName=n)
        got = [g["logGroupName"] for g in self.logs.describe_log_groups(logGroupNamePrefix="/app/")["logGroups"]]
        self.assertEqual(got, names[:12])
        got = [g["logGroupName"] for g in self.logs.describe_log_groups(logGroupNamePattern="THING")["logGroups"]]
        self.assertEqual(got, ["/other/Thing", "/other/thing2"])
        self.assertAwsError("InvalidParameterException", self.logs.describe_log_groups, logGroupNamePrefix="/a",
                            logGroupNamePattern="a")
        page = self.logs.describe_log_groups(limit=5)
        self.assertEqual(len(page["logGroups"]), 5)
        self.assertIn("nextToken", page)
        paginator = self.logs.get_paginator("describe_log_groups")
        pages = list(paginator.paginate(PaginationConfig={"PageSize": 4}))
        self.assertEqual(len(pages), 4)
        self.assertEqual([g["logGroupName"] for p in pages for g in p["logGroups"]], sorted(names))
        self.assertAwsError("InvalidParameterException", self.logs.describe_log_groups, limit=51)
        self.assertAwsError("InvalidParameterException", self.logs.describe_log_groups, nextToken="bogus")

    def test_retention(self):
        self.logs.create_log_group(logGroupName="r")
        for days in RETENTION_DAYS:
            self.logs.put_retention_policy(logGroupName="r", retentionInDays=days)
            self.assertEqual(self.logs.describe_log_groups()["logGroups"][0]["retentionInDays"], days)
        for days in (0, 2, 4, 366, 3654, -1):
            with self.subTest(days=days):
                self.assertAwsError("InvalidParameterException", self.logs.put_retention_policy, logGroupName="r",
                                    retentionInDays=days)
        self.logs.delete_retention_policy(logGroupName="r")
        self.assertNotIn("retentionInDays", self.logs.describe_log_groups()["logGroups"][0])
        self.assertAwsError("ResourceNotFoundException", self.logs.put_retention_policy, logGroupName="missing",
                            retentionInDays=1)
        self.assertAwsError("ResourceNotFoundException", self.logs.delete_retention_policy, logGroupName="missing")

    def test_stored_bytes(self):
        self.make_stream("g", "s")
        self.put("g", "s", ["12345", "abc"])
        self.assertEqual(self.logs.describe_log_groups()["logGroups"][0]["storedBytes"], 8)
        self.assertEqual(self.logs.describe_log_streams(logGroupName="g")["logStreams"][0]["storedBytes"], 8)


class LogStreamTest(LogsTestCase):
    def test_create_describe_delete(self):
        self.logs.create_log_group(logGroupName="g")
        self.assertAwsError("ResourceNotFoundException", self.logs.create_log_stream, logGroupName="nope",
                            logStreamName="s")
        self.logs.create_log_stream(logGroupName="g", logStreamName="web/app/1")
        self.assertAwsError("ResourceAlreadyExistsException", self.logs.create_log_stream, logGroupName="g",
                            logStreamName="web/app/1")
        for bad in ("a:b", "a*b"):
            self.assertAwsError("InvalidParameterException", self.logs.create_log_stream, logGroupName="g",
                                logStreamName=bad)
        s = self.logs.describe_log_streams(logGroupName="g")["logStreams"][0]
        self.assertEqual(s["logStreamName"], "web/app/1")
        self.assertEqual(s["arn"], f"{group_arn('g')}:log-stream:web/app/1")
        self.assertNotIn("firstEventTimestamp", s)
        self.assertNotIn("lastEventTimestamp", s)
        self.assertIn("uploadSequenceToken", s)

        t0 = now_ms() - 5000
        self.put("g", "web/app/1", ["a", "b", "c"], start=t0, step=100)
        s = self.logs.describe_log_streams(logGroupName="g")["logStreams"][0]
        self.assertEqual(s["firstEventTimestamp"], t0)
        self.assertEqual(s["lastEventTimestamp"], t0 + 200)
        self.assertGreaterEqual(s["lastIngestionTime"], t0)
        self.assertEqual(s["storedBytes"], 3)

        self.logs.delete_log_stream(logGroupName="g", logStreamName="web/app/1")
        self.assertEqual(self.logs.describe_log_streams(logGroupName="g")["logStreams"], [])
        self.assertAwsError("ResourceNotFoundException", self.logs.delete_log_stream, logGroupName="g",
                            logStreamName="web/app/1")
        self.assertAwsError("ResourceNotFoundException", self.logs.describe_log_streams, logGroupName="nope")
        # The events went with the stream.
        self.logs.create_log_stream(logGroupName="g", logStreamName="web/app/1")
        self.assertEqual(self.logs.get_log_events(logGroupName="g", logStreamName="web/app/1")["events"], [])

    def test_order_prefix_paging(self):
        self.logs.create_log_group(logGroupName="g")
        t = now_ms() - 10_000
        names = ["b", "a", "d", "c", "e"]
        for i, n in enumerate(names):
            self.logs.create_log_stream(logGroupName="g", logStreamName=n)
            self.put("g", n, ["x"], start=t + i * 10)
        self.logs.create_log_stream(logGroupName="g", logStreamName="zz-prefix-1")
        self.logs.create_log_stream(logGroupName="g", logStreamName="zz-prefix-2")

        def listed(**kw):
            return [s["logStreamName"] for s in self.logs.describe_log_streams(logGroupName="g", **kw)["logStreams"]]

        self.assertEqual(listed(), ["a", "b", "c", "d", "e", "zz-prefix-1", "zz-prefix-2"])
        self.assertEqual(listed(descending=True), ["zz-prefix-2", "zz-prefix-1", "e", "d", "c", "b", "a"])
        self.assertEqual(listed(logStreamNamePrefix="zz-"), ["zz-prefix-1", "zz-prefix-2"])
        by_time = listed(orderBy="LastEventTime", descending=True)
        self.assertEqual(by_time[:5], ["e", "c", "d", "a", "b"])
        self.assertAwsError("InvalidParameterException", self.logs.describe_log_streams, logGroupName="g",
                            orderBy="LastEventTime", logStreamNamePrefix="a")
        paginator = self.logs.get_paginator("describe_log_streams")
        for kw in ({}, {"descending": True}, {"orderBy": "LastEventTime"}, {"orderBy": "LastEventTime",
                                                                            "descending": True}):
            with self.subTest(**kw):
                pages = list(paginator.paginate(logGroupName="g", PaginationConfig={"PageSize": 2}, **kw))
                self.assertEqual(len(pages), 4)
                self.assertEqual([s["logStreamName"] for p in pages for s in p["logStreams"]], listed(**kw))
        # By group ARN too.
        self.assertEqual(len(self.logs.describe_log_streams(logGroupIdentifier=group_arn("g"))["logStreams"]), 7)


class PutLogEventsTest(LogsTestCase):
    def test_sequence_tokens_are_optional(self):
        self.make_stream("g", "s")
        r1 = self.put("g", "s", ["one"])
        self.assertIn("nextSequenceToken", r1)
        self.assertNotIn("rejectedLogEventsInfo", r1)
        # A stale token or none at all: accepted, as AWS does today.
        r2 = self.logs.put_log_events(logGroupName="g", logStreamName="s", sequenceToken="1234",
                                      logEvents=[{"timestamp": now_ms(), "message": "two"}])
        self.assertNotEqual(r1["nextSequenceToken"], r2["nextSequenceToken"])
        r3 = self.logs.put_log_events(logGroupName="g", logStreamName="s", sequenceToken=r2["nextSequenceToken"],
                                      logEvents=[{"timestamp": now_ms(), "message": "three"}])
        self.assertIn("nextSequenceToken", r3)
        self.assertEqual(len(self.logs.get_log_events(logGroupName="g", logStreamName="s")["events"]), 3)

    def test_chronological_order(self):
        self.make_stream("g", "s")
        t = now_ms()
        msg = self.assertAwsError("InvalidParameterException", self.logs.put_log_events, logGroupName="g",
                                  logStreamName="s",
                                  logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
        self.assertEqual(msg, "Log events in a single PutLogEvents request must be in chronological order.")
        self.assertEqual(self.logs.get_log_events(logGroupName="g", logStreamName="s")["events"], [])

    def test_batch_limits(self):
        self.make_stream("g", "s")
        t = now_ms() - HOUR_MS
        # 24 hours is the widest span.
        self.assertAwsError("InvalidParameterException", self.logs.put_log_events, logGroupName="g",
                            logStreamName="s", logEvents=[{"timestamp": t - DAY_MS - 1, "message": "a"},
                                                          {"timestamp": t, "message": "b"}])
        # 1,048,576 bytes counting 26 bytes per event.
        big = "x" * (1048576 // 4 - 26)
        self.put("g", "s", [big] * 4, start=t)
        msg = self.assertAwsError("InvalidParameterException", self.logs.put_log_events, logGroupName="g",
                                  logStreamName="s", logEvents=[{"timestamp": t, "message": big + "y"}] +
                                  [{"timestamp": t, "message": big}] * 3)
        self.assertIn("1048576", msg)
        # 10,000 events at most.
        self.put("g", "s", ["e"] * 10000, start=t, step=0)
        self.assertAwsError("InvalidParameterException", self.logs.put_log_events, logGroupName="g",
                            logStreamName="s", logEvents=[{"timestamp": t, "message": "e"}] * 10001)
        self.assertAwsError("ResourceNotFoundException", self.put, "g", "missing", ["x"])
        self.assertAwsError("ResourceNotFoundException", self.put, "missing", "s", ["x"])

    def test_rejected_too_old_too_new_expired(self):
        # A batch spans 24 hours at most, so each case sits close to its limit.
        self.make_stream("g", "s")
        t = now_ms()
        r = self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t - 14 * DAY_MS - 2000, "message": "too old"},
            {"timestamp": t - 14 * DAY_MS - 1000, "message": "too old too"},
            {"timestamp": t - 14 * DAY_MS + 60_000, "message": "fine (old)"},
        ])
        self.assertEqual(r["rejectedLogEventsInfo"], {"tooOldLogEventEndIndex": 2})
        r = self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t, "message": "fine (now)"},
            {"timestamp": t + 3 * HOUR_MS, "message": "too new"},
        ])
        self.assertEqual(r["rejectedLogEventsInfo"], {"tooNewLogEventStartIndex": 1})
        self.logs.put_retention_policy(logGroupName="g", retentionInDays=1)
        r = self.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=[
            {"timestamp": t - DAY_MS - 1000, "message": "expired"},
            {"timestamp": t - DAY_MS + 60_000, "message": "fine (kept)"},
        ])
        self.assertEqual(r["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 1})
        got = [e["message"] for e in self.logs.get_log_events(logGroupName="g", logStreamName="s",
                                                              startFromHead=True)["events"]]
        self.assertEqual(got, ["fine (old)", "fine (kept)", "fine (now)"])


class GetLogEventsTest(LogsTestCase):
    def setUp(self):
        super().setUp()
        self.make_stream("g", "s")
        self.t0 = now_ms() - 100_000
        self.put("g", "s", [f"m{i:02d}" for i in range(25)], start=self.t0, step=1000)

    def get(self, **kw):
        return self.logs.get_log_events(logGroupName="g", logStreamName="s", **kw)

    def test_defaults_and_head(self):
        all_events = self.get()["events"]
        self.assertEqual([e["message"] for e in all_events], [f"m{i:02d}" for i in range(25)])
        self.assertEqual(all_events[0]["timestamp"], self.t0)
        self.assertIn("ingestionTime", all_events[0])
        self.assertEqual([e["message"] for e in self.get(limit=3)["events"]], ["m22", "m23", "m24"])
        self.assertEqual([e["message"] for e in self.get(limit=3, startFromHead=True)["events"]], ["m00", "m01", "m02"])

    def test_time_range(self):
        got = self.get(startTime=self.t0 + 5000, endTime=self.t0 + 8000, startFromHead=True)["events"]
        self.assertEqual([e["message"] for e in got], ["m05", "m06", "m07"])

    def test_forward_walk_to_the_end(self):
        r = self.get(limit=10, startFromHead=True)
        seen = [e["message"] for e in r["events"]]
        token = r["nextForwardToken"]
        self.assertTrue(token.startswith("f/"))
        self.assertTrue(r["nextBackwardToken"].startswith("b/"))
        for _ in range(10):
            r = self.get(limit=10, nextToken=token)
            seen += [e["message"] for e in r["events"]]
            if r["nextForwardToken"] == token:
                break
            token = r["nextForwardToken"]
        self.assertEqual(seen, [f"m{i:02d}" for i in range(25)])
        self.assertEqual(r["events"], [])
        # New events appear behind the end token.
        self.put("g", "s", ["late"], start=now_ms())
        self.assertEqual([e["message"] for e in self.get(nextToken=token)["events"]], ["late"])

    def test_backward_walk_to_the_start(self):
        r = self.get(limit=10)
        seen = [e["message"] for e in r["events"]]
        token = r["nextBackwardToken"]
        for _ in range(10):
            r = self.get(limit=10, nextToken=token)
            seen = [e["message"] for e in r["events"]] + seen
            if r["nextBackwardToken"] == token:
                break
            token = r["nextBackwardToken"]
        self.assertEqual(seen, [f"m{i:02d}" for i in range(25)])

    def test_errors(self):
        self.assertAwsError("InvalidParameterException", self.get, nextToken="f/not-a-token")
        self.assertAwsError("ResourceNotFoundException", self.logs.get_log_events, logGroupName="g",
                            logStreamName="missing")
        self.assertAwsError("ResourceNotFoundException", self.logs.get_log_events, logGroupName="missing",
                            logStreamName="s")
        self.assertAwsError("InvalidParameterException", self.get, limit=10001)


class FilterLogEventsTest(LogsTestCase):
    LINES = {
        "web/1": ["[ERROR] database timeout", "[INFO] request ok", "[WARN] slow request", "Failed to connect to db"],
        "web/2": ["[ERROR] Exiting now", "[INFO] started", "say \"hi\" there"],
        "worker/1": ["[ERROR] job failed", "[INFO] job done"],
    }

    def setUp(self):
        super().setUp()
        self.t0 = now_ms() - 100_000
        for stream, lines in self.LINES.items():
            self.make_stream("g", stream)
            self.put("g", stream, lines, start=self.t0, step=1000)

    def messages(self, **kw):
        r = self.logs.filter_log_events(logGroupName="g", **kw)
        return sorted(e["message"] for e in r["events"])

    def test_all_and_fields(self):
        r = self.logs.filter_log_events(logGroupName="g")
        self.assertEqual(len(r["events"]), 9)
        e = r["events"][0]
        for key in ("logStreamName", "timestamp", "message", "ingestionTime", "eventId"):
            self.assertIn(key, e)
        self.assertEqual(len({e["eventId"] for e in r["events"]}), 9)
        self.assertEqual([e["timestamp"] for e in r["events"]], sorted(e["timestamp"] for e in r["events"]))
        self.assertEqual(sorted(s["logStreamName"] for s in r["searchedLogStreams"]), sorted(self.LINES))
        self.assertNotIn("nextToken", r)

    def test_terms_phrases_exclusions_alternatives(self):
        self.assertEqual(self.messages(filterPattern="ERROR"),
                         ["[ERROR] Exiting now", "[ERROR] database timeout", "[ERROR] job failed"])
        self.assertEqual(self.messages(filterPattern="ERROR database"), ["[ERROR] database timeout"])
        self.assertEqual(self.messages(filterPattern='"Failed to connect"'), ["Failed to connect to db"])
        self.assertEqual(self.messages(filterPattern='"say \\"hi\\""'), ['say "hi" there'])
        self.assertEqual(self.messages(filterPattern="ERROR -Exiting"),
                         ["[ERROR] database timeout", "[ERROR] job failed"])
        self.assertEqual(self.messages(filterPattern="?WARN ?Failed"),
                         ["Failed to connect to db", "[WARN] slow request"])
        self.assertEqual(self.messages(filterPattern="error"), [], "patterns are case-sensitive")
        self.assertAwsError("InvalidParameterException", self.logs.filter_log_events, logGroupName="g",
                            filterPattern='"unterminated')
        self.assertAwsError("InvalidParameterException", self.logs.filter_log_events, logGroupName="g",
                            filterPattern='{ $.level = "ERROR"')
        self.assertAwsError("InvalidParameterException", self.logs.filter_log_events, logGroupName="g",
                            filterPattern="%ERROR%")

    def test_json_patterns(self):
        docs = [{"level": "ERROR", "latency": 900, "user": {"id": 1}},
                {"level": "INFO", "latency": 20, "user": {"id": 2}},
                {"level": "ERROR", "latency": 30, "user": {"id": 2}, "retry": True}]
        self.make_stream("g", "json")
        self.put("g", "json", [json.dumps(d) for d in docs])

        def levels(pattern):
            r = self.logs.filter_log_events(logGroupName="g", logStreamNames=["json"], filterPattern=pattern)
            return [json.loads(e["message"])["latency"] for e in r["events"]]

        self.assertEqual(levels('{ $.level = "ERROR" }'), [900, 30])
        self.assertEqual(levels("{ $.latency > 100 }"), [900])
        self.assertEqual(levels('{ ($.level = "ERROR") && ($.user.id = 2) }'), [30])
        self.assertEqual(levels('{ $.level = "INFO" || $.latency >= 900 }'), [900, 20])
        self.assertEqual(levels("{ $.retry IS TRUE }"), [30])
        self.assertEqual(levels("{ $.retry NOT EXISTS }"), [900, 20])
        self.assertEqual(levels('{ $.level = "ERR*" }'), [900, 30])
        # Plain-text lines of the group never match a JSON pattern.
        r = self.logs.filter_log_events(logGroupName="g", filterPattern='{ $.level = "ERROR" }')
        self.assertEqual({e["logStreamName"] for e in r["events"]}, {"json"})

    def test_streams_and_time(self):
        self.assertEqual(self.messages(logStreamNames=["web/2"]), ["[ERROR] Exiting now", "[INFO] started",
                                                                   'say "hi" there'])
        self.assertEqual(len(self.messages(logStreamNamePrefix="web/")), 7)
        self.assertEqual(self.messages(logStreamNamePrefix="worker", filterPattern="ERROR"), ["[ERROR] job failed"])
        self.assertEqual(self.messages(startTime=self.t0 + 3000), ["Failed to connect to db"])
        self.assertEqual(len(self.messages(startTime=self.t0, endTime=self.t0 + 1000)), 3)
        self.assertAwsError("InvalidParameterException", self.logs.filter_log_events, logGroupName="g",
                            logStreamNames=["web/1"], logStreamNamePrefix="web")
        self.assertAwsError("ResourceNotFoundException", self.logs.filter_log_events, logGroupName="missing")

    def test_paging(self):
        r = self.logs.filter_log_events(logGroupName="g", limit=2)
        self.assertEqual(len(r["events"]), 2)
        self.assertIn("nextToken", r)
        paginator = self.logs.get_paginator("filter_log_events")
        pages = list(paginator.paginate(logGroupName="g", PaginationConfig={"PageSize": 4}))
        self.assertEqual([len(p["events"]) for p in pages], [4, 4, 1])
        ids = [e["eventId"] for p in pages for e in p["events"]]
        self.assertEqual(len(set(ids)), 9)
        pages = list(paginator.paginate(logGroupName="g", filterPattern="ERROR", PaginationConfig={"PageSize": 1}))
        self.assertEqual(sum(len(p["events"]) for p in pages), 3)


class TagsTest(LogsTestCase):
    def test_new_api(self):
        self.logs.create_log_group(logGroupName="g", tags={"a": "1"})
        arn = group_arn("g")
        self.logs.tag_resource(resourceArn=arn, tags={"b": "2", "a": "one"})
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)["tags"], {"a": "one", "b": "2"})
        self.logs.untag_resource(resourceArn=arn, tagKeys=["a"])
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=arn)["tags"], {"b": "2"})
        self.assertAwsError("ResourceNotFoundException", self.logs.list_tags_for_resource,
                            resourceArn=group_arn("missing"))
        self.assertAwsError("InvalidParameterException", self.logs.tag_resource,
                            resourceArn="arn:aws:ecs:us-east-1:000000000000:cluster/x", tags={"a": "b"})
        self.assertAwsError("InvalidParameterException", self.logs.tag_resource, resourceArn=arn,
                            tags={"aws:reserved": "x"})
        self.assertAwsError("TooManyTagsException", self.logs.tag_resource, resourceArn=arn,
                            tags={f"k{i}": "v" for i in range(50)})

    def test_legacy_api(self):
        self.logs.create_log_group(logGroupName="g")
        self.logs.tag_log_group(logGroupName="g", tags={"x": "1", "y": "2"})
        self.assertEqual(self.logs.list_tags_log_group(logGroupName="g")["tags"], {"x": "1", "y": "2"})
        self.logs.untag_log_group(logGroupName="g", tags=["x"])
        self.assertEqual(self.logs.list_tags_log_group(logGroupName="g")["tags"], {"y": "2"})
        self.assertEqual(self.logs.list_tags_for_resource(resourceArn=group_arn("g"))["tags"], {"y": "2"})
        self.assertAwsError("ResourceNotFoundException", self.logs.list_tags_log_group, logGroupName="missing")
        self.assertAwsError("ResourceNotFoundException", self.logs.tag_log_group, logGroupName="missing",
                            tags={"a": "b"})


class RegionAndCliTest(LogsTestCase):
    def test_region_isolation(self):
        west = self.server.client("logs", region="eu-west-1")
        self.make_stream("g", "s")
        self.put("g", "s", ["east"])
        self.assertEqual(west.describe_log_groups()["logGroups"], [])
        self.assertAwsError("ResourceNotFoundException", west.get_log_events, logGroupName="g", logStreamName="s")
        west.create_log_group(logGroupName="g")
        west.create_log_stream(logGroupName="g", logStreamName="s")
        west.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "west"}])
        self.assertEqual(west.describe_log_groups()["logGroups"][0]["arn"], group_arn("g", "eu-west-1") + ":*")
        self.assertEqual([e["message"] for e in west.get_log_events(logGroupName="g", logStreamName="s")["events"]],
                         ["west"])
        east = self.logs.get_log_events(logGroupName="g", logStreamName="s")["events"]
        self.assertEqual([e["message"] for e in east], ["east"])
        # A group ARN of another region is not found from here.
        self.assertAwsError("ResourceNotFoundException", self.logs.list_tags_for_resource,
                            resourceArn=group_arn("g", "eu-west-1"))

    def test_aws_cli(self):
        self.server.aws("logs", "create-log-group", "--log-group-name", "/cli/group")
        self.server.aws("logs", "create-log-stream", "--log-group-name", "/cli/group", "--log-stream-name", "s1")
        t = now_ms()
        events = json.dumps([{"timestamp": t, "message": "hello from the cli"},
                             {"timestamp": t + 1, "message": "ERROR second line"}])
        out = json.loads(self.server.aws("logs", "put-log-events", "--log-group-name", "/cli/group",
                                         "--log-stream-name", "s1", "--log-events", events).stdout)
        self.assertIn("nextSequenceToken", out)
        got = json.loads(self.server.aws("logs", "get-log-events", "--log-group-name", "/cli/group",
                                         "--log-stream-name", "s1", "--start-from-head").stdout)
        self.assertEqual([e["message"] for e in got["events"]], ["hello from the cli", "ERROR second line"])
        got = json.loads(self.server.aws("logs", "filter-log-events", "--log-group-name", "/cli/group",
                                         "--filter-pattern", "ERROR").stdout)
        self.assertEqual([e["message"] for e in got["events"]], ["ERROR second line"])
        groups = json.loads(self.server.aws("logs", "describe-log-groups").stdout)["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/cli/group"])
        p = self.server.aws("logs", "create-log-group", "--log-group-name", "/cli/group", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("ResourceAlreadyExistsException", p.stderr)


class LogsPersistenceTest(unittest.TestCase):
    def setUp(self):
        self.server = GantryServer().start()

    def tearDown(self):
        self.server.cleanup()

    def test_restart_keeps_everything(self):
        logs = self.server.client("logs")
        logs.create_log_group(logGroupName="p", tags={"k": "v"})
        logs.put_retention_policy(logGroupName="p", retentionInDays=30)
        logs.create_log_stream(logGroupName="p", logStreamName="s")
        t = now_ms() - 1000
        logs.put_log_events(logGroupName="p", logStreamName="s",
                            logEvents=[{"timestamp": t + i, "message": f"line {i}"} for i in range(5)])
        before = (logs.describe_log_groups()["logGroups"], logs.describe_log_streams(logGroupName="p")["logStreams"],
                  logs.get_log_events(logGroupName="p", logStreamName="s")["events"])
        self.server.restart()
        logs = self.server.client("logs")
        after = (logs.describe_log_groups()["logGroups"], logs.describe_log_streams(logGroupName="p")["logStreams"],
                 logs.get_log_events(logGroupName="p", logStreamName="s")["events"])
        self.assertEqual(before, after)
        self.assertEqual(logs.list_tags_for_resource(resourceArn=group_arn("p"))["tags"], {"k": "v"})
        # Writing continues where it stopped.
        logs.put_log_events(logGroupName="p", logStreamName="s", logEvents=[{"timestamp": now_ms(), "message": "more"}])
        self.assertEqual(len(logs.get_log_events(logGroupName="p", logStreamName="s")["events"]), 6)


if __name__ == "__main__":
    unittest.main()
