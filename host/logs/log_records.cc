#include "host/logs/log_records.h"

#include <chrono>

namespace wick::logs {

namespace {

// "<digits> " at the start of a line: the record's time.
bool splitTimestamp(std::string_view line, int64_t& timestamp_ms, std::string_view& message) {
  size_t digits = 0;
  int64_t value = 0;
  while (digits < line.size() && digits < 18 && line[digits] >= '0' && line[digits] <= '9') {
    value = value * 10 + (line[digits] - '0');
    ++digits;
  }
  if (digits == 0 || digits >= line.size() || line[digits] != ' ') return false;
  timestamp_ms = value;
  message = line.substr(digits + 1);
  return true;
}

}  // namespace

std::string formatRecord(int64_t timestamp_ms, std::string_view message) {
  std::string record = std::to_string(timestamp_ms);
  record.reserve(record.size() + message.size() + 2);
  record += ' ';
  record += message;
  record += '\n';
  return record;
}

size_t wholeRecordsEnd(std::string_view data) {
  const size_t last = data.rfind('\n');
  return last == std::string_view::npos ? 0 : last + 1;
}

std::vector<LogRecord> parseRecords(std::string_view data, uint64_t base, int64_t fallback_ms) {
  std::vector<LogRecord> records;
  size_t start = 0;
  for (size_t end; (end = data.find('\n', start)) != std::string_view::npos; start = end + 1) {
    LogRecord record;
    record.offset = base + start;
    const std::string_view line = data.substr(start, end - start);
    if (!splitTimestamp(line, record.timestamp_ms, record.message)) {
      record.timestamp_ms = fallback_ms;
      record.message = line;
    }
    records.push_back(record);
  }
  return records;
}

}  // namespace wick::logs
