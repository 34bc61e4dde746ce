// What the Lambda operation files share: the service's dependencies, name and ARN resolution, the
// FunctionConfiguration document, member readers.
#pragma once

#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/router.h"
#include "services/lambda/invoker.h"
#include "services/lambda/model.h"

namespace gantry::lambda::detail {

namespace json = boost::json;

// An Event invocation's largest payload.
inline constexpr size_t kMaxAsyncPayloadBytes = 1048576;  // 1 MB

struct Deps {
  LambdaStore& store;
  Invoker& invoker;
  std::filesystem::path code_root;  // <data dir>/lambda/code: <code id>/ (unpacked) and <code id>.zip
  std::function<std::string()> endpoint;  // the server's base URL, for GetFunction's Code.Location
};
using DepsPtr = std::shared_ptr<const Deps>;

// A function as a request names it: "name", "name:qualifier", "arn:aws:lambda:region:acct:function:name[:q]"
// or "acct:function:name[:q]"; the qualifier may also come as its own member.
struct FunctionRef {
  std::string name;
  std::optional<std::string> qualifier;
};
// kLambdaInvalidParameterValue (or, for another account or region, kLambdaResourceNotFound as AWS does)
// when the text is none of those forms; a qualifier in both places must agree.
Result<FunctionRef> parse_function_ref(const api::RequestContext& ctx, std::string_view text,
                                       const std::optional<std::string>& qualifier_member, bool allow_qualifier);

std::string function_arn(const Scope& scope, std::string_view name);
std::string qualified_arn(const Scope& scope, std::string_view name, std::string_view qualifier);
// "2026-11-28T05:30:00.000+0000": how Lambda writes LastModified.
std::string last_modified(TimePoint t);

std::optional<std::string> get_string(const json::object& o, std::string_view key);
std::optional<int64_t> get_int(const json::object& o, std::string_view key);
std::optional<bool> get_bool(const json::object& o, std::string_view key);

Error not_found_function(const Scope& scope, std::string_view name, std::optional<std::string_view> qualifier = {});
Error invalid(std::string message);
// PreconditionFailedException: a RevisionId that is not the current one.
Error revision_mismatch();

// The version a qualifier means: "$LATEST", a version number, or an alias's version. Not found → AWS's
// ResourceNotFoundException. `alias_name` is set when the qualifier was an alias.
struct Resolved {
  Function function;
  Version version;
  std::optional<std::string> alias_name;
};
Result<Resolved> resolve(LambdaTables& t, const Scope& scope, const FunctionRef& ref);

// The answer of an operation: the JSON (or the error), with `status` (0: the model's).
Result<api::RestResponse> reply(Result<json::object> r, int status = 0);
// Changes the function `name` in one transaction: `edit` changes the row (stored after it succeeds) and says
// what to answer. A missing function is ResourceNotFoundException.
Result<json::object> edit_function(LambdaStore& store, const Scope& scope, const std::string& name,
                                   const std::function<Result<json::object>(LambdaTables&, Function&)>& edit);

// The function's resource policy as a policy document (GetPolicy, IAM); empty when it has no statements.
std::string policy_document(const Function& f);

// The sandbox's view of one version (see invoker.h).
FunctionSpec function_spec(const Deps& deps, const Scope& scope, const Function& f, const Version& v);

// Operation groups (functions.cpp, invoke.cpp, versions.cpp, permissions.cpp).
void add_function_operations(api::RestService& s, const DepsPtr& deps);
void add_invoke_operations(api::RestService& s, const DepsPtr& deps);
void add_version_operations(api::RestService& s, const DepsPtr& deps);
void add_permission_operations(api::RestService& s, const DepsPtr& deps);

}  // namespace gantry::lambda::detail
