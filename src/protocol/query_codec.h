// The query and ec2 protocols: requests are form-urlencoded parameters (body or query string) named
// by the botocore serializers' rules, responses are XML. IAM and STS (query) and EC2 share this codec.
//
// Parameter names, as botocore writes them:
//   ec2    a member is named by its queryName, else its locationName with the first letter upper-cased,
//          else the member name; every list is flattened: `SubnetId.1=a&SubnetId.2=b`,
//          `Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1`.
//   query  a member is named by its locationName, else the member name; a list is `Name.member.N`
//          (or `Name.<member locationName>.N`), a flattened list `Name.N`, an empty list `Name=`; a map is
//          `Name.entry.N.key` / `Name.entry.N.value`.
// Decoding turns those into a JSON object shaped like the operation's input shape (members under
// their botocore names, typed values), ready for ShapeModel::validate_input.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "http/message.h"
#include "protocol/shape_model.h"
#include "protocol/wire.h"
#include "protocol/xml.h"

namespace gantry::protocol {

struct QueryRequest {
  std::string action;   // the Action parameter (empty when absent)
  std::string version;  // the Version parameter (empty when absent)
  // Every other parameter, decoded, query string first and then a form body, in request order.
  std::vector<std::pair<std::string, std::string>> params;
};

// Reads the parameters of the query string and, when the content type is form-urlencoded, the body.
QueryRequest read_query_request(const http::Request& request);

// Builds the input of `op` from `params` following `protocol`'s naming (kQuery or kEc2). Parameters
// the shape does not name are ignored, as unknown JSON members are. A value that is not of the
// member's type (an integer, a boolean, a timestamp) or a list index that is not a positive number
// is a kValidation error naming the parameter.
Result<boost::json::object> decode_query_input(const ShapeModel& model, std::string_view op,
                                               const std::vector<std::pair<std::string, std::string>>& params,
                                               Protocol protocol);

// The XML namespace of a service's responses: http://ec2.amazonaws.com/doc/2016-11-15/ for ec2,
// https://iam.amazonaws.com/doc/2010-05-08/ for query services.
std::string xml_namespace(Protocol protocol, std::string_view endpoint_prefix, std::string_view api_version);

// An ec2 response: <ActionResponse xmlns=ns><requestId>id</requestId>[result's children]</ActionResponse>.
std::string ec2_response_body(std::string_view action, std::string_view ns, std::string_view request_id,
                              const xml::Element& result);
// A query response: <ActionResponse xmlns=ns><ActionResult>[result's children]</ActionResult>
// <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata></ActionResponse>; no ActionResult
// element when the result is empty, unless `always_result` (the output has a result wrapper even
// without members, e.g. IAM's UpdateRole).
std::string query_response_body(std::string_view action, std::string_view ns, std::string_view request_id,
                                const xml::Element& result, bool always_result = false);
// 200, text/xml, x-amzn-RequestId, the body of the protocol's envelope.
http::Response xml_response(Protocol protocol, std::string_view action, std::string_view ns,
                            std::string_view request_id, const xml::Element& result, bool always_result = false);

}  // namespace gantry::protocol
