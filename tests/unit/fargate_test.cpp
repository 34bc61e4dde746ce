#include "services/ecs/fargate.h"

#include <gtest/gtest.h>

namespace gantry::ecs {
namespace {

TEST(FargateCpu, ParsesUnitsAndVcpus) {
  EXPECT_EQ(parse_cpu_units("256"), 256);
  EXPECT_EQ(parse_cpu_units("0.25 vcpu"), 256);
  EXPECT_EQ(parse_cpu_units(".25 vCPU"), 256);
  EXPECT_EQ(parse_cpu_units("1 vCPU"), 1024);
  EXPECT_EQ(parse_cpu_units("16vcpu"), 16384);
  EXPECT_EQ(parse_cpu_units(" 2 VCPU "), 2048);
}

TEST(FargateCpu, RejectsNonsense) {
  EXPECT_FALSE(parse_cpu_units(""));
  EXPECT_FALSE(parse_cpu_units("vcpu"));
  EXPECT_FALSE(parse_cpu_units("1.5"));       // plain units must be whole
  EXPECT_FALSE(parse_cpu_units("0.1 vcpu"));  // 102.4 units is not whole
  EXPECT_FALSE(parse_cpu_units("1..2 vcpu"));
  EXPECT_FALSE(parse_cpu_units("-256"));
  EXPECT_FALSE(parse_cpu_units("256 cats"));
  EXPECT_FALSE(parse_cpu_units("99999999999999999999999 vcpu"));
}

TEST(FargateMemory, ParsesMibAndGb) {
  EXPECT_EQ(parse_memory_mib("512"), 512);
  EXPECT_EQ(parse_memory_mib("0.5 GB"), 512);
  EXPECT_EQ(parse_memory_mib("1GB"), 1024);
  EXPECT_EQ(parse_memory_mib("2 gb"), 2048);
  EXPECT_EQ(parse_memory_mib("120 GB"), 122880);
  EXPECT_FALSE(parse_memory_mib("0.3 GB"));
  EXPECT_FALSE(parse_memory_mib("1 TB"));
}

struct Pair {
  int64_t cpu;
  int64_t memory;
  bool ok;
};

class FargateSizes : public ::testing::TestWithParam<Pair> {};

TEST_P(FargateSizes, MatchesAwsTable) {
  auto p = GetParam();
  EXPECT_EQ(fargate_size_supported(p.cpu, p.memory), p.ok) << p.cpu << " CPU, " << p.memory << " MiB";
}

INSTANTIATE_TEST_SUITE_P(
    Table, FargateSizes,
    ::testing::Values(Pair{256, 512, true}, Pair{256, 1024, true}, Pair{256, 2048, true}, Pair{256, 1536, false},
                      Pair{256, 4096, false}, Pair{512, 1024, true}, Pair{512, 4096, true}, Pair{512, 512, false},
                      Pair{512, 5120, false}, Pair{1024, 2048, true}, Pair{1024, 8192, true},
                      Pair{1024, 1024, false}, Pair{2048, 4096, true}, Pair{2048, 16384, true},
                      Pair{2048, 4608, false}, Pair{4096, 8192, true}, Pair{4096, 30720, true},
                      Pair{4096, 31744, false}, Pair{8192, 16384, true}, Pair{8192, 20480, true},
                      Pair{8192, 17408, false}, Pair{8192, 61440, true}, Pair{16384, 32768, true},
                      Pair{16384, 40960, true}, Pair{16384, 36864, false}, Pair{16384, 122880, true},
                      Pair{16384, 131072, false}, Pair{128, 512, false}, Pair{3072, 8192, false}));

TEST(FargateSizes, ChoicesNameTheTableRow) {
  EXPECT_EQ(fargate_memory_choices(256), "512, 1024, 2048");
  EXPECT_EQ(fargate_memory_choices(8192), "16384 to 61440 in steps of 4096");
  EXPECT_NE(fargate_memory_choices(100).find("valid CPU values"), std::string::npos);
}

}  // namespace
}  // namespace gantry::ecs
