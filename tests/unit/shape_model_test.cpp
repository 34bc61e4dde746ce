#include "protocol/shape_model.h"

#include <gtest/gtest.h>

#include "api/models.h"

namespace gantry::protocol {
namespace {

namespace json = boost::json;

class EcsShapes : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = ShapeModel::parse(api::embedded_model("ecs"));
    ASSERT_TRUE(m.ok());
    model_ = std::make_unique<ShapeModel>(std::move(*m));
  }
  Status check(std::string_view op, std::string_view body) {
    input_ = json::parse(body).as_object();
    return model_->validate_input(op, input_);
  }
  std::unique_ptr<ShapeModel> model_;
  json::object input_;
};

TEST_F(EcsShapes, KnowsOperations) {
  EXPECT_TRUE(model_->has_operation("RegisterTaskDefinition"));
  EXPECT_TRUE(model_->has_operation("RunTask"));
  EXPECT_FALSE(model_->has_operation("LaunchRocket"));
}

TEST_F(EcsShapes, AcceptsValidInputAndDropsUnknownMembers) {
  auto st = check("RegisterTaskDefinition",
                  R"({"family":"f","bogus":1,"containerDefinitions":[{"name":"c","image":"i","memory":128,"zzz":true}]})");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(input_.contains("bogus"));
  EXPECT_FALSE(input_.at("containerDefinitions").as_array()[0].as_object().contains("zzz"));
  EXPECT_EQ(input_.at("containerDefinitions").as_array()[0].as_object().at("memory").as_int64(), 128);
}

TEST_F(EcsShapes, MissingRequiredIsAValidationError) {
  auto st = check("RegisterTaskDefinition", R"({"family":"f"})");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(st.error().message,
            "1 validation error detected: Value null at 'containerDefinitions' failed to satisfy constraint: Member "
            "must not be null");
}

TEST_F(EcsShapes, WrongTypeIsASerializationError) {
  auto st = check("RegisterTaskDefinition", R"({"family":7,"containerDefinitions":[]})");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kSerialization);
  EXPECT_NE(st.error().message.find("'family'"), std::string::npos);
}

TEST_F(EcsShapes, NestedPathsUseAwsMemberNotation) {
  auto st = check("RegisterTaskDefinition", R"({"family":"f","containerDefinitions":[{"name":"c"},{"memory":"x"}]})");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("containerDefinitions.2.member.memory"), std::string::npos) << st.error().message;
}

TEST_F(EcsShapes, EnumsAreChecked) {
  auto st = check("RegisterTaskDefinition",
                  R"({"family":"f","networkMode":"carrier-pigeon","containerDefinitions":[{"name":"c","image":"i"}]})");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kValidation);
  EXPECT_NE(st.error().message.find("Member must satisfy enum value set: [bridge, host, awsvpc, none]"),
            std::string::npos)
      << st.error().message;
}

TEST_F(EcsShapes, IntegersMustBeWholeAndIn32Bits) {
  EXPECT_EQ(check("ListClusters", R"({"maxResults":1.5})").error().kind, ErrorKind::kSerialization);
  EXPECT_EQ(check("ListClusters", R"({"maxResults":4294967296})").error().kind, ErrorKind::kSerialization);
  EXPECT_EQ(check("ListClusters", R"({"maxResults":18446744073709551615})").error().kind, ErrorKind::kSerialization);
  EXPECT_TRUE(check("ListClusters", R"({"maxResults":10.0})").ok());
  EXPECT_TRUE(input_.at("maxResults").is_int64());
}

TEST_F(EcsShapes, NullMembersReadAsAbsent) {
  EXPECT_TRUE(check("ListClusters", R"({"maxResults":null,"nextToken":null})").ok());
}

TEST_F(EcsShapes, ReportsSeveralViolations) {
  auto st = check("TagResource", R"({})");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.rfind("2 validation errors detected: ", 0), 0u) << st.error().message;
}

}  // namespace
}  // namespace gantry::protocol
