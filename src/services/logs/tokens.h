// The tokens CloudWatch Logs hands out for events, in AWS's shapes: GetLogEvents' "f/<digits>" and
// "b/<digits>", PutLogEvents' sequence tokens and FilterLogEvents' eventId (digit strings).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/logs/model.h"

namespace gantry::logs {

// A GetLogEvents position. Forward: the next read returns events after `key`; backward: the next read
// returns the events before `key`.
struct EventToken {
  bool forward = true;
  EventKey key;
};

std::string encode_event_token(const EventToken& token);
// nullopt for anything that is not a token made by encode_event_token.
std::optional<EventToken> decode_event_token(std::string_view text);

// 56 decimal digits, as AWS's sequence tokens and event ids.
std::string sequence_token(int64_t upload_sequence);
std::string event_id(int64_t seq);

}  // namespace gantry::logs
