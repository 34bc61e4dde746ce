"""EventBridge Scheduler firing on the manual clock: cron() in a time zone across DST changes (a skipped wall time
does not run, a repeated one runs once), at() one-time schedules with ActionAfterCompletion DELETE, rate() with
StartDate/EndDate, FlexibleTimeWindow offsets, DISABLED schedules; and (root and runc) deliveries as the
schedule's role: a Lambda function invoked with Scheduler's context attributes in its input, a role without
lambda:InvokeFunction failing, an ECS task started. The instants are written out by hand in UTC."""
import calendar
import json
import time
import unittest

from harness import ACCOUNT, REGION, ServerTestCase
from test_ecs_tasks import CLUSTER, TaskServerTestCase
from test_events import ClockMixin, EchoFunctionMixin, FN, can_run_containers

SCHEDULER_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler-role"
OFF = {"Mode": "OFF"}


class SchedulerFiringTest(ClockMixin, ServerTestCase):
    server_args = ("--clock", "manual")

    def setUp(self):
        super().setUp()
        self.sch = self.server.client("scheduler")
        self.target = {"Arn": FN + "nothing-here", "RoleArn": ROLE}

    def create(self, name, expression, **kw):
        kw.setdefault("FlexibleTimeWindow", OFF)
        kw.setdefault("Target", self.target)
        return self.sch.create_schedule(Name=name, ScheduleExpression=expression, **kw)["ScheduleArn"]

    def fired_at(self, iso):
        return self.clock({"set": iso})["fired"]

    def test_cron_in_new_york_across_spring_forward_and_fall_back(self):
        self.fired_at("2027-03-12T00:00:00Z")
        self.create("two-am", "cron(0 2 * * ? *)", ScheduleExpressionTimezone="America/New_York")
        self.assertEqual(self.fired_at("2027-03-12T06:59:59Z"), 0)
        self.assertEqual(self.fired_at("2027-03-12T07:00:00Z"), 1)   # 02:00 EST
        self.assertEqual(self.fired_at("2027-03-13T07:00:00Z"), 1)   # 02:00 EST
        self.assertEqual(self.fired_at("2027-03-15T05:59:59Z"), 0)   # 2027-03-14 02:00 does not exist: skipped
        self.assertEqual(self.fired_at("2027-03-15T06:00:00Z"), 1)   # 02:00 EDT
        self.sch.delete_schedule(Name="two-am")
        self.fired_at("2027-11-06T12:00:00Z")
        self.create("half-past-one", "cron(30 1 * * ? *)", ScheduleExpressionTimezone="America/New_York")
        self.assertEqual(self.fired_at("2027-11-07T05:29:59Z"), 0)
        self.assertEqual(self.fired_at("2027-11-07T05:30:00Z"), 1)   # 01:30 EDT, the first of two
        self.assertEqual(self.fired_at("2027-11-08T06:29:59Z"), 0)   # not again at 01:30 EST (06:30Z)
        self.assertEqual(self.fired_at("2027-11-08T06:30:00Z"), 1)

    def test_cron_in_kolkata_and_sydney(self):
        self.fired_at("2027-01-01T00:00:00Z")
        self.create("kolkata", "cron(0 9 ? * MON *)", ScheduleExpressionTimezone="Asia/Kolkata")
        self.create("sydney", "cron(0 9 1 * ? *)", ScheduleExpressionTimezone="Australia/Sydney")
        self.assertEqual(self.fired_at("2027-01-04T03:29:59Z"), 0)
        self.assertEqual(self.fired_at("2027-01-04T03:30:00Z"), 1)   # Monday 09:00 +05:30
        # Sydney: 2027-02-01 09:00 AEDT (+11) = 2027-01-31T22:00Z; 2027-05-01 09:00 AEST (+10) = 04-30T23:00Z.
        self.assertEqual(self.fired_at("2027-01-31T21:59:59Z"), 3)   # the Mondays January 11, 18 and 25
        self.sch.delete_schedule(Name="kolkata")
        self.assertEqual(self.fired_at("2027-01-31T22:00:00Z"), 1)
        self.fired_at("2027-04-30T22:59:59Z")
        self.assertEqual(self.fired_at("2027-04-30T23:00:00Z"), 1)

    def test_at_once_then_deleted(self):
        self.fired_at("2027-06-01T00:00:00Z")
        self.create("once", "at(2027-06-01T10:00:00)", ScheduleExpressionTimezone="Europe/Berlin",
                    ActionAfterCompletion="DELETE")
        self.create("once-kept", "at(2027-06-01T10:00:00)")
        self.assertEqual(self.fired_at("2027-06-01T07:59:59Z"), 0)
        self.assertEqual(self.fired_at("2027-06-01T08:00:00Z"), 1)   # 10:00 CEST
        self.assertAwsError("ResourceNotFoundException", self.sch.get_schedule, Name="once", status=404)
        self.assertEqual(self.fired_at("2027-06-01T10:00:00Z"), 1)   # 10:00 UTC
        self.assertEqual(self.sch.get_schedule(Name="once-kept")["State"], "ENABLED")  # NONE: kept
        self.assertEqual(self.fired_at("2027-06-09T00:00:00Z"), 0)
        h = self.health_events("scheduler")
        self.assertEqual((h["completed"], h["deleted"]), (2, 1))

    def test_rate_with_start_and_end_dates(self):
        now = self.clock()["now"]
        start = calendar.timegm(time.strptime(now[:19], "%Y-%m-%dT%H:%M:%S"))
        self.create("window", "rate(10 minutes)", StartDate=start + 3600, EndDate=start + 3600 + 1800,
                    ActionAfterCompletion="DELETE")
        self.assertEqual(self.advance(3600)["fired"], 0)
        self.assertEqual(self.advance(1800)["fired"], 3)  # start+10, +20, +30 minutes (the end is inclusive)
        self.assertAwsError("ResourceNotFoundException", self.sch.get_schedule, Name="window", status=404)

    def test_flexible_window_and_disabled(self):
        self.fired_at("2027-02-01T00:00:00Z")
        self.create("flex", "cron(0 12 * * ? *)", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15})
        self.create("off", "cron(0 12 * * ? *)", State="DISABLED")
        self.assertEqual(self.fired_at("2027-02-01T11:59:59Z"), 0)
        got = self.fired_at("2027-02-01T12:15:00Z")
        self.assertEqual(got, 1, "the flexible schedule fires once within its 15 minutes; the disabled one not")
        # The same offset every day: find it to the second on day 2, then day 3 fires at that second, not before.
        self.fired_at("2027-02-02T11:59:59Z")
        offset = next(o for o in range(900) if self.fired_at(f"2027-02-02T12:{o // 60:02d}:{o % 60:02d}Z"))
        if offset:
            self.assertEqual(self.fired_at(f"2027-02-03T12:{(offset - 1) // 60:02d}:{(offset - 1) % 60:02d}Z"), 0)
        self.assertEqual(self.fired_at(f"2027-02-03T12:{offset // 60:02d}:{offset % 60:02d}Z"), 1)
        self.fired_at("2027-02-04T11:59:59Z")
        self.sch.update_schedule(Name="off", ScheduleExpression="cron(0 12 * * ? *)", FlexibleTimeWindow=OFF,
                                 Target=self.target, State="ENABLED")
        self.assertEqual(self.fired_at("2027-02-04T12:00:00Z"), 1 + (offset == 0))


