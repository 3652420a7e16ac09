// How a log stream is kept on disk: one record a line, "<epoch ms> <message>\n",
// stamped with the host's clock when wickd takes the line in. That time is both
// the CloudWatch Logs API's `timestamp` and its `ingestionTime`. A message never
// holds a newline (the agent splits output into lines; a traceback's lines are
// joined with \r). Lines kept before records had a time (no prefix) read back
// with a fallback time, so an upgraded state directory still reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wick::logs {

std::string formatRecord(int64_t timestamp_ms, std::string_view message);

struct LogRecord {
  int64_t timestamp_ms = 0;
  uint64_t offset = 0;  // of the record's first byte in its stream
  std::string_view message;
};

// The whole records in `data`, which starts at byte `base` of its stream. A
// last line without its newline (still being written) is left out.
std::vector<LogRecord> parseRecords(std::string_view data, uint64_t base, int64_t fallback_ms);

// Where the whole records of `data` end (just past the last newline); 0 if none.
size_t wholeRecordsEnd(std::string_view data);

}  // namespace wick::logs
