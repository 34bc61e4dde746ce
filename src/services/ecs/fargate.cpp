#include "services/ecs/fargate.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace gantry::ecs {

namespace {

struct SizeRow {
  int64_t cpu;
  int64_t min_mib;
  int64_t max_mib;
  int64_t step_mib;
};

// From the AWS Fargate task-size table.
constexpr std::array<SizeRow, 7> kSizes{{
    {256, 512, 2048, 512},  // 512, 1024, 2048 (special-cased: 1536 is not offered)
    {512, 1024, 4096, 1024},
    {1024, 2048, 8192, 1024},
    {2048, 4096, 16384, 1024},
    {4096, 8192, 30720, 1024},
    {8192, 16384, 61440, 4096},
    {16384, 32768, 122880, 8192},
}};

std::string lower_trimmed(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

// A plain decimal: digits with at most one '.', at least one digit.
std::optional<double> decimal(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  int dots = 0, digits = 0;
  for (char c : s) {
    if (c == '.') ++dots;
    else if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
    else return std::nullopt;
  }
  if (dots > 1 || digits == 0) return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

std::optional<int64_t> with_unit(std::string_view text, std::string_view unit, double per_unit) {
  std::string s = lower_trimmed(text);
  bool has_unit = s.size() > unit.size() && s.compare(s.size() - unit.size(), unit.size(), unit) == 0;
  std::string_view number = has_unit ? std::string_view(s).substr(0, s.size() - unit.size()) : std::string_view(s);
  auto v = decimal(number);
  if (!v) return std::nullopt;
  if (!has_unit) {
    if (number.find('.') != std::string_view::npos) return std::nullopt;  // plain units must be whole
    return static_cast<int64_t>(*v);
  }
  double scaled = *v * per_unit;
  if (scaled > 1e12 || scaled != std::floor(scaled)) return std::nullopt;
  return static_cast<int64_t>(scaled);
}

}  // namespace

std::optional<int64_t> parse_cpu_units(std::string_view text) { return with_unit(text, "vcpu", 1024.0); }
std::optional<int64_t> parse_memory_mib(std::string_view text) { return with_unit(text, "gb", 1024.0); }

bool fargate_size_supported(int64_t cpu_units, int64_t memory_mib) {
  for (const auto& row : kSizes) {
    if (row.cpu != cpu_units) continue;
    if (row.cpu == 256) return memory_mib == 512 || memory_mib == 1024 || memory_mib == 2048;
    return memory_mib >= row.min_mib && memory_mib <= row.max_mib && (memory_mib - row.min_mib) % row.step_mib == 0;
  }
  return false;
}

std::string fargate_memory_choices(int64_t cpu_units) {
  for (const auto& row : kSizes) {
    if (row.cpu != cpu_units) continue;
    if (row.cpu == 256) return "512, 1024, 2048";
    return std::to_string(row.min_mib) + " to " + std::to_string(row.max_mib) + " in steps of " +
           std::to_string(row.step_mib);
  }
  return "none (valid CPU values: 256, 512, 1024, 2048, 4096, 8192, 16384)";
}

}  // namespace gantry::ecs
