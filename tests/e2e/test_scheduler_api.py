"""EventBridge Scheduler's API end to end with boto3 and the aws CLI: schedules (create, get, update as a whole
replacement, delete, list with filters and pages), schedule groups (the default one always there, deleting a
group deletes its schedules), tags on groups only, and AWS's errors: expressions, time zones, dates, time
windows, targets Gantry cannot deliver to (refused by name, 501), iam:PassRole of the target's role and the
scheduler:* actions on schedule and group ARNs. Every refused call changes nothing. The server runs on the
manual clock, so dates are checked against a time the test knows; nothing here needs the schedules to fire."""
import json
import urllib.request
from datetime import datetime, timedelta

from harness import ACCOUNT, REGION, ServerTestCase

FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/scheduler-invoke"
CLUSTER = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/jobs"
TASK_DEFINITION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/job:1"
SCHEDULE = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/"
GROUP = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/"
OFF = {"Mode": "OFF"}


class SchedulerApiTest(ServerTestCase):
    server_args = ("--clock", "manual")

    def setUp(self):
        super().setUp()
        self.scheduler = self.server.client("scheduler")

    def now(self):
        """The server's (manual) clock."""
        with urllib.request.urlopen(self.server.endpoint + "/_gantry/clock", timeout=10) as r:
            text = json.load(r)["now"]
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    def advance(self, seconds):
        req = urllib.request.Request(self.server.endpoint + "/_gantry/clock", method="POST",
                                     data=json.dumps({"advance_seconds": seconds}).encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def create(self, name, expression="rate(5 minutes)", target=None, **kwargs):
        return self.scheduler.create_schedule(Name=name, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
                                              Target=target or {"Arn": FN + "worker", "RoleArn": ROLE}, **kwargs)

    def names(self, **kwargs):
        return [(s["GroupName"], s["Name"]) for s in self.scheduler.list_schedules(**kwargs)["Schedules"]]

    def test_create_get_update_delete(self):
        now = self.now()
        # botocore sends timestamps to Scheduler in whole seconds.
        start = (now + timedelta(hours=1)).replace(microsecond=0)
        end = (now + timedelta(days=30)).replace(microsecond=0)
        arn = self.create("nightly", "cron(0 2 * * ? *)", Description="batch",
                          ScheduleExpressionTimezone="Europe/Berlin", StartDate=start, EndDate=end)["ScheduleArn"]
        self.assertEqual(arn, SCHEDULE + "default/nightly")
        got = self.scheduler.get_schedule(Name="nightly")
        self.assertEqual((got["Arn"], got["Name"], got["GroupName"], got["ScheduleExpression"],
                          got["ScheduleExpressionTimezone"], got["Description"], got["State"],
                          got["ActionAfterCompletion"], got["FlexibleTimeWindow"]),
                         (arn, "nightly", "default", "cron(0 2 * * ? *)", "Europe/Berlin", "batch", "ENABLED", "NONE",
                          OFF))
        # AWS's retry policy when the target names none: 24 hours, 185 attempts.
        self.assertEqual(got["Target"], {"Arn": FN + "worker", "RoleArn": ROLE, "RetryPolicy": {
            "MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}})
        self.assertEqual((got["StartDate"], got["EndDate"]), (start, end))
        self.assertEqual(got["CreationDate"], now)
        self.assertEqual(got["LastModificationDate"], now)
        self.assertNotIn("KmsKeyArn", got)
        # One name per group.
        msg = self.assertAwsError("ConflictException", self.create, "nightly", status=409)
        self.assertEqual(msg, "Schedule nightly already exists.")

        # UpdateSchedule replaces the schedule whole: what it leaves out takes its default again.
        self.advance(90)
        r = self.scheduler.update_schedule(Name="nightly", ScheduleExpression="rate(2 minute)", State="DISABLED",
                                           FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
                                           ActionAfterCompletion="DELETE",
                                           Target={"Arn": FN + "worker:live", "RoleArn": ROLE, "Input": '{"k": 1}',
                                                   "RetryPolicy": {"MaximumRetryAttempts": 3}})
        self.assertEqual(r["ScheduleArn"], arn)
        got = self.scheduler.get_schedule(Name="nightly", GroupName="default")
        self.assertEqual((got["ScheduleExpression"], got["ScheduleExpressionTimezone"], got["State"],
                          got["ActionAfterCompletion"], got["FlexibleTimeWindow"]),
                         ("rate(2 minute)", "UTC", "DISABLED", "DELETE", {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}))
        for gone in ("Description", "StartDate", "EndDate"):
            self.assertNotIn(gone, got)
        self.assertEqual(got["Target"]["RetryPolicy"], {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 86400})
        self.assertEqual(got["Target"]["Input"], '{"k": 1}')
        self.assertEqual(got["CreationDate"], now)
        self.assertEqual(got["LastModificationDate"], now + timedelta(seconds=90))
        msg = self.assertAwsError("ResourceNotFoundException", self.scheduler.update_schedule, status=404,
                                  Name="missing", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                                  Target={"Arn": FN + "worker", "RoleArn": ROLE})
        self.assertEqual(msg, "Schedule missing does not exist.")

        self.scheduler.delete_schedule(Name="nightly")
        msg = self.assertAwsError("ResourceNotFoundException", self.scheduler.get_schedule, Name="nightly", status=404)
        self.assertEqual(msg, "Schedule nightly does not exist.")
        self.assertAwsError("ResourceNotFoundException", self.scheduler.delete_schedule, Name="nightly", status=404)
        self.assertEqual(self.scheduler.list_schedules()["Schedules"], [])

    def test_one_time_schedules_and_time_zones(self):
        self.create("once", "at(2031-01-31T23:59:59)", ScheduleExpressionTimezone="America/New_York",
                    ActionAfterCompletion="DELETE")
        got = self.scheduler.get_schedule(Name="once")
        self.assertEqual((got["ScheduleExpression"], got["ScheduleExpressionTimezone"], got["ActionAfterCompletion"]),
                         ("at(2031-01-31T23:59:59)", "America/New_York", "DELETE"))
        # Scheduler ignores StartDate and EndDate of a one-time schedule: a past one is no error there.
        past = self.now() - timedelta(days=2)
        self.create("once-more", "at(2031-01-31T00:00:00)", StartDate=past, EndDate=past + timedelta(hours=1))
        for zone in ("Mars/Olympus", "../../etc/passwd", "/etc/localtime", "posix/Europe/Paris", "localtime"):
            msg = self.assertAwsError("ValidationException", self.create, "tz", ScheduleExpressionTimezone=zone)
            self.assertEqual(msg, f"Invalid timezone: {zone}")
        self.assertEqual(len(self.scheduler.list_schedules()["Schedules"]), 2)

    def test_expression_date_and_window_errors(self):
        for bad in ("rate(5 minutess)", "rate(0 minutes)", "rate(10 seconds)", "rate( 10 minutes )", " rate(1 day)",
                    "cron(0 1 * * * *)", "cron(71 8 1 * ? *)", "cron()", "at(2031-12-31)", "at(2031-12-31T23:59:59Z)",
                    "at(2031-02-29T00:00:00)", "every 5 minutes"):
            msg = self.assertAwsError("ValidationException", self.create, "bad", bad)
            self.assertEqual(msg, f"Invalid Schedule Expression {bad}.")
        # Scheduler takes the unit in either number.
        self.create("plural", "rate(1 minutes)")
        self.create("singular", "rate(3 hour)")
        now = self.now()
        msg = self.assertAwsError("ValidationException", self.create, "s", StartDate=now - timedelta(minutes=6))
        self.assertEqual(msg, "The StartDate you specify cannot be earlier than 5 minutes ago.")
        self.create("recent-start", StartDate=now - timedelta(minutes=4))
        msg = self.assertAwsError("ValidationException", self.create, "s", EndDate=now - timedelta(seconds=1))
        self.assertIn("EndDate", msg)
        msg = self.assertAwsError("ValidationException", self.create, "s", StartDate=now + timedelta(days=2),
                                  EndDate=now + timedelta(days=1))
        self.assertIn("EndDate", msg)
        msg = self.assertAwsError("ValidationException", self.scheduler.create_schedule, Name="s",
                                  ScheduleExpression="rate(1 day)", FlexibleTimeWindow={"Mode": "FLEXIBLE"},
                                  Target={"Arn": FN + "worker", "RoleArn": ROLE})
        self.assertIn("MaximumWindowInMinutes", msg)
        msg = self.assertAwsError("ValidationException", self.scheduler.create_schedule, Name="s",
                                  ScheduleExpression="rate(1 day)",
                                  FlexibleTimeWindow={"Mode": "OFF", "MaximumWindowInMinutes": 5},
                                  Target={"Arn": FN + "worker", "RoleArn": ROLE})
        self.assertIn("MaximumWindowInMinutes", msg)
        # The model's limits, checked by the server (botocore checks only minimums).
        msg = self.assertAwsError("ValidationException", self.scheduler.create_schedule, Name="s",
                                  ScheduleExpression="rate(1 day)",
                                  FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 1441},
                                  Target={"Arn": FN + "worker", "RoleArn": ROLE})
        self.assertIn("less than or equal to 1440", msg)
        self.assertAwsError("ValidationException", self.create, "s", target={
            "Arn": FN + "worker", "RoleArn": ROLE, "RetryPolicy": {"MaximumRetryAttempts": 186}})
        self.assertAwsError("ValidationException", self.create, "s", target={
            "Arn": FN + "worker", "RoleArn": ROLE, "RetryPolicy": {"MaximumEventAgeInSeconds": 86401}})
        self.assertAwsError("ValidationException", self.create, "s", Description="x" * 513)
        msg = self.assertAwsError("ValidationException", self.create, "bad name!")
        self.assertIn("regular expression pattern: ^[0-9a-zA-Z-_.]+$", msg)
        self.assertAwsError("ValidationException", self.create, "n" * 65)
        self.assertAwsError("ValidationException", self.create, "s", State="PAUSED")
        self.assertAwsError("ValidationException", self.create, "s", ActionAfterCompletion="ARCHIVE")
        msg = self.assertAwsError("UnsupportedOperation", self.create, "s", status=501,
                                  KmsKeyArn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k")
        self.assertIn("KmsKeyArn", msg)
        self.assertEqual(sorted(n for _, n in self.names()), ["plural", "recent-start", "singular"])

    def test_targets(self):
        role = ROLE
        self.create("fn", target={"Arn": FN + "worker:$LATEST", "RoleArn": role, "Input": json.dumps({"a": 1})})
        self.create("task", target={"Arn": CLUSTER, "RoleArn": role, "EcsParameters": {
            "TaskDefinitionArn": TASK_DEFINITION, "TaskCount": 2, "LaunchType": "FARGATE",
            "NetworkConfiguration": {"awsvpcConfiguration": {"Subnets": ["subnet-1"], "AssignPublicIp": "ENABLED"}}}})
        got = self.scheduler.get_schedule(Name="task")["Target"]
        self.assertEqual(got["EcsParameters"]["TaskCount"], 2)
        self.assertEqual(got["EcsParameters"]["TaskDefinitionArn"], TASK_DEFINITION)
        listed = {s["Name"]: s for s in self.scheduler.list_schedules()["Schedules"]}
        self.assertEqual(listed["task"]["Target"], {"Arn": CLUSTER})
        self.assertEqual(listed["fn"]["Target"], {"Arn": FN + "worker:$LATEST"})

        def refused(code, target, status=400, contains=None):
            msg = self.assertAwsError(code, self.create, "t", target=target, status=status)
            if contains:
                self.assertIn(contains, msg)
            return msg

        # Whatever Gantry cannot deliver to is refused by name.
        msg = refused("UnsupportedOperation", {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue", "RoleArn": role}, 501)
        self.assertIn("Lambda functions", msg)
        self.assertIn("ECS clusters", msg)
        refused("UnsupportedOperation", {"Arn": "arn:aws:scheduler:::aws-sdk:sqs:sendMessage", "RoleArn": role}, 501,
                "universal targets")
        refused("UnsupportedOperation", {"Arn": FN + "worker", "RoleArn": role,
                                         "DeadLetterConfig": {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}}, 501, "SQS")
        refused("UnsupportedOperation", {"Arn": FN + "worker", "RoleArn": role,
                                         "SqsParameters": {"MessageGroupId": "g"}}, 501, "SqsParameters")
        refused("UnsupportedOperation", {"Arn": FN + "worker", "RoleArn": role,
                                         "EventBridgeParameters": {"DetailType": "d", "Source": "s"}}, 501)
        refused("UnsupportedOperation", {"Arn": CLUSTER, "RoleArn": role, "EcsParameters": {
            "TaskDefinitionArn": TASK_DEFINITION, "LaunchType": "EC2"}}, 501, "Fargate")
        refused("UnsupportedOperation", {"Arn": CLUSTER, "RoleArn": role, "EcsParameters": {
            "TaskDefinitionArn": TASK_DEFINITION, "PlacementStrategy": [{"type": "random"}]}}, 501, "PlacementStrategy")
        refused("UnsupportedOperation", {"Arn": CLUSTER, "RoleArn": role, "EcsParameters": {
            "TaskDefinitionArn": TASK_DEFINITION, "CapacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]}},
                501, "CapacityProviderStrategy")
        # Malformed or mismatched targets.
        refused("ValidationException", {"Arn": CLUSTER, "RoleArn": role}, contains="EcsParameters")
        refused("ValidationException", {"Arn": FN + "worker", "RoleArn": role,
                                        "EcsParameters": {"TaskDefinitionArn": TASK_DEFINITION}}, contains="ECS")
        refused("ValidationException", {"Arn": FN + "worker", "RoleArn": role, "Input": "{not json"}, contains="JSON")
        refused("ValidationException", {"Arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker", "RoleArn": role},
                contains="not in this account and region")
        refused("ValidationException", {"Arn": "worker", "RoleArn": role})
        msg = refused("ValidationException", {"Arn": FN + "worker", "RoleArn": "scheduler-invoke"})
        self.assertIn("at 'target.roleArn' failed to satisfy constraint", msg)
        refused("ValidationException", {"Arn": FN + "worker", "RoleArn": f"arn:aws:iam::{ACCOUNT}:user/bob"})
        self.assertEqual(sorted(n for _, n in self.names()), ["fn", "task"])

    def test_list_filters_and_pages(self):
        self.scheduler.create_schedule_group(Name="team")
        for i in range(5):
            self.create(f"job-{i}", State="DISABLED" if i % 2 else "ENABLED")
        self.create("job-0", GroupName="team")
        self.create("other", GroupName="team")
        self.assertEqual(self.names(), [("default", f"job-{i}") for i in range(5)] + [("team", "job-0"), ("team", "other")])
        self.assertEqual(self.names(GroupName="team"), [("team", "job-0"), ("team", "other")])
        self.assertEqual(self.names(NamePrefix="job-0"), [("default", "job-0"), ("team", "job-0")])
        self.assertEqual(self.names(State="DISABLED"), [("default", "job-1"), ("default", "job-3")])
        self.assertEqual(self.names(GroupName="default", NamePrefix="job", State="ENABLED"),
                         [("default", "job-0"), ("default", "job-2"), ("default", "job-4")])
        seen, token = [], None
        while True:
            page = self.scheduler.list_schedules(MaxResults=3, **({"NextToken": token} if token else {}))
            self.assertLessEqual(len(page["Schedules"]), 3)
            seen += [(s["GroupName"], s["Name"]) for s in page["Schedules"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(seen, self.names())
        summary = self.scheduler.list_schedules(GroupName="team", NamePrefix="other")["Schedules"][0]
        self.assertEqual(set(summary), {"Arn", "Name", "GroupName", "State", "CreationDate", "LastModificationDate",
                                        "Target"})
        self.assertEqual(summary["Target"], {"Arn": FN + "worker"})
        # The paginator walks the pages too.
        pages = self.scheduler.get_paginator("list_schedules").paginate(PaginationConfig={"PageSize": 2})
        self.assertEqual(sum(len(p["Schedules"]) for p in pages), 7)
        # A token of another listing, and a group that does not exist.
        page = self.scheduler.list_schedules(MaxResults=1)
        self.assertAwsError("ValidationException", self.scheduler.list_schedules, NextToken=page["NextToken"],
                            GroupName="team")
        self.assertAwsError("ValidationException", self.scheduler.list_schedules, NextToken="garbage")
        msg = self.assertAwsError("ResourceNotFoundException", self.scheduler.list_schedules, GroupName="nope",
                                  status=404)
        self.assertEqual(msg, "Schedule group nope does not exist.")
        self.assertAwsError("ValidationException", self.scheduler.list_schedules, NamePrefix="bad prefix")

    def test_schedule_groups(self):
        r = self.scheduler.create_schedule_group(Name="team", Tags=[{"Key": "owner", "Value": "data"}])
        self.assertEqual(r["ScheduleGroupArn"], GROUP + "team")
        msg = self.assertAwsError("ConflictException", self.scheduler.create_schedule_group, Name="team", status=409)
        self.assertEqual(msg, "Schedule group team already exists.")
        self.assertAwsError("ConflictException", self.scheduler.create_schedule_group, Name="default", status=409)
        got = self.scheduler.get_schedule_group(Name="team")
        self.assertEqual((got["Arn"], got["Name"], got["State"], got["CreationDate"], got["LastModificationDate"]),
                         (GROUP + "team", "team", "ACTIVE", self.now(), self.now()))
        default = self.scheduler.get_schedule_group(Name="default")
        self.assertEqual((default["Arn"], default["State"]), (GROUP + "default", "ACTIVE"))
        msg = self.assertAwsError("ResourceNotFoundException", self.scheduler.get_schedule_group, Name="nope",
                                  status=404)
        self.assertEqual(msg, "Schedule group nope does not exist.")
        for name in ("alpha", "zeta"):
            self.scheduler.create_schedule_group(Name=name)
        listed = [g["Name"] for g in self.scheduler.list_schedule_groups()["ScheduleGroups"]]
        self.assertEqual(listed, ["alpha", "default", "team", "zeta"])
        self.assertEqual([g["Name"] for g in self.scheduler.list_schedule_groups(NamePrefix="t")["ScheduleGroups"]],
                         ["team"])
        page = self.scheduler.list_schedule_groups(MaxResults=2)
        rest = self.scheduler.list_schedule_groups(MaxResults=2, NextToken=page["NextToken"])
        self.assertEqual([g["Name"] for g in page["ScheduleGroups"] + rest["ScheduleGroups"]], listed)
        self.assertNotIn("NextToken", rest)

        # A schedule names its group, which must exist; a schedule's name is unique within its group only.
        msg = self.assertAwsError("ResourceNotFoundException", self.create, "job", GroupName="nope", status=404)
        self.assertEqual(msg, "Schedule group nope does not exist.")
        self.assertEqual(self.create("job", GroupName="team")["ScheduleArn"], SCHEDULE + "team/job")
        self.create("job")
        self.assertAwsError("ResourceNotFoundException", self.scheduler.get_schedule, Name="job", GroupName="alpha",
                            status=404)
        self.assertEqual(self.scheduler.get_schedule(Name="job", GroupName="team")["GroupName"], "team")

        # Deleting a group deletes its schedules; the default group cannot be deleted.
        msg = self.assertAwsError("ValidationException", self.scheduler.delete_schedule_group, Name="default")
        self.assertIn("default", msg)
        self.scheduler.delete_schedule_group(Name="team")
        self.assertAwsError("ResourceNotFoundException", self.scheduler.get_schedule_group, Name="team", status=404)
        self.assertAwsError("ResourceNotFoundException", self.scheduler.delete_schedule_group, Name="team", status=404)
        self.assertEqual(self.names(), [("default", "job")])
        # A group made again under the same name starts empty and untagged.
        self.scheduler.create_schedule_group(Name="team")
        self.assertEqual(self.names(GroupName="team"), [])
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=GROUP + "team")["Tags"], [])

    def test_group_quota(self):
        # 500 schedule groups per account and region, the default group among them.
        for i in range(499):
            self.scheduler.create_schedule_group(Name=f"g{i:03d}")
        msg = self.assertAwsError("ServiceQuotaExceededException", self.scheduler.create_schedule_group,
                                  Name="one-more", status=402)
        self.assertIn("500", msg)
        self.scheduler.delete_schedule_group(Name="g000")
        self.scheduler.create_schedule_group(Name="one-more")

    def test_tags_on_groups_only(self):
        self.scheduler.create_schedule_group(Name="team", Tags=[{"Key": "owner", "Value": "data"}])
        arn = GROUP + "team"
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"], [{"Key": "owner", "Value": "data"}])
        self.scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "owner", "Value": "ops"}])
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"],
                         [{"Key": "owner", "Value": "ops"}, {"Key": "env", "Value": "dev"}])
        self.scheduler.untag_resource(ResourceArn=arn, TagKeys=["owner", "absent"])
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"], [{"Key": "env", "Value": "dev"}])
        # Schedules are not taggable: the API takes schedule group ARNs only.
        self.create("job")
        msg = self.assertAwsError("ValidationException", self.scheduler.tag_resource, ResourceArn=SCHEDULE + "default/job",
                                  Tags=[{"Key": "a", "Value": "b"}])
        self.assertIn("schedule-group", msg)
        self.assertAwsError("ValidationException", self.scheduler.list_tags_for_resource, ResourceArn="team")
        self.assertAwsError("ResourceNotFoundException", self.scheduler.list_tags_for_resource,
                            ResourceArn=GROUP + "nope", status=404)
        self.assertAwsError("ResourceNotFoundException", self.scheduler.list_tags_for_resource,
                            ResourceArn=f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule-group/team", status=404)
        self.assertAwsError("ValidationException", self.scheduler.tag_resource, ResourceArn=arn,
                            Tags=[{"Key": "aws:reserved", "Value": "x"}])
        self.assertEqual(self.scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"], [{"Key": "env", "Value": "dev"}])

    def new_user(self, name, *statements):
        iam = self.server.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": list(statements)}))
        return self.client_as("scheduler", iam.create_access_key(UserName=name)["AccessKey"])

    def test_iam_actions_and_pass_role(self):
        # Passing the target's role is iam:PassRole, to scheduler.amazonaws.com.
        no_pass = self.new_user("no-pass", {"Effect": "Allow", "Action": "scheduler:*", "Resource": "*"},
                                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
                                 "Condition": {"StringEquals": {"iam:PassedToService": "events.amazonaws.com"}}})
        msg = self.assertDenied(lambda: no_pass.create_schedule(
            Name="s", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
            Target={"Arn": FN + "worker", "RoleArn": ROLE}), "AccessDeniedException", "iam:PassRole")
        self.assertIn(ROLE, msg)
        self.assertEqual(self.scheduler.list_schedules()["Schedules"], [])
        dev = self.new_user("dev", {"Effect": "Allow", "Action": "scheduler:*", "Resource": "*"},
                            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": ROLE,
                             "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}})
        dev.create_schedule(Name="s", ScheduleExpression="rate(1 day)", FlexibleTimeWindow=OFF,
                            Target={"Arn": FN + "worker", "RoleArn": ROLE})

        # scheduler:<Operation> on the schedule's ARN (in its group) or the group's ARN; listings on "*".
        self.scheduler.create_schedule_group(Name="blue", Tags=[{"Key": "team", "Value": "blue"}])
        self.scheduler.create_schedule_group(Name="red", Tags=[{"Key": "team", "Value": "red"}])
        self.create("job", GroupName="blue")
        self.create("job", GroupName="red")
        viewer = self.new_user("viewer", {"Effect": "Allow", "Action": "scheduler:GetSchedule",
                                          "Resource": SCHEDULE + "blue/*"},
                               {"Effect": "Allow", "Action": "scheduler:GetScheduleGroup", "Resource": "*",
                                "Condition": {"StringEquals": {"aws:ResourceTag/team": "blue"}}})
        self.assertEqual(viewer.get_schedule(Name="job", GroupName="blue")["Arn"], SCHEDULE + "blue/job")
        msg = self.assertDenied(lambda: viewer.get_schedule(Name="job", GroupName="red"), "AccessDeniedException",
                                "scheduler:GetSchedule")
        self.assertIn(f"on resource: {SCHEDULE}red/job", msg)
        self.assertDenied(lambda: viewer.get_schedule(Name="job"), "AccessDeniedException", "scheduler:GetSchedule")
        viewer.get_schedule_group(Name="blue")
        self.assertDenied(lambda: viewer.get_schedule_group(Name="red"), "AccessDeniedException",
                          "scheduler:GetScheduleGroup")
        self.assertDenied(lambda: viewer.list_schedules(), "AccessDeniedException", "scheduler:ListSchedules")
        self.assertDenied(lambda: viewer.delete_schedule(Name="job", GroupName="blue"), "AccessDeniedException",
                          "scheduler:DeleteSchedule")
        # Tagging a group on creation is scheduler:TagResource too; deleting a group deletes its schedules, which
        # is scheduler:DeleteSchedule on each.
        maker = self.new_user("maker", {"Effect": "Allow", "Action": ["scheduler:CreateScheduleGroup",
                                                                      "scheduler:DeleteScheduleGroup"],
                                        "Resource": "*"})
        maker.create_schedule_group(Name="plain")
        self.assertDenied(lambda: maker.create_schedule_group(Name="tagged", Tags=[{"Key": "a", "Value": "b"}]),
                          "AccessDeniedException", "scheduler:TagResource")
        self.assertDenied(lambda: maker.delete_schedule_group(Name="blue"), "AccessDeniedException",
                          "scheduler:DeleteSchedule")
        maker.delete_schedule_group(Name="plain")
        self.assertEqual(self.names(GroupName="blue"), [("blue", "job")])

    def test_aws_cli(self):
        out = self.server.aws("scheduler", "create-schedule", "--name", "cli", "--schedule-expression",
                              "cron(0 12 ? * MON-FRI *)", "--schedule-expression-timezone", "Asia/Tokyo",
                              "--flexible-time-window", "Mode=OFF",
                              "--target", json.dumps({"Arn": FN + "worker", "RoleArn": ROLE})).stdout
        self.assertEqual(json.loads(out)["ScheduleArn"], SCHEDULE + "default/cli")
        got = json.loads(self.server.aws("scheduler", "get-schedule", "--name", "cli").stdout)
        self.assertEqual((got["ScheduleExpression"], got["ScheduleExpressionTimezone"]),
                         ("cron(0 12 ? * MON-FRI *)", "Asia/Tokyo"))
        listed = json.loads(self.server.aws("scheduler", "list-schedules").stdout)["Schedules"]
        self.assertEqual([s["Name"] for s in listed], ["cli"])
