#include "services/iam/sessions.h"

#include <fmt/format.h>

#include "auth/keys.h"
#include "core/arn.h"
#include "iam/policy.h"

namespace gantry::iam {

namespace {
constexpr auto kKeepExpired = std::chrono::hours(24);
constexpr size_t kTokenChars = 360;
}  // namespace

Status store_new_session(CountingStore& store, Session& session, std::string_view account, TimePoint now,
                         std::chrono::seconds duration, Random& random) {
  auto pair = auth::generate_key_pair(random);
  session.access_key_id = "ASIA" + pair.access_key_id.substr(4);
  session.secret = pair.secret;
  session.token =
      auth::random_chars(random, kTokenChars, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  session.account = std::string(account);
  session.expires_at = now + duration;
  return store.write_uncounted([&](IamTables& t) -> Status {
    t.delete_sessions_expired_before(now - kKeepExpired);
    t.put_session(session);
    return {};
  });
}

Result<Role> role_trusting_service(IamStore& store, std::string_view account, const std::string& role_arn,
                                   std::string_view service) {
  auto refuse = [&](std::string_view why) {
    return make_error(ErrorKind::kAccessDenied,
                      fmt::format("{} cannot assume the role '{}': {}", service, role_arn, why));
  };
  auto arn = Arn::parse(role_arn);
  if (!arn || arn->service != "iam" || arn->account != account || !arn->resource.starts_with("role/"))
    return refuse("it is not a role of this account");
  std::optional<Role> role;
  GANTRY_RETURN_IF_ERROR(store.read([&](IamTables& t) -> Status {
    role = t.find_role(account, arn->resource.substr(arn->resource.rfind('/') + 1));
    return {};
  }));
  if (!role || role->arn() != role_arn) return refuse("the role does not exist");
  auto trust = parse_policy(role->trust_policy, PolicyKind::kTrust);
  if (!trust.ok()) return refuse("its trust policy does not parse");
  RequestContext request;
  request.action = "sts:AssumeRole";
  request.resource = role_arn;
  request.principal_arn = std::string(service);
  request.keys = {{"aws:principalservicename", {std::string(service)}}};
  std::vector<const Policy*> resource{&*trust};
  if (evaluate({}, resource, request).decision != Decision::kAllow)
    return refuse(fmt::format("its trust policy does not allow the service principal {}", service));
  return *role;
}

Result<Session> service_session(CountingStore& store, std::string_view account, const std::string& role_arn,
                                std::string_view service, const std::string& session_name,
                                std::chrono::seconds duration, TimePoint now, Random& random) {
  GANTRY_ASSIGN_OR_RETURN(auto role, role_trusting_service(store, account, role_arn, service));
  Session session;
  session.role_name = role.name;
  session.principal_arn = fmt::format("arn:aws:sts::{}:assumed-role/{}/{}", account, role.name, session_name);
  session.principal_id = role.id + ":" + session_name;
  GANTRY_RETURN_IF_ERROR(store_new_session(store, session, account, now, duration, random));
  return session;
}

}  // namespace gantry::iam
