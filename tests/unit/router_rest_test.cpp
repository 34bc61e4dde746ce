// The rest-json edge: routing by method and path against the model's requestUri templates, the input
// built from labels, query string, headers and body, status codes, errors and deferred answers. A fake
// "lambda" service echoes what it was given.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/router.h"

namespace gantry {
namespace {

namespace json = boost::json;

std::string header_of(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return v;
  return {};
}

json::object body_of(const http::Response& r) {
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) {
    ADD_FAILURE() << "body is not a JSON object: " << r.body;
    return {};
  }
  return v.as_object();
}

api::RestResponse echo(std::string_view op, const json::object& input) {
  api::RestResponse r;
  r.json = {{"Operation", op}, {"Input", input}};
  return r;
}

class RouterRest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::RestService lambda{"lambda", "InvalidParameterValueException", {}, {}};
    for (const char* op : {"GetFunction", "GetFunctionConfiguration", "ListFunctions", "CreateFunction"})
      lambda.operations[op] = [op](api::RequestContext&, json::object& input) -> Result<api::RestResponse> {
        if (auto* name = input.if_contains("FunctionName"); name && *name == "missing")
          return make_error(ErrorKind::kLambdaResourceNotFound, "Function not found: missing");
        return echo(op, input);
      };
    lambda.operations["Invoke"] = [](api::RequestContext&, json::object& input) -> Result<api::RestResponse> {
      api::RestResponse r;
      if (auto* type = input.if_contains("InvocationType"); type && *type == "DryRun") {
        r.status = 204;
        return r;
      }
      r.raw = input.contains("Payload") ? std::string(input.at("Payload").as_string()) : "(no payload)";
      r.content_type = "application/octet-stream";
      if (auto* log = input.if_contains("LogType")) r.headers.emplace_back("X-Log-Type-Seen", log->as_string());
      return r;
    };
    lambda.operations["UntagResource"] = [this](api::RequestContext&,
                                                json::object& input) -> Result<api::RestResponse> {
      last_input_ = input;
      return api::RestResponse{};
    };
    lambda.operations["GetAccountSettings"] = [this](api::RequestContext&, json::object&) -> Result<api::RestResponse> {
      api::RestResponse r;
      r.later = [this](std::function<void(Result<api::RestResponse>)> done) { done_ = std::move(done); };
      return r;
    };
    ASSERT_TRUE(router_.add_rest_service(std::move(lambda)).ok());
  }

  http::Response call(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}, std::string service = "lambda") {
    http::Request req;
    req.method = std::move(method);
    req.target = std::move(target);
    req.body = std::move(body);
    req.headers = std::move(headers);
    req.headers.emplace_back("authorization", "AWS4-HMAC-SHA256 Credential=AKIDREST/20260101/us-east-1/" + service +
                                                  "/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000");
    req.headers.emplace_back("x-amz-date", "20260101T000000Z");
    return router_.handle(req);
  }

  FakeClock clock_{from_epoch_seconds(1767225600.0)};
  SeededRandom random_{1};
  api::Router router_{api::RouterOptions{}, clock_, random_};
  json::object last_input_;
  std::function<void(Result<api::RestResponse>)> done_;
};

TEST_F(RouterRest, RoutesByMethodAndPath) {
  auto get = call("GET", "/2015-03-31/functions/my-fn");
  EXPECT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(body_of(get)["Operation"], "GetFunction");
  EXPECT_EQ(header_of(get, "Content-Type"), "application/json");
  EXPECT_FALSE(header_of(get, "x-amzn-RequestId").empty());

  auto config = call("GET", "/2015-03-31/functions/my-fn/configuration");
  EXPECT_EQ(body_of(config)["Operation"], "GetFunctionConfiguration") << config.body;

  auto invoke = call("POST", "/2015-03-31/functions/my-fn/invocations", "hello");
  EXPECT_EQ(invoke.status, 200);
  EXPECT_EQ(invoke.body, "hello");
}

