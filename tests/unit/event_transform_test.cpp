#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/transform.h"

// Expected outputs follow the behaviour the header documents: the output table of AWS's "input
// transformation" guide (string and JSON templates, reserved variables) and what public test suites
// recorded against AWS (a missing path gives "" and nothing inside quotes; aws.events.event drops
// "detail" and renames "detail-type"; AWS's invalid-placeholder and one-of messages).

namespace gantry::events {
namespace {

namespace json = boost::json;

const json::value& sample_event() {
  static const json::value event = json::parse(R"({
    "version": "0",
    "id": "0b1c2d3e-aaaa-bbbb-cccc-000000000001",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2026-03-04T05:06:07Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaa",
                  "arn:aws:ec2:eu-west-1:111122223333:volume/v-1"],
    "detail": {
      "instance-id": "i-0aaa",
      "state": "running",
      "count": 3,
      "ratio": 0.25,
      "ok": true,
      "nothing": null,
      "quote": "say \"hi\"\nbye\\",
      "tags": {"team": "core", "env": "prod"},
      "containers": [{"name": "web", "exitCode": 0}, {"name": "side", "exitCode": 137}],
      "key/with/slashes": "slashed",
      "key_with-dash": "dashed",
      "unicode": "caf\u00e9 \u2603"
    }
  })");
  return event;
}

RuleInfo sample_rule() {
  return {"arn:aws:events:eu-west-1:111122223333:rule/my-rule", "my-rule", "2026-03-04T05:06:08.123Z"};
}

json::object paths(std::initializer_list<std::pair<std::string_view, std::string_view>> entries) {
  json::object o;
  for (const auto& [k, v] : entries) o[k] = v;
  return o;
}

// --- JsonPath ------------------------------------------------------------------------------------

TEST(EventTransformJsonPath, FindsDefinitePaths) {
  struct Case {
    std::string path;
    std::optional<std::string> expected;  // compact JSON; nullopt: absent
  };
  const std::vector<Case> cases = {
      {"$", std::nullopt},  // checked separately below (the whole event)
      {"$.detail.state", R"("running")"},
      {"$.detail-type", R"("EC2 Instance State-change Notification")"},
      {"$.detail.instance-id", R"("i-0aaa")"},
      {"$.detail.count", "3"},
      {"$.detail.ratio", "0.25"},
      {"$.detail.ok", "true"},
      {"$.detail.nothing", "null"},
      {"$.detail.tags", R"({"team":"core","env":"prod"})"},
      {"$.detail.containers[1].exitCode", "137"},
      {"$.detail.containers[0]", R"({"name":"web","exitCode":0})"},
      {"$.resources[0]", R"("arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaa")"},
      {"$.detail.key/with/slashes", R"("slashed")"},
      {"$.detail.key_with-dash", R"("dashed")"},
      {"$.detail.missing", std::nullopt},
      {"$.detail.containers[2]", std::nullopt},
      {"$.detail.containers.name", std::nullopt},  // a name on an array
      {"$.detail[0]", std::nullopt},               // an index on an object
      {"$.detail.state.deeper", std::nullopt},     // below a string
  };
  for (const auto& c : cases) {
    auto p = JsonPath::parse(c.path);
    ASSERT_TRUE(p.ok()) << c.path << ": " << p.error().message;
    EXPECT_TRUE(p->definite()) << c.path;
    EXPECT_EQ(p->text(), c.path);
    const json::value* v = p->find(sample_event());
    if (c.path == "$") {
      EXPECT_EQ(v, &sample_event());
      continue;
    }
    if (!c.expected) {
      EXPECT_EQ(v, nullptr) << c.path;
      EXPECT_FALSE(p->extract(sample_event()).has_value()) << c.path;
      continue;
    }
    ASSERT_NE(v, nullptr) << c.path;
    EXPECT_EQ(to_compact_json(*v), *c.expected) << c.path;
    EXPECT_EQ(to_compact_json(*p->extract(sample_event())), *c.expected) << c.path;
  }
}

