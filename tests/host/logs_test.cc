// Log records on disk, CloudWatch filter patterns, and the retention sweep
// against a real directory of streams.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "host/logs/filter_pattern.h"
#include "host/logs/log_reader.h"
#include "host/logs/log_records.h"
#include "host/logs/retention.h"

namespace wick::logs {
namespace {

namespace fs = std::filesystem;

TEST(LogRecords, RoundTripWithTheirTimes) {
  const std::string data = formatRecord(1700000000123, "START RequestId: a") +
                           formatRecord(1700000000456, "it\rbroke") + "1700000000999 partial";
  auto records = parseRecords(data, 100, 0);
  ASSERT_EQ(records.size(), 2u);  // the line still being written is left out
  EXPECT_EQ(records[0].timestamp_ms, 1700000000123);
  EXPECT_EQ(records[0].message, "START RequestId: a");
  EXPECT_EQ(records[0].offset, 100u);
  EXPECT_EQ(records[1].message, "it\rbroke");
  EXPECT_EQ(records[1].offset, 100 + formatRecord(1700000000123, "START RequestId: a").size());
  EXPECT_EQ(wholeRecordsEnd(data), data.size() - std::string("1700000000999 partial").size());
}

TEST(LogRecords, LinesWithoutATimeReadWithTheFallback) {
  auto records = parseRecords("old line without a time\n12x not a time\n", 0, 42);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].timestamp_ms, 42);
  EXPECT_EQ(records[0].message, "old line without a time");
  EXPECT_EQ(records[1].message, "12x not a time");
}

bool matches(const char* pattern, const char* message) {
  auto parsed = FilterPattern::parse(pattern);
  EXPECT_TRUE(parsed) << pattern;
  return parsed && parsed->matches(message);
}

TEST(FilterPatterns, MatchAsCloudWatchDoes) {
  EXPECT_TRUE(matches("", "anything"));
  EXPECT_TRUE(matches("ERROR", "[ERROR] it broke"));
  EXPECT_FALSE(matches("error", "[ERROR] it broke")) << "case-sensitive";
  EXPECT_TRUE(matches("ERROR broke", "[ERROR] it broke"));
  EXPECT_FALSE(matches("ERROR fixed", "[ERROR] it broke"));
  EXPECT_TRUE(matches("\"it broke\"", "[ERROR] it broke"));
  EXPECT_FALSE(matches("\"broke it\"", "[ERROR] it broke"));
  EXPECT_TRUE(matches("?WARN ?ERROR", "[ERROR] it broke"));
  EXPECT_FALSE(matches("?WARN ?INFO", "[ERROR] it broke"));
  EXPECT_TRUE(matches("REPORT -Init", "REPORT RequestId: a\tDuration: 1 ms"));
  EXPECT_FALSE(matches("REPORT -Init", "REPORT RequestId: a\tInit Duration: 3 ms"));
  EXPECT_TRUE(matches("\"say \\\"hi\\\"\"", "they say \"hi\""));
}

TEST(FilterPatterns, StructuredPatternsAreRefusedWithAReason) {
  auto json = FilterPattern::parse("{ $.level = \"ERROR\" }");
  ASSERT_FALSE(json);
  EXPECT_NE(json.error().message().find("not supported"), std::string::npos);
  EXPECT_FALSE(FilterPattern::parse("[ip, user]"));
  EXPECT_FALSE(FilterPattern::parse("\"unterminated"));
}

class RetentionSweep : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/wick-log-retention-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { fs::remove_all(root_); }

  // A stream of `bytes` whose last record was written `age_days` ago.
  std::string stream(const std::string& function, const std::string& name, size_t bytes,
                     double age_days) {
    const fs::path path = root_ / function / "2026/01/01" / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << std::string(bytes - 1, 'x') << '\n';
    const time_t when = static_cast<time_t>(now_ms_ / 1000 - age_days * 86400);
    struct utimbuf times {
      when, when
    };
    ::utime(path.c_str(), &times);
    return path.string();
  }

  fs::path root_;
  const int64_t now_ms_ = epochMillis();
};

constexpr const char* kA = "[$LATEST]0123456789abcdef0123456789abcdea";
constexpr const char* kB = "[$LATEST]0123456789abcdef0123456789abcdeb";
constexpr const char* kC = "[$LATEST]0123456789abcdef0123456789abcdec";

TEST_F(RetentionSweep, StreamsOlderThanTheirGroupsRetentionGo) {
  const std::string old_default = stream("fn", kA, 100, 31);
  const std::string recent = stream("fn", kB, 100, 29);
  const std::string kept_long = stream("other", kA, 100, 31);
  LogRetention retention(root_, {.default_days = 30, .max_bytes = 1 << 20});
  ASSERT_TRUE(retention.putPolicy("other", 60));
  EXPECT_EQ(retention.effectiveDays("other"), 60);
  EXPECT_EQ(retention.effectiveDays("fn"), 30);
  auto report = retention.sweep(now_ms_);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->streams_removed, 1u);
  EXPECT_FALSE(fs::exists(old_default));
  EXPECT_TRUE(fs::exists(recent));
  EXPECT_TRUE(fs::exists(kept_long));
  ASSERT_TRUE(retention.deletePolicy("other"));
  EXPECT_EQ(retention.effectiveDays("other"), 30);
  // The policy file is no stream: listing does not show it.
  auto streams = listStreams(root_, "other");
  ASSERT_TRUE(streams);
  EXPECT_EQ(streams->size(), 1u);
}

TEST_F(RetentionSweep, OverTheCapTheOldestGoButNeverALiveStream) {
  const std::string oldest = stream("fn", kA, 1000, 3);
  const std::string older = stream("gn", kB, 1000, 2);
  const std::string live = stream("fn", kC, 1000, 0);  // being written now
  LogRetention retention(root_, {.default_days = 30, .max_bytes = 1500});
  auto report = retention.sweep(now_ms_);
  ASSERT_TRUE(report);
  EXPECT_FALSE(fs::exists(oldest));
  EXPECT_FALSE(fs::exists(older));
  EXPECT_TRUE(fs::exists(live)) << "a live environment's stream stays, even over the cap";
  EXPECT_EQ(report->bytes_kept, 1000u);
  EXPECT_FALSE(fs::exists(root_ / "gn" / "2026")) << "emptied date directories go too";
}

}  // namespace
}  // namespace wick::logs