TEST_F(RouterRest, LabelIsPercentDecodedAndQueryStringFillsItsMember) {
  auto res = call("GET", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Amy-fn"
                         "?Qualifier=%24LATEST");
  ASSERT_EQ(res.status, 200) << res.body;
  auto input = body_of(res)["Input"].as_object();
  EXPECT_EQ(input["FunctionName"], "arn:aws:lambda:us-east-1:000000000000:function:my-fn");
  EXPECT_EQ(input["Qualifier"], "$LATEST");
}

TEST_F(RouterRest, QueryStringIsConvertedToTheMembersType) {
  // The trailing slash is the one some SDKs send for ListFunctions.
  auto res = call("GET", "/2015-03-31/functions/?MaxItems=5&Marker=a+b%2Bc");
  ASSERT_EQ(res.status, 200) << res.body;
  auto input = body_of(res)["Input"].as_object();
  EXPECT_EQ(body_of(res)["Operation"], "ListFunctions");
  EXPECT_TRUE(input["MaxItems"].is_int64()) << json::serialize(input);
  EXPECT_EQ(input["MaxItems"], 5);
  EXPECT_EQ(input["Marker"], "a b+c");

  auto list = call("DELETE", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af"
                             "?tagKeys=team&tagKeys=cost%20center");
  EXPECT_EQ(list.status, 204) << list.body;  // the model's responseCode
  EXPECT_TRUE(list.body.empty());
  EXPECT_EQ(json::serialize(last_input_["TagKeys"]), R"(["team","cost center"])");
}

TEST_F(RouterRest, BadQueryValuesAreTheServicesValidationError) {
  auto res = call("GET", "/2015-03-31/functions?MaxItems=lots");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(header_of(res, "x-amzn-ErrorType"), "InvalidParameterValueException");
  EXPECT_NE(std::string(body_of(res)["message"].as_string()).find("MaxItems"), std::string::npos) << res.body;

  auto range = call("GET", "/2015-03-31/functions?MaxItems=0");
  EXPECT_EQ(range.status, 400);
  EXPECT_EQ(header_of(range, "x-amzn-ErrorType"), "InvalidParameterValueException") << range.body;
}

TEST_F(RouterRest, HeadersFillTheirMembers) {
  auto dry = call("POST", "/2015-03-31/functions/f/invocations", R"({"a":1})", {{"x-amz-invocation-type", "DryRun"}});
  EXPECT_EQ(dry.status, 204);  // the operation's own status
  EXPECT_TRUE(dry.body.empty());

  auto tail = call("POST", "/2015-03-31/functions/f/invocations", "", {{"x-amz-log-type", "Tail"}});
  EXPECT_EQ(header_of(tail, "X-Log-Type-Seen"), "Tail");
}

TEST_F(RouterRest, BlobPayloadIsTheRawBody) {
  std::string bytes("not json \x01\x02", 11);
  auto res = call("POST", "/2015-03-31/functions/f/invocations", bytes);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, bytes);
  EXPECT_EQ(header_of(res, "Content-Type"), "application/octet-stream");

  auto empty = call("POST", "/2015-03-31/functions/f/invocations");
  EXPECT_EQ(empty.body, "(no payload)");
}