TEST(EventTransformJsonPath, WildcardsYieldArrays) {
  struct Case {
    std::string path;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"$.detail.containers[*].exitCode", "[0,137]"},
      {"$.detail.containers.*.name", R"(["web","side"])"},
      {"$.detail.tags.*", R"(["core","prod"])"},
      {"$.detail.tags[*]", R"(["core","prod"])"},
      {"$.resources[*]", R"(["arn:aws:ec2:eu-west-1:111122223333:instance/i-0aaa",)"
                         R"("arn:aws:ec2:eu-west-1:111122223333:volume/v-1"])"},
      {"$.detail.containers[*].missing", "[]"},
      {"$.detail.state.*", "[]"},
  };
  for (const auto& c : cases) {
    auto p = JsonPath::parse(c.path);
    ASSERT_TRUE(p.ok()) << c.path << ": " << p.error().message;
    EXPECT_FALSE(p->definite()) << c.path;
    EXPECT_EQ(p->find(sample_event()), nullptr) << c.path;
    auto v = p->extract(sample_event());
    ASSERT_TRUE(v.has_value()) << c.path;
    EXPECT_EQ(to_compact_json(*v), c.expected) << c.path;
  }
}

TEST(EventTransformJsonPath, RejectsUnsupportedSyntax) {
  const std::vector<std::string> invalid = {
      "", "detail", ".detail", "$detail", "$.", "$..detail", "$.detail.", "$.detail..state", "$['detail']",
      "$.detail[\"state\"]", "$.a[", "$.a[]", "$.a[-1]", "$.a[0:2]", "$.a[0,1]", "$.a[?(@.x)]", "$.a b",
      "$.a\tb", "$.@", "$.a.$", "@.detail", "$.a'b", "$.a]", "$[1234567890]", "$.detail*"};
  for (const auto& text : invalid) {
    auto p = JsonPath::parse(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.error().kind, ErrorKind::kValidation) << text;
  }
  EXPECT_TRUE(JsonPath::parse("$." + std::string(254, 'a')).ok());
  EXPECT_FALSE(JsonPath::parse("$." + std::string(255, 'a')).ok());
}

// --- InputTransformer::parse ---------------------------------------------------------------------

TEST(EventTransformParse, AcceptsValidTransformers) {
  struct Case {
    json::object map;
    std::string template_text;
    bool json_template;
  };
  json::object hundred;
  for (int i = 0; i < 100; ++i) hundred["k" + std::to_string(i)] = "$.detail";
  const std::vector<Case> cases = {
      {paths({{"instance", "$.detail.instance-id"}}), R"("instance <instance>")", false},
      {paths({{"instance", "$.detail.instance-id"}}), R"({"i": <instance>, "s": "<instance>"})", true},
      {paths({{"instance", "$.detail.instance-id"}}), "  \n{\"i\": <instance>}", true},
      {paths({{"instance", "$.detail.instance-id"}}), "<instance> is here", false},
      {{}, R"("<aws.events.rule-name> fired at <aws.events.event.ingestion-time>")", false},
      {{}, R"({"e": <aws.events.event>, "j": <aws.events.event.json>, "a": <aws.events.rule-arn>})", true},
      {{}, "static text", false},
      {{}, "\"a < b\"", false},                               // a lone `<` is text
      {{}, R"({"cmp": "1 <<aws.events.rule-name>"})", true},  // `<` then a placeholder
      {hundred, "<k0><k99>", false},
      {paths({{std::string(256, 'k'), "$"}}), "x", false},
      {paths({{"A-z_0-9", "$." + std::string(254, 'a')}}), "x", false},
      {{}, std::string(8192, 'x'), false},
      {{}, std::string(4096, '\xC3'), false},        // not UTF-8 text, but within length by code points
      {paths({{"k", "$"}}), "{\"a\": [<k>}", true},  // malformed JSON templates fail at render(), not here
      {paths({{"k", "$"}}), R"(["<k>", <k>])", false},
      {paths({{"k", "$"}}), "<k>: value", false},  // key position only matters in a JSON template
  };
  for (const auto& c : cases) {
    auto t = InputTransformer::parse(c.map, c.template_text, "t1");
    ASSERT_TRUE(t.ok()) << c.template_text.substr(0, 80) << ": " << t.error().message;
    EXPECT_EQ(t->json_template(), c.json_template) << c.template_text.substr(0, 80);
    EXPECT_EQ(t->template_text, c.template_text);
    EXPECT_EQ(t->paths.size(), c.map.size());
  }
}

