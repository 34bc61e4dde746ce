#include "protocol/wire.h"

#include <fmt/format.h>

namespace gantry::protocol {

namespace json = boost::json;

namespace {
constexpr size_t kMaxJsonDepth = 64;
}

std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  size_t i = 0;
  while (i < in.size()) {
    auto c = static_cast<unsigned char>(in[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len != 0 && i + len <= in.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(in[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, UTF-16 surrogates and code points beyond U+10FFFF.
      uint32_t cp = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
      for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(in[i + k]) & 0x3Fu);
      ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
           !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF;
    }
    if (!ok) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(in.substr(i, len));
    i += len;
  }
  return out;
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
      case '\t':
      case '\n':
      case '\r': out.push_back(c); break;
      default:
        // XML 1.0 has no way to write other control characters, not even as references.
        if (static_cast<unsigned char>(c) < 0x20) out += "\xEF\xBF\xBD";
        else out.push_back(c);
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
  // Messages quote what the client sent (a target, an action, a value), which may be any bytes; the
  // body must stay valid JSON/XML, which are UTF-8.
  const std::string message = valid_utf8(error.message);
  http::Response r;
  r.status = w.http_status;
  r.set_header("x-amzn-RequestId", std::string(ctx.request_id));
  switch (ctx.protocol) {
    case Protocol::kJson: {
      r.set_header("Content-Type", fmt::format("application/x-amz-json-{}", ctx.json_version));
      json::object body{{"__type", w.type}, {"message", message}};
      r.body = json::serialize(body);
      break;
    }
    case Protocol::kRestJson: {
      r.set_header("Content-Type", "application/json");
      r.set_header("x-amzn-ErrorType", std::string(w.type));
      json::object body{{"Type", w.sender_fault ? "User" : "Service"}, {"message", message}};
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
          ns, w.sender_fault ? "Sender" : "Receiver", xml_escape(w.type), xml_escape(message),
          xml_escape(ctx.request_id));
      break;
    }
    case Protocol::kEc2: {
      r.set_header("Content-Type", "text/xml");
      r.body = fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message>"
          "</Error></Errors><RequestID>{}</RequestID></Response>\n",
          xml_escape(w.type), xml_escape(message), xml_escape(ctx.request_id));
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