TEST_F(RouterRest, JsonBodyFillsTheMembersWithoutLocation) {
  auto res = call("POST", "/2015-03-31/functions",
                  R"({"FunctionName":"f","Role":"arn:aws:iam::000000000000:role/r","Code":{},"MemorySize":256})");
  EXPECT_EQ(res.status, 201) << res.body;  // CreateFunction's responseCode in the model
  auto input = body_of(res)["Input"].as_object();
  EXPECT_EQ(input["FunctionName"], "f");
  EXPECT_EQ(input["MemorySize"], 256);

  // A body key naming a URI or query string member does not set it.
  auto get = call("GET", "/2015-03-31/functions/from-path", R"({"FunctionName":"from-body","Qualifier":"1"})");
  auto got = body_of(get)["Input"].as_object();
  EXPECT_EQ(got["FunctionName"], "from-path");
  EXPECT_FALSE(got.contains("Qualifier"));

  auto bad = call("POST", "/2015-03-31/functions", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(header_of(bad, "x-amzn-ErrorType"), "SerializationException");

  auto missing = call("POST", "/2015-03-31/functions", R"({"FunctionName":"f"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(header_of(missing, "x-amzn-ErrorType"), "InvalidParameterValueException") << missing.body;
}

TEST_F(RouterRest, OperationErrorsUseTheirKinds) {
  auto res = call("GET", "/2015-03-31/functions/missing");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(header_of(res, "x-amzn-ErrorType"), "ResourceNotFoundException");
  EXPECT_EQ(body_of(res)["Type"], "User");
}

TEST_F(RouterRest, UnknownPathIs404) {
  auto res = call("GET", "/2015-03-31/nothing/here");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(header_of(res, "x-amzn-ErrorType"), "UnknownOperationException");
  EXPECT_NE(res.body.find("GET /2015-03-31/nothing/here"), std::string::npos) << res.body;

  EXPECT_EQ(call("PATCH", "/2015-03-31/functions").status, 404);
  EXPECT_EQ(call("GET", "/2015-03-31/functions/f/configuration/extra").status, 404);
}

TEST_F(RouterRest, ModelOperationsNotRegisteredAreUnsupported) {
  auto res = call("DELETE", "/2015-03-31/functions/f");
  EXPECT_EQ(res.status, 501);
  EXPECT_EQ(header_of(res, "x-amzn-ErrorType"), "UnsupportedOperation");
  EXPECT_NE(res.body.find("lambda:DeleteFunction"), std::string::npos) << res.body;

  // The fixed query part of a requestUri makes the more specific route.
  auto list = call("GET", "/2019-09-30/functions/f/provisioned-concurrency?List=ALL");
  EXPECT_NE(list.body.find("ListProvisionedConcurrencyConfigs"), std::string::npos) << list.body;
  auto get = call("GET", "/2019-09-30/functions/f/provisioned-concurrency?Qualifier=1");
  EXPECT_NE(get.body.find("GetProvisionedConcurrencyConfig"), std::string::npos) << get.body;

  // A rest-json service nobody registered routes all the same.
  auto schedules = call("GET", "/schedules?MaxResults=5", "", {}, "scheduler");
  EXPECT_EQ(schedules.status, 501);
  EXPECT_NE(schedules.body.find("scheduler:ListSchedules"), std::string::npos) << schedules.body;
}

TEST_F(RouterRest, LaterAnswersWhenDone) {
  auto res = call("GET", "/2016-08-19/account-settings");
  ASSERT_TRUE(res.later);
  EXPECT_FALSE(done_);  // the router does not start the wait; the server does
  std::optional<http::Response> answer;
  res.later([&](http::Response r) { answer = std::move(r); });
  ASSERT_TRUE(done_);
  EXPECT_FALSE(answer);
  api::RestResponse settings;
  settings.json = {{"AccountLimit", {{"ConcurrentExecutions", 1000}}}};
  done_(settings);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(body_of(*answer)["AccountLimit"].as_object()["ConcurrentExecutions"], 1000);
  EXPECT_FALSE(header_of(*answer, "x-amzn-RequestId").empty());

  auto failing = call("GET", "/2016-08-19/account-settings");
  answer.reset();
  failing.later([&](http::Response r) { answer = std::move(r); });
  done_(make_error(ErrorKind::kValidation, "too late"));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400);
  EXPECT_EQ(header_of(*answer, "x-amzn-ErrorType"), "InvalidParameterValueException");
}

}  // namespace
}  // namespace gantry