TEST(EventTransformParse, KeepsPathsInRequestOrder) {
  auto t = InputTransformer::parse(paths({{"b", "$.detail"}, {"a", "$.time"}, {"c", "$"}}), "<a><b><c>");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->paths.size(), 3u);
  EXPECT_EQ(t->paths[0].first, "b");
  EXPECT_EQ(t->paths[0].second.text(), "$.detail");
  EXPECT_EQ(t->paths[1].first, "a");
  EXPECT_EQ(t->paths[2].first, "c");
}

TEST(EventTransformParse, RejectsInvalidTransformers) {
  struct Case {
    std::string name;
    json::object map;
    std::string template_text;
    ErrorKind kind;
    std::string message;  // exact when not empty
  };
  json::object too_many;
  for (int i = 0; i < 101; ++i) too_many["k" + std::to_string(i)] = "$.detail";
  json::object not_string;
  not_string["k"] = 5;
  const std::vector<Case> cases = {
      {"undefined placeholder", paths({{"a", "$.detail"}}), R"("x <a> <notdefinedkey>")",
       ErrorKind::kValidation, "InputTemplate for target t1 contains invalid placeholder notdefinedkey."},
      {"undefined placeholder in JSON",
       {},
       R"({"a": <b>})",
       ErrorKind::kValidation,
       "InputTemplate for target t1 contains invalid placeholder b."},
      {"empty placeholder",
       {},
       "\"<>\"",
       ErrorKind::kValidation,
       "InputTemplate for target t1 contains invalid placeholder ."},
      {"unknown reserved name",
       {},
       "\"<aws.events.rule-id>\"",
       ErrorKind::kValidation,
       "InputTemplate for target t1 contains invalid placeholder aws.events.rule-id."},
      {"html-like text",
       {},
       "\"<b>bold</b>\"",
       ErrorKind::kValidation,
       "InputTemplate for target t1 contains invalid placeholder b."},
      {"too many paths", too_many, "x", ErrorKind::kValidation,
       "1 validation error detected: Value at 'inputTransformer.inputPathsMap' failed to satisfy constraint: "
       "Member must have length less than or equal to 100"},
      {"key too long", paths({{std::string(257, 'k'), "$"}}), "x", ErrorKind::kValidation, ""},
      {"empty key", paths({{"", "$"}}), "x", ErrorKind::kValidation, ""},
      {"key with a dot", paths({{"a.b", "$"}}), "x", ErrorKind::kValidation,
       "1 validation error detected: Value at 'inputTransformer.inputPathsMap' failed to satisfy constraint: "
       "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
       "[A-Za-z0-9\\_\\-]+]"},
      {"key with a space", paths({{"a b", "$"}}), "x", ErrorKind::kValidation, ""},
      {"reserved name as key", paths({{"aws.events.rule-arn", "$"}}), "x", ErrorKind::kValidation, ""},
      {"path not a string", not_string, "x", ErrorKind::kSerialization, ""},
      {"path empty", paths({{"k", ""}}), "x", ErrorKind::kValidation, ""},
      {"path too long", paths({{"k", "$." + std::string(255, 'a')}}), "x", ErrorKind::kValidation, ""},
      {"path bracket notation", paths({{"k", "$['detail']"}}), "<k>", ErrorKind::kValidation, ""},
      {"path without $", paths({{"k", "detail.state"}}), "<k>", ErrorKind::kValidation, ""},
      {"empty template",
       {},
       "",
       ErrorKind::kValidation,
       "1 validation error detected: Value at 'inputTransformer.inputTemplate' failed to satisfy constraint: "
       "Member must have length greater than or equal to 1"},
      {"template too long",
       {},
       std::string(8193, 'x'),
       ErrorKind::kValidation,
       "1 validation error detected: Value at 'inputTransformer.inputTemplate' failed to satisfy constraint: "
       "Member must have length less than or equal to 8192"},
      {"placeholder as key", paths({{"k", "$.detail.state"}}), R"({<k>: 1})", ErrorKind::kValidation,
       "InputTemplate for target t1 uses placeholder k as an object key, which is not allowed."},
      {"quoted placeholder as key", paths({{"k", "$.detail.state"}}), R"({"a": 1, "<k>": 2})",
       ErrorKind::kValidation, ""},
      {"nested placeholder as key", paths({{"k", "$"}}), R"({"a": [{"b": 1}, {"x-<k>": 2}]})",
       ErrorKind::kValidation, ""},
      {"reserved as key", {}, R"({<aws.events.rule-name>: 1})", ErrorKind::kValidation, ""},
  };
  for (const auto& c : cases) {
    auto t = InputTransformer::parse(c.map, c.template_text, "t1");
    ASSERT_FALSE(t.ok()) << c.name;
    EXPECT_EQ(t.error().kind, c.kind) << c.name << ": " << t.error().message;
    if (!c.message.empty()) {
      EXPECT_EQ(t.error().message, c.message) << c.name;
    }
  }
  // Without a target id the message leaves it out.
  auto t = InputTransformer::parse({}, "\"<nope>\"");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "InputTemplate contains invalid placeholder nope.");
}

