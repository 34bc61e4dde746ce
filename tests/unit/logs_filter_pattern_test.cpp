#include <gtest/gtest.h>

#include "services/logs/filter_pattern.h"

namespace gantry::logs {
namespace {

FilterPattern parse(std::string_view text) {
  auto p = parse_filter_pattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error().message);
  return p.ok() ? *p : FilterPattern{};
}

TEST(LogsFilterPattern, EmptyMatchesEverything) {
  EXPECT_TRUE(parse("").matches("anything"));
  EXPECT_TRUE(parse("   ").matches("anything"));
  EXPECT_TRUE(parse("\"\"").matches("anything"));
}

TEST(LogsFilterPattern, AllTermsMustAppearCaseSensitive) {
  auto p = parse("ERROR database");
  EXPECT_EQ(p.required, (std::vector<std::string>{"ERROR", "database"}));
  EXPECT_TRUE(p.matches("[ERROR] database is down"));
  EXPECT_TRUE(p.matches("database: ERROR"));
  EXPECT_FALSE(p.matches("[ERROR] cache is down"));
  EXPECT_FALSE(p.matches("[error] database is down"));
}

TEST(LogsFilterPattern, QuotedPhrases) {
  auto p = parse("\"Failed to connect\" \"say \\\"hi\\\"\"");
  EXPECT_EQ(p.required, (std::vector<std::string>{"Failed to connect", "say \"hi\""}));
  EXPECT_TRUE(p.matches("Failed to connect; say \"hi\""));
  EXPECT_FALSE(p.matches("Failed to  connect; say \"hi\""));
  EXPECT_FALSE(p.matches("Failed to connect; say hi"));
}

TEST(LogsFilterPattern, Exclusions) {
  auto p = parse("ERROR -Exiting -\"shutting down\"");
  EXPECT_EQ(p.excluded, (std::vector<std::string>{"Exiting", "shutting down"}));
  EXPECT_TRUE(p.matches("ERROR timeout"));
  EXPECT_FALSE(p.matches("ERROR Exiting now"));
  EXPECT_FALSE(p.matches("ERROR while shutting down"));
  EXPECT_FALSE(p.matches("INFO fine"));
}

TEST(LogsFilterPattern, AlternativesNeedOne) {
  auto p = parse("?ERROR ?WARN ?\"out of memory\"");
  EXPECT_EQ(p.any_of.size(), 3u);
  EXPECT_TRUE(p.matches("WARN disk 90%"));
  EXPECT_TRUE(p.matches("ERROR x"));
  EXPECT_TRUE(p.matches("killed: out of memory"));
  EXPECT_FALSE(p.matches("INFO ok"));
  auto mixed = parse("db ?ERROR ?WARN");
  EXPECT_TRUE(mixed.matches("db WARN"));
  EXPECT_FALSE(mixed.matches("cache WARN"));
  EXPECT_FALSE(mixed.matches("db INFO"));
}

TEST(LogsFilterPattern, RejectsMalformedAndUnsupported) {
  for (std::string_view bad : {"\"unterminated", "-", "ERROR ?", "a\"b", "\"x\"y", "[ip, user]", "%ERR.*%",
                               "{ $.level = \"ERROR\"", "{ level = 1 }", "{ $.a > abc }", "{ $.a }", "{ $.a = }",
                               "{ ($.a = 1 }", "{ $.a IS MAYBE }", "{ $.a = 1 } x", "{ $.a[x] = 1 }"}) {
    auto p = parse_filter_pattern(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_EQ(p.error().kind, ErrorKind::kLogsInvalidParameter) << bad;
    EXPECT_NE(p.error().message.find("filter pattern"), std::string::npos) << p.error().message;
  }
}

TEST(LogsFilterPattern, JsonComparisons) {
  std::string doc = R"({"level": "ERROR", "latency": 250, "user": {"id": 7, "email": "a@example.com"},
                        "tags": ["x", "y"], "ok": true, "gone": null, "code": "200"})";
  auto m = [&](std::string_view pattern) { return parse(pattern).matches(doc); };
  EXPECT_TRUE(m(R"({ $.level = "ERROR" })"));
  EXPECT_TRUE(m(R"({$.level=ERROR})"));
  EXPECT_FALSE(m(R"({ $.level = "WARN" })"));
  EXPECT_TRUE(m(R"({ $.level != "WARN" })"));
  EXPECT_TRUE(m(R"({ $.user.email = "*@example.com" })"));
  EXPECT_FALSE(m(R"({ $.user.email = "*@example.org" })"));
  EXPECT_TRUE(m("{ $.latency > 200 }"));
  EXPECT_TRUE(m("{ $.latency >= 250 }"));
  EXPECT_FALSE(m("{ $.latency < 250 }"));
  EXPECT_TRUE(m("{ $.latency <= 250.0 }"));
  EXPECT_TRUE(m("{ $.user.id = 7 }"));
  EXPECT_TRUE(m("{ $.code = 200 }"));
  EXPECT_TRUE(m(R"({ $.tags[1] = "y" })"));
  EXPECT_FALSE(m(R"({ $.tags[5] = "y" })"));
  EXPECT_TRUE(m("{ $.ok IS TRUE }"));
  EXPECT_FALSE(m("{ $.ok IS FALSE }"));
  EXPECT_TRUE(m("{ $.gone IS NULL }"));
  EXPECT_TRUE(m("{ $.missing NOT EXISTS }"));
  EXPECT_FALSE(m("{ $.level NOT EXISTS }"));
  EXPECT_FALSE(m("{ $.missing = 1 }"));
  EXPECT_TRUE(m(R"({ ($.level = "ERROR") && ($.latency > 100) })"));
  EXPECT_FALSE(m(R"({ $.level = "ERROR" && $.latency > 300 })"));
  EXPECT_TRUE(m(R"({ $.level = "INFO" || $.latency > 200 && $.user.id = 7 })"));
  EXPECT_FALSE(m(R"({ ($.level = "INFO" || $.latency > 200) && $.user.id = 8 })"));
  // Messages that are not JSON never match a JSON pattern.
  EXPECT_FALSE(parse(R"({ $.level = "ERROR" })").matches("level=ERROR"));
}

}  // namespace
}  // namespace gantry::logs
