#include "services/sts/service.h"

#include "core/arn.h"

namespace gantry::sts {

namespace {

// The caller as its verified signature identifies it. For the account root AWS reports the account id
// as UserId; for an IAM user or role session it is the user's or role's unique id (with IAM).
Result<protocol::xml::Element> get_caller_identity(api::RequestContext& ctx, boost::json::object&) {
  protocol::xml::Element out("GetCallerIdentityResult");
  out.add("Arn", ctx.principal_arn);
  auto arn = Arn::parse(ctx.principal_arn);
  bool root = arn && arn->resource == "root";
  out.add("UserId", root || ctx.principal_id.empty() ? ctx.scope.account : ctx.principal_id);
  out.add("Account", ctx.scope.account);
  return out;
}

}  // namespace

api::QueryService make_service() {
  api::QueryService s;
  s.name = "sts";
  s.validation_error_type = "ValidationError";
  s.operations.emplace("GetCallerIdentity", get_caller_identity);
  return s;
}

}  // namespace gantry::sts