// --- render ----------------------------------------------------------------------------------------

struct RenderCase {
  std::string name;
  json::object map;
  std::string template_text;
  std::string expected;
};

void check_renders(const std::vector<RenderCase>& cases) {
  for (const auto& c : cases) {
    auto t = InputTransformer::parse(c.map, c.template_text, "t1");
    ASSERT_TRUE(t.ok()) << c.name << ": " << t.error().message;
    TargetInput how;
    how.transformer = std::move(t).value();
    auto out = render(how, sample_event(), sample_rule());
    ASSERT_TRUE(out.ok()) << c.name << ": " << out.error().message;
    EXPECT_EQ(*out, c.expected) << c.name;
    if (how.transformer->json_template()) {
      boost::system::error_code ec;
      json::parse(*out, ec);
      EXPECT_FALSE(ec) << c.name << ": output is not JSON: " << *out;
    }
  }
}

TEST(EventTransformRender, DocumentedTemplates) {
  const auto map =
      paths({{"instance", "$.detail.instance-id"}, {"state", "$.detail.state"}, {"timestamp", "$.time"}});
  check_renders({
      {"simple string", map, R"("instance <instance> is in <state>")", R"("instance i-0aaa is in running")"},
      {"string with escaped quotes", map, R"("instance \"<instance>\" is in <state>")",
       R"("instance \"i-0aaa\" is in running")"},
      {"simple JSON", map, "{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}",
       "{\n  \"instance\" : \"i-0aaa\",\n  \"state\": \"running\"\n}"},
      {"JSON with strings and variables", map,
       R"({"instance" : <instance>, "state": "<state>", "status": "instance \"<instance>\" is in <state>"})",
       R"({"instance" : "i-0aaa", "state": "running", "status": "instance \"i-0aaa\" is in running"})"},
      {"JSON with variables and static values", map,
       R"({"instance" : <instance>, "state": [ 9, <state>, true ]})",
       R"({"instance" : "i-0aaa", "state": [ 9, "running", true ]})"},
      {"reserved variables in JSON", map,
       R"({"ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>,)"
       R"( "at": <aws.events.event.ingestion-time>})",
       R"({"ruleArn" : "arn:aws:events:eu-west-1:111122223333:rule/my-rule", "ruleName" : "my-rule",)"
       R"( "at": "2026-03-04T05:06:08.123Z"})"},
      {"reserved variables in a string", map, R"("<aws.events.rule-name> triggered")",
       R"("my-rule triggered")"},
      {"multi-line string template", map, "\"line one <instance>\"\n\"line two <state>\"",
       "\"line one i-0aaa\"\n\"line two running\""},
      {"unquoted text template", map, "<instance> is in state <state>", R"("i-0aaa" is in state "running")"},
      {"timestamp", map, R"({"timestamp": <timestamp>})", R"({"timestamp": "2026-03-04T05:06:07Z"})"},
  });
}

