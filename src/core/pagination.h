// Opaque pagination tokens. A token carries the sort key of the last item returned and the name of
// the listing it belongs to, base64url-encoded; anything else handed back is rejected, never trusted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gantry {

std::string encode_page_token(std::string_view listing, std::string_view last_key);
// The last key, or nullopt when `token` is not a token of `listing`.
std::optional<std::string> decode_page_token(std::string_view listing, std::string_view token);

std::string base64_encode(std::string_view in, bool url_safe = false);
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace gantry
