// wickd as a systemd service (host/daemon/wickd.service): readiness and
// stopping told through sd_notify (Type=notify), and log lines sent to the
// journal with their priority when stderr is the journal.
#pragma once

#include <string>

namespace wick::daemon {

// When systemd connected stderr to the journal ($JOURNAL_STREAM names it), log
// through the journal's native protocol: one entry a line, spdlog's level as
// its priority, no second timestamp. Elsewhere, leaves the logger alone.
void logToJournalIfConnected();

// READY=1 with a STATUS line; STOPPING=1. Nothing outside a notify service.
void notifyReady(const std::string& status);
void notifyStopping();

}  // namespace wick::daemon