TEST(EventTransformRender, ValueKindsAndPositions) {
  const auto map = paths({{"count", "$.detail.count"},
                          {"ratio", "$.detail.ratio"},
                          {"ok", "$.detail.ok"},
                          {"nothing", "$.detail.nothing"},
                          {"tags", "$.detail.tags"},
                          {"containers", "$.detail.containers"},
                          {"codes", "$.detail.containers[*].exitCode"},
                          {"first", "$.detail.containers[0].name"},
                          {"slashed", "$.detail.key/with/slashes"},
                          {"unicode", "$.detail.unicode"}});
  check_renders({
      {"number", map, R"({"n": <count>, "s": "<count>"})", R"({"n": 3, "s": "3"})"},
      {"double", map, R"({"n": <ratio>, "s": "r=<ratio>"})", R"({"n": 0.25, "s": "r=0.25"})"},
      {"boolean", map, R"({"b": <ok>, "s": "<ok>"})", R"({"b": true, "s": "true"})"},
      {"null", map, R"({"v": <nothing>, "s": "<nothing>"})", R"({"v": null, "s": "null"})"},
      {"object as value", map, R"({"tags": <tags>})", R"({"tags": {"team":"core","env":"prod"}})"},
      {"object inside a string loses its quotes", map, R"({"s": "tags are <tags>"})",
       R"({"s": "tags are {team:core,env:prod}"})"},
      {"array as value", map, R"({"c": <containers>})",
       R"({"c": [{"name":"web","exitCode":0},{"name":"side","exitCode":137}]})"},
      {"array inside a string", map, R"("codes <codes>")", R"("codes [0,137]")"},
      {"wildcard as value", map, R"({"codes": <codes>})", R"({"codes": [0,137]})"},
      {"array index", map, R"({"first": <first>})", R"({"first": "web"})"},
      {"slashes in a path", map, R"({"v": <slashed>})", R"({"v": "slashed"})"},
      {"unicode passes through", map, R"({"u": <unicode>, "q": "<unicode>"})",
       "{\"u\": \"caf\xC3\xA9 \xE2\x98\x83\", \"q\": \"caf\xC3\xA9 \xE2\x98\x83\"}"},
      {"placeholder repeated", map, R"([<count>, <count>, "<count><count>"])", R"([3, 3, "33"])"},
      {"placeholders back to back", map, R"({"s": "<first><count><ok>"})", R"({"s": "web3true"})"},
      {"array template", map, R"([<first>, "<first>"])", R"(["web", "web"])"},
  });
}

