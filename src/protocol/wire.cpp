#include "protocol/wire.h"

#include <fmt/format.h>

namespace gantry::protocol {

namespace json = boost::json;

namespace {
constexpr size_t kMaxJsonDepth = 64;
}

std::string xml_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

http::Response json_response(const json::value& body, std::string_view json_version, std::string_view request_id) {
  http::Response r;
  r.status = 200;
  r.set_header("Content-Type", fmt::format("application/x-amz-json-{}", json_version));
  r.set_header("x-amzn-RequestId", std::string(request_id));
  r.body = json::serialize(body);
  return r;
}

http::Response encode_error(const Error& error, const ErrorContext& ctx) {
  WireError w = wire_error(error.kind, ctx.validation_type);
  http::Response r;
  r.status = w.http_status;
  r.set_header("x-amzn-RequestId", std::string(ctx.request_id));
  switch (ctx.protocol) {
    case Protocol::kJson: {
      r.set_header("Content-Type", fmt::format("application/x-amz-json-{}", ctx.json_version));
      json::object body{{"__type", w.type}, {"message", error.message}};
      r.body = json::serialize(body);
      break;
    }
    case Protocol::kRestJson: {
      r.set_header("Content-Type", "application/json");
      r.set_header("x-amzn-ErrorType", std::string(w.type));
      json::object body{{"Type", w.sender_fault ? "User" : "Service"}, {"message", error.message}};
      r.body = json::serialize(body);
      break;
    }
    case Protocol::kQuery: {
      r.set_header("Content-Type", "text/xml");
      std::string ns = ctx.xml_namespace.empty() ? std::string()
                                                 : fmt::format(" xmlns=\"{}\"", xml_escape(ctx.xml_namespace));
      r.body = fmt::format(
          "<ErrorResponse{}>\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n"
          "  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
          ns, w.sender_fault ? "Sender" : "Receiver", xml_escape(w.type), xml_escape(error.message),
          xml_escape(ctx.request_id));
      break;
    }
    case Protocol::kEc2: {
      r.set_header("Content-Type", "text/xml");
      r.body = fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message>"
          "</Error></Errors><RequestID>{}</RequestID></Response>\n",
          xml_escape(w.type), xml_escape(error.message), xml_escape(ctx.request_id));
      break;
    }
  }
  return r;
}

Result<json::object> parse_json_body(std::string_view body) {
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t')) ++i;
  if (i == body.size()) return json::object{};
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec) return make_error(ErrorKind::kSerialization, fmt::format("Request body is not valid JSON: {}", ec.message()));
  if (!v.is_object()) return make_error(ErrorKind::kSerialization, "Request body must be a JSON object");
  return std::move(v.as_object());
}

}  // namespace gantry::protocol
