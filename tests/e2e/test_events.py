"""EventBridge (CloudWatch Events) end to end with boto3 and the aws CLI: rules, targets, buses, tags,
PutEvents, TestEventPattern and AWS's errors; scheduled rules firing on the manual clock (POST /_gantry/clock),
once per slot, stopped by DisableRule; Lambda targets invoked only with the function's permission for the
rule; ECS targets running tasks as the target's role; ECS task state change events matched by rules.
The API tests run anywhere; the delivery tests need root and runc (else skipped)."""
import io
import json
import os
import shutil
import sys
import time
import unittest
import urllib.error
import urllib.request
import zipfile

from botocore.config import Config

from harness import ACCOUNT, REGION, ServerTestCase
from test_ecs_tasks import CLUSTER, TaskServerTestCase

RUNTIME = "python%d.%d" % sys.version_info[:2]
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EVENTS_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"


def can_run_containers():
    return os.geteuid() == 0 and shutil.which("runc") is not None


class ClockMixin:
    def clock(self, body=None):
        """GET or POST /_gantry/clock; the answer's JSON."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server.endpoint + "/_gantry/clock", data=data,
                                     method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def advance(self, seconds):
        return self.clock({"advance_seconds": seconds})

    def health_events(self, section="events"):
        """A section of GET /_gantry/health: "events" (EventBridge's counters) or "scheduler"."""
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/health", timeout=10) as r:
            return json.load(r)[section]

    def settle(self, timeout=10):
        """Waits until the engine has no delivery queued or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            h = self.health_events()
            if h["queued"] == 0:
                return h
            time.sleep(0.05)
        self.fail(f"deliveries still queued after {timeout}s: {h}")


class EventsApiTest(ClockMixin, ServerTestCase):
    server_args = ("--clock", "manual")

    def setUp(self):
        super().setUp()
        self.events = self.server.client("events")

    def test_put_describe_list_rules(self):
        arn = self.events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)",
                                   Description="batch", Tags=[{"Key": "team", "Value": "data"}])["RuleArn"]
        self.assertEqual(arn, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/every-5")
        got = self.events.describe_rule(Name="every-5")
        self.assertEqual((got["Name"], got["Arn"], got["ScheduleExpression"], got["State"], got["Description"],
                          got["EventBusName"], got["CreatedBy"]),
                         ("every-5", arn, "rate(5 minutes)", "ENABLED", "batch", "default", ACCOUNT))
        self.events.put_rule(Name="on-ecs", EventPattern=json.dumps({"source": ["aws.ecs"]}), State="DISABLED")
        for i in range(3):
            self.events.put_rule(Name=f"cron-{i}", ScheduleExpression="cron(0/5 * * * ? *)")
        names = [r["Name"] for r in self.events.list_rules()["Rules"]]
        self.assertEqual(names, ["cron-0", "cron-1", "cron-2", "every-5", "on-ecs"])
        page = self.events.list_rules(NamePrefix="cron-", Limit=2)
        self.assertEqual([r["Name"] for r in page["Rules"]], ["cron-0", "cron-1"])
        rest = self.events.list_rules(NamePrefix="cron-", Limit=2, NextToken=page["NextToken"])
        self.assertEqual([r["Name"] for r in rest["Rules"]], ["cron-2"])
        self.assertNotIn("NextToken", rest)
        # PutRule replaces the rule: what it omits is gone.
        self.events.put_rule(Name="every-5", ScheduleExpression="rate(1 hour)")
        got = self.events.describe_rule(Name="every-5")
        self.assertEqual(got["ScheduleExpression"], "rate(1 hour)")
        self.assertNotIn("Description", got)
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=arn)["Tags"], [{"Key": "team", "Value": "data"}])
        self.events.disable_rule(Name="every-5")
        self.assertEqual(self.events.describe_rule(Name="every-5")["State"], "DISABLED")
        self.events.enable_rule(Name="every-5")
        self.assertEqual(self.events.describe_rule(Name="every-5")["State"], "ENABLED")

    def test_rule_errors_in_aws_words(self):
        for bad in ("rate(5 minute)", "rate(1 minutes)", "rate(0 minutes)", "cron(0 12 * * * *)",
                    "cron(0/5 * * * ?)", "every 5 minutes"):
            msg = self.assertAwsError("ValidationException", self.events.put_rule, Name="r", ScheduleExpression=bad)
            self.assertEqual(msg, "Parameter ScheduleExpression is not valid.", bad)
        msg = self.assertAwsError("ValidationException", self.events.put_rule, Name="r")
        self.assertEqual(msg, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
        self.assertAwsError("InvalidEventPatternException", self.events.put_rule, Name="r",
                            EventPattern=json.dumps({"source": "aws.ecs"}))
        self.assertAwsError("InvalidEventPatternException", self.events.put_rule, Name="r", EventPattern="{not json")
        self.assertAwsError("ValidationException", self.events.put_rule, Name="bad name!", ScheduleExpression="rate(1 day)")
        self.events.create_event_bus(Name="orders")
        msg = self.assertAwsError("ValidationException", self.events.put_rule, Name="r", EventBusName="orders",
                                  ScheduleExpression="rate(1 day)")
        self.assertIn("default event bus", msg)
        msg = self.assertAwsError("ResourceNotFoundException", self.events.describe_rule, Name="nope")
        self.assertEqual(msg, "Rule nope does not exist on EventBus default.")
        self.assertAwsError("ResourceNotFoundException", self.events.put_rule, Name="r", EventBusName="nobus",
                            EventPattern=json.dumps({"source": ["x"]}))
        # Nothing was stored by the refused calls.
        self.assertEqual(self.events.list_rules()["Rules"], [])

    def test_targets_validation_and_listing(self):
        self.events.put_rule(Name="r", ScheduleExpression="rate(1 day)")
        role = f"arn:aws:iam::{ACCOUNT}:role/events-ecs"
        r = self.events.put_targets(Rule="r", Targets=[
            {"Id": "fn", "Arn": FN + "worker", "Input": json.dumps({"k": 1}),
             "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}},
            {"Id": "task", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c", "RoleArn": role,
             "EcsParameters": {"TaskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/job:1",
                               "TaskCount": 1, "LaunchType": "FARGATE"}}])
        self.assertEqual((r["FailedEntryCount"], r["FailedEntries"]), (0, []))
        targets = self.events.list_targets_by_rule(Rule="r")["Targets"]
        self.assertEqual([t["Id"] for t in targets], ["fn", "task"])
        self.assertEqual(targets[0]["RetryPolicy"], {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600})
        self.assertEqual(targets[1]["EcsParameters"]["TaskCount"], 1)
        self.assertEqual(self.events.list_rule_names_by_target(TargetArn=FN + "worker")["RuleNames"], ["r"])
        page = self.events.list_targets_by_rule(Rule="r", Limit=1)
        self.assertEqual([t["Id"] for t in page["Targets"]], ["fn"])
        self.assertEqual([t["Id"] for t in self.events.list_targets_by_rule(Rule="r", NextToken=page["NextToken"])["Targets"]],
                         ["task"])
        # Refused, changing nothing: other kinds of targets, DLQs, two inputs, bad JSON, ECS without a role.
        msg = self.assertAwsError("UnsupportedOperation", self.events.put_targets, Rule="r",
                                  Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue"}], status=501)
        self.assertIn("Lambda functions and ECS clusters only", msg)
        self.assertAwsError("UnsupportedOperation", self.events.put_targets, Rule="r", status=501, Targets=[
            {"Id": "fn", "Arn": FN + "worker", "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}}])
        self.assertAwsError("ValidationException", self.events.put_targets, Rule="r", Targets=[
            {"Id": "fn", "Arn": FN + "worker", "Input": "{}", "InputPath": "$.detail"}])
        self.assertAwsError("ValidationException", self.events.put_targets, Rule="r", Targets=[
            {"Id": "fn", "Arn": FN + "worker", "Input": "{nope"}])
        msg = self.assertAwsError("ValidationException", self.events.put_targets, Rule="r", Targets=[
            {"Id": "t2", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/c",
             "EcsParameters": {"TaskDefinitionArn": "job"}}])
        self.assertIn("RoleArn is required", msg)
        self.assertAwsError("ResourceNotFoundException", self.events.put_targets, Rule="missing",
                            Targets=[{"Id": "fn", "Arn": FN + "worker"}])
        self.assertEqual(len(self.events.list_targets_by_rule(Rule="r")["Targets"]), 2)
        # Five targets at most.
        self.assertAwsError("LimitExceededException", self.events.put_targets, Rule="r",
                            Targets=[{"Id": f"f{i}", "Arn": FN + f"w{i}"} for i in range(4)])
        # DeleteRule refuses while targets remain, unless forced.
        msg = self.assertAwsError("ValidationException", self.events.delete_rule, Name="r")
        self.assertEqual(msg, "Rule can't be deleted since it has targets.")
        # Force is for rules AWS services manage: it does not delete a rule of yours that has targets.
        self.assertAwsError("ValidationException", self.events.delete_rule, Name="r", Force=True)
        self.events.remove_targets(Rule="r", Ids=["task"])
        self.assertEqual([t["Id"] for t in self.events.list_targets_by_rule(Rule="r")["Targets"]], ["fn"])
        self.events.remove_targets(Rule="r", Ids=["fn"])
        self.events.delete_rule(Name="r")
        self.assertAwsError("ResourceNotFoundException", self.events.describe_rule, Name="r")
        self.assertEqual(self.events.list_rule_names_by_target(TargetArn=FN + "worker")["RuleNames"], [])

    def test_event_buses_and_tags(self):
        created = self.events.create_event_bus(Name="orders", Description="shop", Tags=[{"Key": "a", "Value": "1"}])
        bus_arn = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"
        self.assertEqual(created["EventBusArn"], bus_arn)
        self.assertAwsError("ResourceAlreadyExistsException", self.events.create_event_bus, Name="orders")
        self.assertAwsError("ResourceAlreadyExistsException", self.events.create_event_bus, Name="default")
        got = self.events.describe_event_bus(Name="orders")
        self.assertEqual((got["Name"], got["Arn"], got["Description"]), ("orders", bus_arn, "shop"))
        self.assertEqual(self.events.describe_event_bus()["Arn"], f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default")
        self.assertEqual([b["Name"] for b in self.events.list_event_buses()["EventBuses"]], ["default", "orders"])
        rule = self.events.put_rule(Name="big", EventBusName=bus_arn,
                                    EventPattern=json.dumps({"detail": {"total": [{"numeric": [">", 100]}]}}))["RuleArn"]
        self.assertEqual(rule, f"arn:aws:events:{REGION}:{ACCOUNT}:rule/orders/big")
        self.assertEqual(self.events.describe_rule(Name="big", EventBusName="orders")["EventBusName"], "orders")
        self.events.tag_resource(ResourceARN=rule, Tags=[{"Key": "x", "Value": "y"}])
        self.events.tag_resource(ResourceARN=rule, Tags=[{"Key": "x", "Value": "z"}, {"Key": "w", "Value": ""}])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=rule)["Tags"],
                         [{"Key": "x", "Value": "z"}, {"Key": "w", "Value": ""}])
        self.events.untag_resource(ResourceARN=rule, TagKeys=["x"])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=rule)["Tags"], [{"Key": "w", "Value": ""}])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=bus_arn)["Tags"], [{"Key": "a", "Value": "1"}])
        self.assertAwsError("ResourceNotFoundException", self.events.list_tags_for_resource,
                            ResourceARN=f"arn:aws:events:{REGION}:{ACCOUNT}:rule/none")
        self.assertAwsError("ValidationException", self.events.delete_event_bus, Name="default")
        self.assertAwsError("ValidationException", self.events.delete_event_bus, Name="orders")  # it has a rule
        self.events.delete_rule(Name="big", EventBusName="orders")
        self.events.delete_event_bus(Name="orders")
        self.assertAwsError("ResourceNotFoundException", self.events.describe_event_bus, Name="orders")
        self.assertAwsError("UnsupportedOperation", self.events.create_event_bus, Name="aws.partner/x/y",
                            EventSourceName="aws.partner/x/y", status=501)

    def test_test_event_pattern(self):
        event = {"version": "0", "id": "1", "detail-type": "ECS Task State Change", "source": "aws.ecs",
                 "account": ACCOUNT, "time": "2026-11-28T08:00:00Z", "region": REGION, "resources": [],
                 "detail": {"lastStatus": "STOPPED", "containers": [{"name": "a", "exitCode": 0},
                                                                    {"name": "b", "exitCode": 1}],
                            "group": "family:job", "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod"}}
        cases = [
            ({"source": ["aws.ecs"]}, True),
            ({"source": ["aws.ec2"]}, False),
            ({"detail": {"lastStatus": ["STOPPED"], "containers": {"exitCode": [{"numeric": [">", 0]}]}}}, True),
            ({"detail": {"containers": {"exitCode": [{"numeric": [">", 1]}]}}}, False),
            ({"detail": {"group": [{"prefix": "family:"}]}}, True),
            ({"detail": {"clusterArn": [{"suffix": "/prod"}]}}, True),
            ({"detail": {"lastStatus": [{"anything-but": ["RUNNING", "PENDING"]}]}}, True),
            ({"detail": {"lastStatus": [{"equals-ignore-case": "stopped"}]}}, True),
            ({"detail": {"stoppedReason": [{"exists": False}]}}, True),
            ({"detail": {"stoppedReason": [{"exists": True}]}}, False),
            ({"detail": {"group": [{"wildcard": "family:*b"}]}}, True),
            ({"$or": [{"source": ["nope"]}, {"detail-type": ["ECS Task State Change"]}]}, True),
        ]
        for pattern, expected in cases:
            got = self.events.test_event_pattern(EventPattern=json.dumps(pattern), Event=json.dumps(event))["Result"]
            self.assertEqual(got, expected, pattern)
        self.assertAwsError("InvalidEventPatternException", self.events.test_event_pattern,
                            EventPattern=json.dumps({"source": [{"numeric": ["<"]}]}), Event=json.dumps(event))
        missing = dict(event)
        del missing["account"]
        self.assertAwsError("ValidationException", self.events.test_event_pattern,
                            EventPattern=json.dumps({"source": ["aws.ecs"]}), Event=json.dumps(missing))

    def test_put_events_partial_failure(self):
        self.events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
        r = self.events.put_events(Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 5})},
            {"Source": "shop", "DetailType": "Order", "Detail": "not json"},
            {"Source": "aws.ecs", "DetailType": "x", "Detail": "{}"},
            {"DetailType": "Order", "Detail": "{}"},
            {"Source": "shop", "DetailType": "Order", "Detail": "{}", "EventBusName": "nobus"},
        ])
        self.assertEqual(r["FailedEntryCount"], 4)
        self.assertRegex(r["Entries"][0]["EventId"], r"^[0-9a-f-]{36}$")
        self.assertEqual([e.get("ErrorCode") for e in r["Entries"][1:]],
                         ["MalformedDetail", "NotAuthorizedForSourceException", "InvalidArgument",
                          "ResourceNotFoundException"])
        self.assertGreaterEqual(self.settle()["matched"], 1)
        self.assertAwsError("ValidationException", self.events.put_events, Entries=[
            {"Source": "shop", "DetailType": "big", "Detail": json.dumps({"x": "y" * 262144})}])

    def test_aws_cli(self):
        out = self.server.aws("events", "put-rule", "--name", "cli-rule", "--schedule-expression", "cron(0 12 * * ? *)").stdout
        self.assertEqual(json.loads(out)["RuleArn"], f"arn:aws:events:{REGION}:{ACCOUNT}:rule/cli-rule")
        rules = json.loads(self.server.aws("events", "list-rules").stdout)["Rules"]
        self.assertEqual([(r["Name"], r["ScheduleExpression"]) for r in rules], [("cli-rule", "cron(0 12 * * ? *)")])

    def test_manual_clock_fires_each_slot_once(self):
        # A target that cannot be delivered to (no such function) still shows each firing in the counters.
        start = self.clock()["now"]
        self.events.put_rule(Name="each-minute", ScheduleExpression="rate(1 minute)")
        self.events.put_targets(Rule="each-minute", Targets=[{"Id": "fn", "Arn": FN + "missing"}])
        base = self.settle()
        self.assertEqual(self.advance(59)["fired"], 0)
        self.assertEqual(self.advance(1)["fired"], 1)
        moved = self.advance(300)
        self.assertEqual(moved["fired"], 5)
        self.assertGreater(moved["now"], start)
        h = self.settle()
        self.assertEqual(h["matched"] - base["matched"], 6)
        self.assertEqual(h["failed"] - base["failed"], 6)  # the function does not exist: not retried
        self.assertEqual(h["dropped"] - base["dropped"], 6)
        self.assertIn("events: rule arn:aws:events", self.server.read_log())
        self.events.disable_rule(Name="each-minute")
        self.assertEqual(self.advance(600)["fired"], 0)
        self.events.enable_rule(Name="each-minute")
        self.assertEqual(self.advance(60)["fired"], 1)
        self.events.remove_targets(Rule="each-minute", Ids=["fn"])
        self.events.delete_rule(Name="each-minute")
        self.assertEqual(self.advance(600)["fired"], 0)

    def test_manual_clock_cron_slots_and_set(self):
        self.clock({"set": "2027-01-31T23:00:00Z"})
        self.assertEqual(self.clock()["now"], "2027-01-31T23:00:00.000Z")
        # 23:00 on the last day of every month: January 31st, then February 28th (2027 is not a leap year).
        self.events.put_rule(Name="month-end", ScheduleExpression="cron(0 23 L * ? *)")
        self.assertEqual(self.clock({"set": "2027-02-27T23:59:00Z"})["fired"], 0)
        self.assertEqual(self.clock({"set": "2027-02-28T23:00:00Z"})["fired"], 1)
        self.assertEqual(self.clock({"set": "2027-12-31T23:30:00Z"})["fired"], 10)
        for bad in ({"advance_seconds": -5}, {"set": "yesterday"}, {"nothing": 1}):
            with self.assertRaises(urllib.error.HTTPError) as cm:
                self.clock(bad)
            self.assertEqual(cm.exception.code, 400)

    def test_clock_endpoint_absent_on_the_real_clock(self):
        from harness import GantryServer
        real = GantryServer().start()
        try:
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(real.endpoint + "/_gantry/clock", timeout=10)
            self.assertEqual(cm.exception.code, 404)
        finally:
            real.cleanup()


# --- deliveries (root and runc) --------------------------------------------------------------------------------
ECHO_EVENT = """
import json
def handler(event, context):
    print("EVENT " + json.dumps(event, sort_keys=True))
    return {"ok": True}
"""


def package(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.py", source)
    return buf.getvalue()


class EchoFunctionMixin:
    """A function `echo` that prints each event it gets (as `EVENT <json>`), and a reader of what it printed."""

    def create_echo(self):
        self.iam = self.server.client("iam")
        self.lam = self.server.client("lambda", config=Config(read_timeout=60))
        role = self.iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        self.iam.attach_role_policy(RoleName="fn-role",
                                    PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        self.lam.create_function(FunctionName="echo", Runtime=RUNTIME, Handler="app.handler", Role=role,
                                 Code={"ZipFile": package(ECHO_EVENT)})
        self.lam.get_waiter("function_active_v2").wait(FunctionName="echo", WaiterConfig={"Delay": 1, "MaxAttempts": 30})

    def invocations(self, expect, timeout=30):
        """The events the function printed, once there are `expect` of them."""
        found = []

        def read():
            nonlocal found
            try:
                evs = self.logs.filter_log_events(logGroupName="/aws/lambda/echo")["events"]
            except self.logs.exceptions.ResourceNotFoundException:
                return False
            found = [json.loads(e["message"].split("EVENT ", 1)[1]) for e in evs if "EVENT " in e["message"]]
            return len(found) >= expect
        self.wait_for(f"{expect} invocations of echo", read, timeout=timeout, interval=0.3)
        return found


@unittest.skipUnless(can_run_containers(), "needs root and runc")
class EventsDeliveryTest(ClockMixin, EchoFunctionMixin, TaskServerTestCase):
    server_args = ("--clock", "manual", "--lambda-idle-seconds", "60")

    def setUp(self):
        super().setUp()
        self.events = self.server.client("events")
        self.create_echo()

    def allow_rule(self, rule_arn, sid="events"):
        self.lam.add_permission(FunctionName="echo", StatementId=sid, Action="lambda:InvokeFunction",
                                Principal="events.amazonaws.com", SourceArn=rule_arn)

    def test_scheduled_rule_invokes_function_once_per_slot(self):
        rule = self.events.put_rule(Name="each-minute", ScheduleExpression="rate(1 minute)")["RuleArn"]
        self.allow_rule(rule)
        self.events.put_targets(Rule="each-minute", Targets=[{"Id": "echo", "Arn": FN + "echo"}])
        self.assertEqual(self.advance(180)["fired"], 3)
        got = self.invocations(3)
        time.sleep(1)
        self.assertEqual(len(self.invocations(3)), 3, "one invocation per slot, no more")
        for e in got:
            self.assertEqual((e["source"], e["detail-type"], e["resources"], e["detail"], e["account"], e["region"]),
                             ("aws.events", "Scheduled Event", [rule], {}, ACCOUNT, REGION))
        self.assertEqual(len({e["id"] for e in got}), 3)
        self.assertEqual(sorted({e["time"][17:] for e in got}), [got[0]["time"][17:]], "slots a minute apart")
        # DisableRule stops it.
        self.events.disable_rule(Name="each-minute")
        self.advance(300)
        time.sleep(1)
        self.assertEqual(len(self.invocations(3)), 3)

    def test_lambda_target_needs_the_functions_permission(self):
        self.events.put_rule(Name="no-permission", ScheduleExpression="rate(1 minute)")
        other = self.events.put_rule(Name="other", ScheduleExpression="rate(1 day)")["RuleArn"]
        self.allow_rule(other)  # allowed for another rule only
        self.events.put_targets(Rule="no-permission", Targets=[{"Id": "echo", "Arn": FN + "echo"}])
        base = self.settle()
        self.advance(60)
        h = self.settle()
        self.assertEqual(h["failed"] - base["failed"], 1)
        self.assertIn("does not allow it", self.server.read_log())
        with self.assertRaises(self.logs.exceptions.ResourceNotFoundException):
            self.logs.filter_log_events(logGroupName="/aws/lambda/echo")

    def test_input_transformer_and_put_events(self):
        rule = self.events.put_rule(Name="orders", EventPattern=json.dumps(
            {"source": ["shop"], "detail": {"total": [{"numeric": [">=", 100]}]}}))["RuleArn"]
        self.allow_rule(rule)
        self.events.put_targets(Rule="orders", Targets=[{"Id": "echo", "Arn": FN + "echo", "InputTransformer": {
            "InputPathsMap": {"total": "$.detail.total", "who": "$.detail.customer"},
            "InputTemplate": '{"order_total": <total>, "text": "<who> spent <total>", "rule": "<aws.events.rule-name>"}'}}])
        r = self.events.put_events(Entries=[
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 250, "customer": "Ann"})},
            {"Source": "shop", "DetailType": "Order", "Detail": json.dumps({"total": 5, "customer": "Bob"})}])
        self.assertEqual(r["FailedEntryCount"], 0)
        got = self.invocations(1)
        self.assertEqual(got[0], {"order_total": 250, "text": "Ann spent 250", "rule": "orders"})
        time.sleep(1)
        self.assertEqual(len(self.invocations(1)), 1, "the order of 5 does not match")

    def test_ecs_target_runs_the_task_as_its_role(self):
        td = self.register("evjob", "echo from the rule; exit 0")
        role = self.iam.create_role(RoleName="events-ecs", AssumeRolePolicyDocument=EVENTS_TRUST)["Role"]["Arn"]
        self.iam.put_role_policy(RoleName="events-ecs", PolicyName="run", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}))
        self.events.put_rule(Name="ecs-each-minute", ScheduleExpression="rate(1 minute)")
        self.events.put_targets(Rule="ecs-each-minute", Targets=[{
            "Id": "job", "Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}", "RoleArn": role,
            "Input": json.dumps({"containerOverrides": [{"name": "app", "environment": [{"name": "X", "value": "1"}]}]}),
            "EcsParameters": {"TaskDefinitionArn": td, "TaskCount": 1, "LaunchType": "FARGATE",
                              "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": self.subnets(),
                                                                               "AssignPublicIp": "DISABLED"}}}}])
        self.advance(60)
        self.settle()
        arns = self.wait_for("a task started by the rule", lambda: self.ecs.list_tasks(
            cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"] + self.ecs.list_tasks(cluster=CLUSTER)["taskArns"])
        task = self.wait_stopped(arns[:1])[0]
        self.assert_stopped_ok(task)
        self.assertEqual(task["startedBy"], "events-rule/ecs-each-minute")
        self.assertEqual(task["overrides"]["containerOverrides"][0]["environment"], [{"name": "X", "value": "1"}])
        # Without ecs:RunTask the role cannot start tasks: the delivery fails, nothing runs.
        self.iam.delete_role_policy(RoleName="events-ecs", PolicyName="run")
        base = self.settle()
        self.advance(60)
        h = self.settle()
        self.assertEqual(h["failed"] - base["failed"], 1)
        self.assertIn("is not authorized to perform: ecs:RunTask", self.server.read_log())
        self.assertEqual(len(self.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]), 1)

    def test_rule_on_stopped_task_with_nonzero_exit(self):
        rule = self.events.put_rule(Name="failed-tasks", EventPattern=json.dumps({
            "source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
            "detail": {"lastStatus": ["STOPPED"], "containers": {"exitCode": [{"numeric": [">", 0]}]}}}))["RuleArn"]
        self.allow_rule(rule)
        self.events.put_targets(Rule="failed-tasks", Targets=[{"Id": "echo", "Arn": FN + "echo"}])
        ok = self.run_to_stop(self.register("good", "exit 0"))
        bad = self.run_to_stop(self.register("bad", "exit 1"))
        got = self.invocations(1)
        time.sleep(1)
        got = self.invocations(1)
        self.assertEqual(len(got), 1, [e["detail"]["taskArn"] for e in got])
        e = got[0]
        self.assertEqual((e["source"], e["detail-type"], e["resources"]), ("aws.ecs", "ECS Task State Change",
                                                                          [bad["taskArn"]]))
        self.assertEqual(e["detail"]["lastStatus"], "STOPPED")
        self.assertEqual(e["detail"]["containers"][0]["exitCode"], 1)
        self.assertRegex(e["detail"]["stoppedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertNotEqual(ok["taskArn"], bad["taskArn"])


if __name__ == "__main__":
    unittest.main()
