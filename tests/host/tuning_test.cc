// The operator's tunings: validation, precedence (version over function over
// the daemon's defaults) and the SQLite store across a reopen.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "host/operator/tuning_store.h"

namespace wick::ops {
namespace {

using nlohmann::json;

TEST(Tuning, AcceptsKnownFieldsInRangeOnly) {
  auto tuning = Tuning::fromJson({{"CpuPeriodUs", 10000}, {"PidsMax", 64}});
  ASSERT_TRUE(tuning.ok()) << tuning.error().message();
  EXPECT_EQ(tuning->cpu_period_us, 10000u);
  EXPECT_EQ(tuning->pids_max, 64u);
  EXPECT_FALSE(tuning->mb_per_vcpu);
  EXPECT_EQ(tuning->toJson(), json({{"CpuPeriodUs", 10000}, {"PidsMax", 64}}));

  for (const json& bad : {json{{"CpuPeriodUs", 999}}, json{{"CpuPeriodUs", 1000001}},
                          json{{"IoWeight", 0}}, json{{"PidsMax", -1}}, json{{"PidsMax", "64"}},
                          json{{"PidsMax", 1.5}}, json{{"CpuPeriod", 10000}}, json::array()}) {
    auto refused = Tuning::fromJson(bad);
    EXPECT_FALSE(refused.ok()) << bad.dump();
  }
  EXPECT_NE(Tuning::fromJson({{"Swap", 1}}).error().message().find("SwapMb"), std::string::npos)
      << "an unknown field's error names the known ones";
}

TEST(Tuning, TargetsAreFunctionsAndVersionsNotAliases) {
  EXPECT_TRUE(parseTuningTarget("fn", "").ok());
  EXPECT_TRUE(parseTuningTarget("fn", "$LATEST").ok());
  EXPECT_TRUE(parseTuningTarget("fn", "12").ok());
  EXPECT_FALSE(parseTuningTarget("fn", "prod").ok());
  EXPECT_FALSE(parseTuningTarget("", "").ok());
  EXPECT_FALSE(parseTuningTarget("../x", "").ok());
  EXPECT_FALSE(parseTuningTarget(std::string(65, 'a'), "").ok());
}

class TuningStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-tuning-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<TuningStore> open() {
    invoke::ResourcePolicy defaults;
    defaults.pids_max = 1024;
    auto store = TuningStore::open(dir_ + "/operator.db", defaults, std::chrono::seconds(600));
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }
  std::string dir_;
};

TEST_F(TuningStoreTest, VersionOverFunctionOverDefaultsAndKeptAcrossReopen) {
  {
    auto store = open();
    ASSERT_TRUE(store->put({"fn", ""}, *Tuning::fromJson({{"CpuPeriodUs", 10000}})).ok());
    ASSERT_TRUE(store->put({"fn", ""}, *Tuning::fromJson({{"PidsMax", 64}})).ok())
        << "a second tune adds to the first";
    ASSERT_TRUE(
        store->put({"fn", "3"}, *Tuning::fromJson({{"PidsMax", 32}, {"KeepAliveSeconds", 5}}))
            .ok());
  }
  auto store = open();
  EXPECT_EQ(store->stored({"fn", ""}).toJson(), json({{"CpuPeriodUs", 10000}, {"PidsMax", 64}}));
  invoke::ResourcePolicy latest = store->policyFor("fn", "$LATEST");
  EXPECT_EQ(latest.cpu_period_us, 10000u);
  EXPECT_EQ(latest.pids_max, 64u);
  EXPECT_EQ(latest.mb_per_vcpu, 1769u);
  invoke::ResourcePolicy three = store->policyFor("fn", "3");
  EXPECT_EQ(three.pids_max, 32u);
  EXPECT_EQ(three.cpu_period_us, 10000u);
  EXPECT_EQ(store->keepAliveFor("fn", "3"), std::chrono::seconds(5));
  EXPECT_EQ(store->keepAliveFor("fn", "$LATEST"), std::chrono::seconds(600));
  EXPECT_EQ(store->policyFor("other", "$LATEST").cpu_period_us, 100'000u);

  ASSERT_TRUE(store->reset({"fn", ""}).ok());
  EXPECT_EQ(store->policyFor("fn", "$LATEST").pids_max, 1024u);
  EXPECT_EQ(store->policyFor("fn", "3").pids_max, 32u);
  store->setDefaults({.mb_per_vcpu = 1769, .pids_max = 99}, std::chrono::seconds(7));
  EXPECT_EQ(store->policyFor("fn", "$LATEST").pids_max, 99u);
  EXPECT_EQ(store->keepAliveFor("fn", "$LATEST"), std::chrono::seconds(7));
  store.reset();
  EXPECT_TRUE(open()->stored({"fn", ""}).empty()) << "a reset is kept too";
}

}  // namespace
}  // namespace wick::ops
