// Reading a function's log streams back (for `wick logs` and the CloudWatch
// Logs API). Stream names are checked against Lambda's form, so no path leaves
// the function's log group.
#pragma once

#include <string>
#include <vector>

#include "common/error.h"
#include "host/logs/log_records.h"

namespace wick::logs {

struct StreamInfo {
  std::string name;
  uint64_t size = 0;
  int64_t modified_ns = 0;  // the time of its last record
};

// The functions that have a log group (a directory under root), by name.
Result<std::vector<std::string>> listGroups(const std::string& root);
// Streams of a function, oldest first.
Result<std::vector<StreamInfo>> listStreams(const std::string& root, const std::string& function);

// The messages of the whole records from byte `offset`, one a line, reading at
// most about `max_bytes` of the stream; `next_offset` is where to go on from.
struct StreamChunk {
  std::string text;
  uint64_t next_offset = 0;
};
Result<StreamChunk> readMessages(const std::string& root, const std::string& function,
                                 const std::string& stream, uint64_t offset, uint64_t max_bytes);

// The time of a stream's first record (its creation), else its last write.
int64_t firstRecordTime(const std::string& root, const std::string& function,
                        const StreamInfo& stream);

// Every whole record of a stream; `records` point into `data`.
struct StreamRecords {
  std::string data;
  std::vector<LogRecord> records;
};
Result<StreamRecords> readRecords(const std::string& root, const std::string& function,
                                  const StreamInfo& stream);

}  // namespace wick::logs
