// The botocore-derived models compiled into the binary (models/*.json, see scripts/gen-models).
#pragma once

#include <string_view>

namespace gantry::api {

// models/index.json: every service's metadata and operation names.
std::string_view embedded_model_index();
// models/<service>.json; empty when the binary carries no model for that service.
std::string_view embedded_model(std::string_view service);

}  // namespace gantry::api
