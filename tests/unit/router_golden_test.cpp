// Golden protocol cases: each tests/unit/golden/*.json file is a sequence of raw requests and the
// responses expected from the edge (router + protocol layer + ECS and EC2 on an in-memory store), with a
// fake clock and seeded randomness so ids and timestamps are exact. Adding a case needs no C++.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/router.h"
#include "services/ec2/model.h"
#include "services/ec2/network.h"
#include "services/ec2/service.h"
#include "services/ecs/model.h"
#include "services/ecs/service.h"
#include "services/ecs/task_runner.h"
#include "store/database.h"

namespace gantry {
namespace {

namespace json = boost::json;

constexpr const char* kAuth =
    "AWS4-HMAC-SHA256 Credential=AKIDGOLDEN/20260101/us-east-1/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0000";

// Whether `actual` contains everything in `expected` (objects: a subset of keys, recursively;
// arrays and scalars: equal element by element).
bool json_subset(const json::value& expected, const json::value& actual, std::string path, std::string& why) {
  if (expected.is_object()) {
    if (!actual.is_object()) {
      why = path + ": expected an object, got " + json::serialize(actual);
      return false;
    }
    for (const auto& [k, v] : expected.as_object()) {
      auto* a = actual.as_object().if_contains(k);
      if (a == nullptr) {
        why = path + "." + std::string(k) + ": missing";
        return false;
      }
      if (!json_subset(v, *a, path + "." + std::string(k), why)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.as_array().size() != expected.as_array().size()) {
      why = path + ": expected " + json::serialize(expected) + ", got " + json::serialize(actual);
      return false;
    }
    for (size_t i = 0; i < expected.as_array().size(); ++i)
      if (!json_subset(expected.as_array()[i], actual.as_array()[i], path + "[" + std::to_string(i) + "]", why))
        return false;
    return true;
  }
  bool equal = expected.is_number() && actual.is_number() ? expected.to_number<double>() == actual.to_number<double>()
                                                          : expected == actual;
  if (!equal) why = path + ": expected " + json::serialize(expected) + ", got " + json::serialize(actual);
  return equal;
}

std::string header_of(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size(); ++i)
      same &= std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return {};
}

// Takes tasks as a host that can run them would, without running them: RunTask's answer is the
// stored PROVISIONING task, which is what the golden cases check.
class RecordingRunner final : public ecs::TaskRunner {
 public:
  std::string unavailable_reason() const override { return ""; }
  void submit(const std::string& arn, uint32_t, uint64_t) override { submitted.push_back(arn); }
  void stop(const std::string& arn) override { stopped.push_back(arn); }
  std::vector<std::string> submitted;
  std::vector<std::string> stopped;
};

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, Case) {
  std::ifstream in(GetParam());
  std::stringstream ss;
  ss << in.rdbuf();
  auto spec = json::parse(ss.str()).as_object();

  FakeClock clock(from_epoch_seconds(1767225600.0));  // 2026-01-01T00:00:00Z
  SeededRandom random(1);
  auto migrations = ecs::sqlite_migrations();
  for (auto& m : ec2::sqlite_migrations()) migrations.push_back(std::move(m));
  auto db = store::Database::open(":memory:", migrations);
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto ecs_store = ecs::make_sqlite_store(**db);
  auto ec2_store = ec2::make_sqlite_store(**db);
  api::Router router(api::RouterOptions{}, clock, random);
  ec2::Network network(*ec2_store);
  RecordingRunner runner;
  ASSERT_TRUE(router.add_json_service(ecs::make_service(*ecs_store, network, runner)).ok());
  ASSERT_TRUE(router.add_query_service(ec2::make_service(*ec2_store)).ok());

  int step_no = 0;
  for (const auto& step_value : spec.at("steps").as_array()) {
    ++step_no;
    const auto& step = step_value.as_object();
    const auto& req_spec = step.at("request").as_object();
    http::Request req;
    req.method = req_spec.contains("method") ? std::string(req_spec.at("method").as_string()) : "POST";
    req.target = req_spec.contains("target") ? std::string(req_spec.at("target").as_string()) : "/";
    std::string service = req_spec.contains("service") ? std::string(req_spec.at("service").as_string()) : "ecs";
    bool sign = !req_spec.contains("unsigned");
    if (auto* hs = req_spec.if_contains("headers"))
      for (const auto& [k, v] : hs->as_object()) {
        std::string name(k);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(name, std::string(v.as_string()));
      }
    if (sign) {
      std::string auth = kAuth;
      auth.replace(auth.find("{service}"), 9, service);
      req.headers.emplace_back("authorization", auth);
      req.headers.emplace_back("x-amz-date", "20260101T000000Z");
    }
    if (auto* b = req_spec.if_contains("body")) req.body = b->is_string() ? std::string(b->as_string()) : json::serialize(*b);

    auto res = router.handle(req);
    const auto& want = step.at("response").as_object();
    std::string where = GetParam() + " step " + std::to_string(step_no);
    EXPECT_EQ(res.status, want.at("status").to_number<int>()) << where << "\n" << res.body;
    EXPECT_FALSE(header_of(res, "x-amzn-RequestId").empty()) << where;
    if (auto* hs = want.if_contains("headers")) {
      for (const auto& [k, v] : hs->as_object()) {
        EXPECT_EQ(header_of(res, k), v.as_string()) << where << " header " << k;
      }
    }
    if (auto* j = want.if_contains("json")) {
      boost::system::error_code ec;
      auto actual = json::parse(res.body, ec);
      ASSERT_FALSE(ec) << where << ": body is not JSON: " << res.body;
      std::string why;
      EXPECT_TRUE(json_subset(*j, actual, "$", why)) << where << ": " << why;
    }
    if (auto* c = want.if_contains("contains")) {
      for (const auto& piece : c->as_array()) {
        EXPECT_NE(res.body.find(std::string(piece.as_string())), std::string::npos)
            << where << ": body lacks " << piece.as_string() << "\n" << res.body;
      }
    }
  }
}

std::vector<std::string> golden_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(GANTRY_GOLDEN_DIR))
    if (e.path().extension() == ".json") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Files, Golden, ::testing::ValuesIn(golden_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = std::filesystem::path(param.param).stem().string();
                           for (auto& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

}  // namespace
}  // namespace gantry