TEST(EventTransformRender, EscapesValuesInsideStrings) {
  const auto map = paths({{"quote", "$.detail.quote"}, {"tags", "$.detail.tags"}});
  check_renders({
      {"quotes newline backslash in a JSON string", map, R"({"msg": "got <quote>"})",
       R"({"msg": "got say \"hi\"\nbye\\"})"},
      {"the same as a JSON value", map, R"({"msg": <quote>})", R"({"msg": "say \"hi\"\nbye\\"})"},
      {"in a string template", map, R"("got <quote>")", R"("got say \"hi\"\nbye\\")"},
      {"after an escaped quote in the template", map, R"({"m": "a \"<quote>\" b"})",
       R"({"m": "a \"say \"hi\"\nbye\\\" b"})"},
      {"after an escaped backslash the string ends", map, R"({"m": "a\\", "v": <quote>})",
       R"({"m": "a\\", "v": "say \"hi\"\nbye\\"})"},
  });
  // Escaping keeps the value intact for the receiver.
  auto t = InputTransformer::parse(map, R"({"msg": "<quote>"})");
  ASSERT_TRUE(t.ok());
  TargetInput how;
  how.transformer = std::move(t).value();
  auto out = render(how, sample_event(), sample_rule());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(json::parse(*out).at("msg").as_string(), "say \"hi\"\nbye\\");
}

TEST(EventTransformRender, MissingPathsGiveEmptyString) {
  const auto map =
      paths({{"state", "$.detail.state"}, {"gone", "$.detail.notinmessage"}, {"deep", "$.x.y[3]"}});
  check_renders({
      {"string template", map, R"("state <state>, gone <gone>.")", R"("state running, gone .")"},
      {"JSON value", map, R"({"state": <state>, "gone": <gone>})", R"({"state": "running", "gone": ""})"},
      {"JSON string", map, R"({"gone": "<gone>", "deep": "[<deep>]"})", R"({"gone": "", "deep": "[]"})"},
      {"in an array", map, R"([<gone>, <deep>])", R"(["", ""])"},
  });
}

TEST(EventTransformRender, ReservedEventVariables) {
  auto t = InputTransformer::parse(
      {}, R"({"originalEvent": <aws.events.event>, "full": <aws.events.event.json>})");
  ASSERT_TRUE(t.ok()) << t.error().message;
  TargetInput how;
  how.transformer = std::move(t).value();
  auto out = render(how, sample_event(), sample_rule());
  ASSERT_TRUE(out.ok()) << out.error().message;
  const json::value v = json::parse(*out);
  const auto& original = v.at("originalEvent").as_object();
  EXPECT_FALSE(original.contains("detail"));
  EXPECT_FALSE(original.contains("detail-type"));
  EXPECT_EQ(original.at("detailType"), "EC2 Instance State-change Notification");
  EXPECT_EQ(original.at("id"), "0b1c2d3e-aaaa-bbbb-cccc-000000000001");
  EXPECT_EQ(original.at("resources").as_array().size(), 2u);
  EXPECT_EQ(original.size(), sample_event().as_object().size() - 1);
  EXPECT_EQ(v.at("full"), sample_event());

  // Inside a string they follow the rule for objects: quotes removed, then escaped.
  auto s = InputTransformer::parse({}, R"({"s": "<aws.events.event>"})");
  ASSERT_TRUE(s.ok());
  how.transformer = std::move(s).value();
  out = render(how, sample_event(), sample_rule());
  ASSERT_TRUE(out.ok()) << out.error().message;
  const std::string text(json::parse(*out).at("s").as_string());
  EXPECT_EQ(text.find('"'), std::string::npos);
  EXPECT_NE(text.find("detailType:EC2 Instance State-change Notification"), std::string::npos) << text;
}

