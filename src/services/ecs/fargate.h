// Task-size rules of the Fargate launch type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::ecs {

// "256", "0.25 vcpu", ".25 vCPU", "1 vCPU" -> CPU units (1024 per vCPU). nullopt when unparseable.
std::optional<int64_t> parse_cpu_units(std::string_view text);
// "512", "0.5 GB", "1GB", "2 gb" -> MiB. nullopt when unparseable.
std::optional<int64_t> parse_memory_mib(std::string_view text);
// Whether (cpu units, memory MiB) is a task size Fargate offers.
bool fargate_size_supported(int64_t cpu_units, int64_t memory_mib);
// The memory values Fargate offers for a CPU value, for error messages ("512, 1024, 2048").
std::string fargate_memory_choices(int64_t cpu_units);

}  // namespace gantry::ecs
