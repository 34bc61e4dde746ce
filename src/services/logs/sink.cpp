#include "services/logs/sink.h"

#include <algorithm>

#include "services/logs/handlers.h"

namespace gantry::logs {

namespace {

class StoreSink final : public Sink {
 public:
  StoreSink(LogsStore& store, const Clock& clock) : store_(store), clock_(clock) {}

  Status append(const Scope& scope, std::string_view group, std::string_view stream, std::vector<Event> events,
                bool create_group, bool create_stream) override {
    GANTRY_RETURN_IF_ERROR(check_group_name(group));
    GANTRY_RETURN_IF_ERROR(check_stream_name(stream));
    std::erase_if(events, [](const Event& e) { return e.message.empty(); });
    std::stable_sort(events.begin(), events.end(),
                     [](const Event& a, const Event& b) { return a.timestamp_ms < b.timestamp_ms; });
    int64_t now = to_ms(clock_.now());
    auto r = store_.write([&](LogsTables& t) -> Result<json::object> {
      if (!t.find_group(scope, group)) {
        if (!create_group) return group_not_found();
        t.put_group(new_group(scope, std::string(group), now));
      }
      auto s = t.find_stream(scope, group, stream);
      if (!s) {
        if (!create_stream) return stream_not_found();
        s = new_stream(scope, std::string(group), std::string(stream), now);
      }
      append_to_stream(t, *s, events, now);
      return json::object{};
    });
    if (!r) return r.error();
    return {};
  }

 private:
  LogsStore& store_;
  const Clock& clock_;
};

}  // namespace

std::unique_ptr<Sink> make_sink(LogsStore& store, const Clock& clock) {
  return std::make_unique<StoreSink>(store, clock);
}

}  // namespace gantry::logs