TEST(EventTransformRender, MalformedJsonTemplateFailsAtRender) {
  const auto map = paths({{"state", "$.detail.state"}, {"count", "$.detail.count"}});
  const std::vector<std::string> templates = {
      R"({"a": <state>)",           // unclosed
      R"({"a": <state>,})",         // trailing comma
      R"({"a": 1<state>})",         // a number glued to a string
      R"({"a": <state> <count>})",  // two values
      R"({"a": "<state>})",         // unterminated string
  };
  for (const auto& text : templates) {
    auto t = InputTransformer::parse(map, text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.error().message;
    TargetInput how;
    how.transformer = std::move(t).value();
    auto out = render(how, sample_event(), sample_rule());
    EXPECT_FALSE(out.ok()) << text << " rendered " << (out.ok() ? *out : "");
  }
  // A string template is not held to JSON.
  auto t = InputTransformer::parse(map, R"("a": <state>,})");
  ASSERT_TRUE(t.ok());
  TargetInput how;
  how.transformer = std::move(t).value();
  auto out = render(how, sample_event(), sample_rule());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, R"("a": "running",})");
}

// --- TargetInput ----------------------------------------------------------------------------------

TEST(EventTransformTargetInput, ChoosesWhatIsDelivered) {
  struct Case {
    std::string name;
    TargetInput how;
    std::string expected;
  };
  auto path = [](std::string_view p) { return *JsonPath::parse(p); };
  std::vector<Case> cases;
  cases.push_back({"nothing set: the whole event, compact", {}, to_compact_json(sample_event())});
  cases.push_back({"input verbatim",
                   {std::string(R"({ "fixed" : [1, 2] })"), std::nullopt, std::nullopt},
                   R"({ "fixed" : [1, 2] })"});
  cases.push_back({"input path object",
                   {std::nullopt, path("$.detail.tags"), std::nullopt},
                   R"({"team":"core","env":"prod"})"});
  cases.push_back(
      {"input path string", {std::nullopt, path("$.detail.state"), std::nullopt}, R"("running")"});
  cases.push_back(
      {"input path number", {std::nullopt, path("$.detail.containers[1].exitCode"), std::nullopt}, "137"});
  cases.push_back(
      {"input path root", {std::nullopt, path("$"), std::nullopt}, to_compact_json(sample_event())});
  cases.push_back({"input path wildcard",
                   {std::nullopt, path("$.detail.containers[*].name"), std::nullopt},
                   R"(["web","side"])"});
  for (const auto& c : cases) {
    auto out = render(c.how, sample_event(), sample_rule());
    ASSERT_TRUE(out.ok()) << c.name << ": " << out.error().message;
    EXPECT_EQ(*out, c.expected) << c.name;
  }
}

TEST(EventTransformTargetInput, Failures) {
  TargetInput missing;
  missing.input_path = *JsonPath::parse("$.detail.absent");
  auto out = render(missing, sample_event(), sample_rule());
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::kValidation);

  TargetInput two;
  two.input = "{}";
  two.input_path = *JsonPath::parse("$.detail");
  EXPECT_FALSE(render(two, sample_event(), sample_rule()).ok());
  auto st = validate_target_input(two, "t9");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "Only one of Input, InputPath, or InputTransformer must be provided for target t9.");

  TargetInput three = two;
  three.transformer = *InputTransformer::parse({}, "\"x\"");
  EXPECT_FALSE(validate_target_input(three, "t9").ok());
  TargetInput one;
  one.transformer = three.transformer;
  EXPECT_TRUE(validate_target_input(one, "t9").ok());
  EXPECT_TRUE(validate_target_input(TargetInput{}, "t9").ok());
}

TEST(EventTransformCompactJson, Serializes) {
  struct Case {
    std::string input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({ "a" : [ 1 , 2.5 , -3 , 1e300 , 18446744073709551615 ] })",
       R"({"a":[1,2.5,-3,1e+300,18446744073709551615]})"},
      {R"("tab\there \u0001 \/ é")", "\"tab\\there \\u0001 / \xC3\xA9\""},
      {R"({"z": 1, "a": 2})", R"({"z":1,"a":2})"},
      {"[true, false, null, {}, []]", "[true,false,null,{},[]]"},
      {"0.1", "0.1"},
  };
  for (const auto& c : cases) EXPECT_EQ(to_compact_json(json::parse(c.input)), c.expected) << c.input;
}

}  // namespace
}  // namespace gantry::events
