// Encoding responses and errors for each AWS wire protocol.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/message.h"

namespace gantry::protocol {

enum class Protocol { kJson, kRestJson, kQuery, kEc2 };

struct ErrorContext {
  Protocol protocol = Protocol::kJson;
  std::string_view json_version = "1.1";      // json: content type application/x-amz-json-<v>
  std::string_view validation_type = "ValidationException";
  std::string_view xml_namespace;             // query: namespace of <ErrorResponse>
  std::string_view request_id;
};

http::Response encode_error(const Error& error, const ErrorContext& ctx);
http::Response json_response(const boost::json::value& body, std::string_view json_version, std::string_view request_id);

// Parses a JSON request body with the edge's limits (nesting depth). An empty body is {}.
Result<boost::json::object> parse_json_body(std::string_view body);

std::string xml_escape(std::string_view in);
// `in` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view in);

}  // namespace gantry::protocol
