// Human-readable text for `opsync sessions` and `opsync info` (and the demo's summary).
#pragma once

#include <string>

#include "store/reader.h"

namespace opsync::cli {

std::string format_duration(int64_t ns);
std::string format_sessions_table(store::StoreReader& reader);
std::string format_session_info(store::StoreReader& reader, const records::Session& session);

}  // namespace opsync::cli
