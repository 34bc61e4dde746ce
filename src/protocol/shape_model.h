// A service's botocore model (the subset scripts/gen-models extracts): operation names and the
// shapes of their inputs. Used to validate decoded input the way AWS's front end does before a
// handler sees it: JSON types (SerializationException), required members, enums and length/range
// limits (the service's validation error, worded as AWS words it). Unknown members are dropped, so a
// handler only ever sees what the model defines.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::protocol {

class ShapeModel {
 public:
  static Result<ShapeModel> parse(std::string_view json_text);

  bool has_operation(std::string_view op) const;
  std::vector<std::string> operations() const;
  const boost::json::object& metadata() const { return metadata_; }

  // Checks `input` against the input shape of `op` and removes members the model does not define.
  Status validate_input(std::string_view op, boost::json::object& input) const;

  // The name of `op`'s input shape; empty when `op` is unknown or takes no input.
  std::string_view input_shape(std::string_view op) const;
  // Query protocol: whether `op`'s output is wrapped in <OpResult>, which AWS sends even when empty.
  bool has_result_wrapper(std::string_view op) const;
  // A shape as the model stores it (type, members, member, ...); nullptr when the model lacks it.
  const boost::json::object* shape(std::string_view name) const;

 private:
  boost::json::object metadata_;
  boost::json::object operations_;
  boost::json::object shapes_;
};

}  // namespace gantry::protocol
