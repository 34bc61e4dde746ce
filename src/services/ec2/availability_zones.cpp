// DescribeAvailabilityZones: the zones of the caller's region (see default_network.h).
#include <fmt/format.h>

#include <algorithm>

#include "services/ec2/default_network.h"
#include "services/ec2/handlers.h"

namespace gantry::ec2 {

namespace {

struct Zone {
  AvailabilityZone zone;
  std::vector<Tag> tags;  // zones carry none; here for the tag filters every listing accepts
};

const std::vector<FilterField<Zone>>& zone_filters() {
  using V = std::vector<std::string>;
  static const std::vector<FilterField<Zone>> fields = {
      {"zone-name", [](const Zone& z) { return V{z.zone.name}; }},
      {"zone-id", [](const Zone& z) { return V{z.zone.id}; }},
      {"region-name", [](const Zone& z) { return V{z.zone.region}; }},
      {"state", [](const Zone&) { return V{"available"}; }},
      {"opt-in-status", [](const Zone&) { return V{"opt-in-not-required"}; }},
      {"zone-type", [](const Zone&) { return V{"availability-zone"}; }},
      {"group-name", [](const Zone& z) { return V{z.zone.region + "-zg-1"}; }},
      {"network-border-group", [](const Zone& z) { return V{z.zone.region}; }},
  };
  return fields;
}

}  // namespace

Out describe_availability_zones(Ec2Store&, Ctx& ctx, json::object& in) {
  GANTRY_RETURN_IF_ERROR(check_dry_run(in));
  GANTRY_ASSIGN_OR_RETURN(auto filters, parse_filters(in));
  std::vector<Zone> zones;
  for (auto& z : availability_zones(ctx.scope.region)) zones.push_back(Zone{std::move(z), {}});
  auto names = id_list(in, "ZoneNames");
  auto zone_ids = id_list(in, "ZoneIds");
  for (const auto& n : names) {
    bool found = false;
    for (const auto& z : zones) found = found || z.zone.name == n;
    if (!found)
      return make_error(ErrorKind::kEc2InvalidParameterValue, fmt::format("Invalid availability zone: [{}]", n.substr(0, 128)));
  }
  for (const auto& id : zone_ids) {
    bool found = false;
    for (const auto& z : zones) found = found || z.zone.id == id;
    if (!found)
      return make_error(ErrorKind::kEc2InvalidParameterValue,
                        fmt::format("Invalid availability zone ID: [{}]", id.substr(0, 128)));
  }
  if (!names.empty() || !zone_ids.empty()) {
    std::vector<Zone> chosen;
    for (auto& z : zones) {
      bool by_name = std::find(names.begin(), names.end(), z.zone.name) != names.end();
      bool by_id = std::find(zone_ids.begin(), zone_ids.end(), z.zone.id) != zone_ids.end();
      if (by_name || by_id) chosen.push_back(std::move(z));
    }
    zones = std::move(chosen);
  }
  GANTRY_ASSIGN_OR_RETURN(auto matching, apply_filters(std::move(zones), filters, zone_filters()));
  protocol::xml::Element out("DescribeAvailabilityZonesResult");
  auto& set = out.add("availabilityZoneInfo");
  for (const auto& z : matching) {
    auto& item = set.add("item");
    item.add("optInStatus", "opt-in-not-required");
    item.add("zoneName", z.zone.name);
    item.add("zoneId", z.zone.id);
    item.add("zoneState", "available");
    item.add("regionName", z.zone.region);
    item.add("groupName", z.zone.region + "-zg-1");
    item.add("networkBorderGroup", z.zone.region);
    item.add("zoneType", "availability-zone");
    item.add("groupLongName", z.zone.region);
    item.add("messageSet");
  }
  return out;
}

}  // namespace gantry::ec2