@unittest.skipUnless(can_run_containers(), "needs root and runc")
class SchedulerDeliveryTest(ClockMixin, EchoFunctionMixin, TaskServerTestCase):
    server_args = ("--clock", "manual", "--lambda-idle-seconds", "60")

    def setUp(self):
        super().setUp()
        self.sch = self.server.client("scheduler")
        self.create_echo()
        self.iam.create_role(RoleName="scheduler-role", AssumeRolePolicyDocument=SCHEDULER_TRUST)
        self.iam.put_role_policy(RoleName="scheduler-role", PolicyName="invoke", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": FN + "echo*"}]}))

    def test_lambda_invoked_as_the_schedules_role(self):
        arn = self.sch.create_schedule(
            Name="hourly", ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": FN + "echo", "RoleArn": ROLE,
                    "Input": json.dumps({"schedule": "<aws.scheduler.schedule-arn>",
                                         "at": "<aws.scheduler.scheduled-time>", "n": 1})})["ScheduleArn"]
        self.assertEqual(self.advance(7200)["fired"], 2)
        got = self.invocations(2)
        time.sleep(1)
        self.assertEqual(len(self.invocations(2)), 2)
        self.assertEqual({e["schedule"] for e in got}, {arn})
        self.assertEqual({e["n"] for e in got}, {1})
        self.assertEqual(len({e["at"] for e in got}), 2)
        # Without lambda:InvokeFunction the role cannot invoke: the delivery fails and nothing runs.
        self.iam.delete_role_policy(RoleName="scheduler-role", PolicyName="invoke")
        base = self.settle()
        self.advance(3600)
        h = self.settle()
        self.assertEqual(h["failed"] - base["failed"], 1)
        self.assertIn("is not authorized to perform: lambda:InvokeFunction", self.server.read_log())
        time.sleep(1)
        self.assertEqual(len(self.invocations(2)), 2)

    def test_ecs_task_started_as_the_schedules_role(self):
        td = self.register("schedjob", "echo from the scheduler; exit 0")
        self.iam.put_role_policy(RoleName="scheduler-role", PolicyName="run", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecs:RunTask", "iam:PassRole"],
                                                    "Resource": "*"}]}))
        self.sch.create_schedule(
            Name="job", ScheduleExpression="at(2030-01-01T00:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={"Arn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}", "RoleArn": ROLE,
                    "EcsParameters": {"TaskDefinitionArn": td, "LaunchType": "FARGATE", "NetworkConfiguration": {
                        "awsvpcConfiguration": {"Subnets": self.subnets(), "AssignPublicIp": "DISABLED"}}}})
        self.assertEqual(self.clock({"set": "2030-01-01T00:00:00Z"})["fired"], 1)
        self.settle()
        arns = self.wait_for("the scheduled task", lambda: self.ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")[
            "taskArns"] + self.ecs.list_tasks(cluster=CLUSTER)["taskArns"])
        self.assert_stopped_ok(self.wait_stopped(arns[:1])[0])
        self.assertAwsError("ResourceNotFoundException", self.sch.get_schedule, Name="job", status=404)


if __name__ == "__main__":
    unittest.main()
