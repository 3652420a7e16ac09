#include <gtest/gtest.h>

#include "sandbox/cgroup.h"

namespace wick::sandbox {
namespace {

Resources withMemory(uint64_t mb) {
  Resources resources;
  resources.memory_mb = mb;
  return resources;
}

TEST(CpuQuota, FollowsMemoryAtLambdaRatio) {
  EXPECT_EQ(cpuQuotaFor(withMemory(1769), 8).quota_us, 100'000u);
  EXPECT_EQ(cpuQuotaFor(withMemory(128), 8).quota_us, 7'236u);  // 100000*128/1769
  EXPECT_EQ(cpuQuotaFor(withMemory(3538), 8).quota_us, 200'000u);
  EXPECT_EQ(cpuQuotaFor(withMemory(1769), 8).period_us, 100'000u);
}

TEST(CpuQuota, InitBoostIsAFloorInCpus) {
  Resources boosted = withMemory(128);
  boosted.min_vcpus = 1.0;
  EXPECT_EQ(cpuQuotaFor(boosted, 8).quota_us, 100'000u);
  boosted.memory_mb = 3538;  // above the boost: the memory's share
  EXPECT_EQ(cpuQuotaFor(boosted, 8).quota_us, 200'000u);
  boosted.memory_mb = 128;
  boosted.min_vcpus = 4.0;  // never above the host's cores
  EXPECT_EQ(cpuQuotaFor(boosted, 2).quota_us, 200'000u);
}

TEST(CpuQuota, NeverAboveHostCores) {
  EXPECT_EQ(cpuQuotaFor(withMemory(10240), 2).quota_us, 200'000u);
  EXPECT_EQ(cpuQuotaFor(withMemory(10240), 8).quota_us, 578'858u);
}

TEST(CpuQuota, NeverBelowFloor) {
  Resources tiny = withMemory(128);
  tiny.mb_per_vcpu = 1'000'000;
  EXPECT_EQ(cpuQuotaFor(tiny, 2).quota_us, 2'000u);  // 2% of the period
  tiny.cpu_floor = 0;
  EXPECT_EQ(cpuQuotaFor(tiny, 2).quota_us, 1'000u);  // the kernel's minimum
}

TEST(CpuQuota, RatioAndPeriodAreTunable) {
  Resources resources = withMemory(1024);
  resources.mb_per_vcpu = 1024;
  resources.cpu_period_us = 50'000;
  CpuQuota quota = cpuQuotaFor(resources, 4);
  EXPECT_EQ(quota.quota_us, 50'000u);
  EXPECT_EQ(quota.period_us, 50'000u);
}

}  // namespace
}  // namespace wick::sandbox
