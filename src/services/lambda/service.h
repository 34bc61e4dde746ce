// The Lambda service as the router sees it: a rest-json operation table over a LambdaStore, running
// functions through an Invoker.
#pragma once

#include <cstdint>
#include <string>
#include <filesystem>
#include <functional>

#include "api/router.h"
#include "services/lambda/invoker.h"
#include "services/lambda/model.h"

namespace gantry::lambda {

// `store` and `invoker` must outlive the returned service. Deployment packages are kept under
// `code_root` (<data dir>/lambda/code); `endpoint` gives the server's base URL ("http://127.0.0.1:4566") for
// GetFunction's Code.Location.
api::RestService make_service(LambdaStore& store, Invoker& invoker, std::filesystem::path code_root,
                              std::function<std::string()> endpoint);

}  // namespace gantry::lambda
