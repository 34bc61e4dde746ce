// How other Gantry modules (the ECS task supervisor's awslogs driver, Lambda) write log lines without
// going through HTTP. Thread-safe: each append is one store transaction.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/arn.h"
#include "core/clock.h"
#include "core/error.h"
#include "services/logs/model.h"

namespace gantry::logs {

class Sink {
 public:
  virtual ~Sink() = default;

  // Appends `events` to `stream` of `group` in `scope`, sorted by timestamp (stable, so lines of the
  // same millisecond keep their order); empty messages are dropped, as AWS does not store them.
  // A missing group or stream is created when `create_group` / `create_stream` say so; otherwise it
  // is a kLogsResourceNotFound error and nothing is stored. Names are checked as CreateLogGroup and
  // CreateLogStream check them. The ingestion time is the clock's now.
  virtual Status append(const Scope& scope, std::string_view group, std::string_view stream, std::vector<Event> events,
                        bool create_group, bool create_stream) = 0;
};

// `store` and `clock` must outlive the sink.
std::unique_ptr<Sink> make_sink(LogsStore& store, const Clock& clock);

}  // namespace gantry::logs
