// Store rows <-> record.proto messages (the bus and wire form), and the session summary that
// `opsync info --json` prints.
#pragma once

#include "record.pb.h"
#include "store/reader.h"
#include "records/records.h"

namespace opsync::store {

record::ClockModel to_proto(const ClockModel& m);
ClockModel from_proto(const record::ClockModel& m);
record::Source to_proto(const Source& s, const std::optional<ClockModel>& clock);
record::Channel to_proto(const Channel& c);
record::Sample to_proto(const Sample& s);
Sample from_proto(const record::Sample& s);
record::Event to_proto(const Event& e);
Event from_proto(const record::Event& e, SessionId session);
record::Scan to_proto(const Scan& s);
Scan from_proto(const record::Scan& s, SessionId session);

// Everything `opsync info` shows about one session, gathered from the reader.
record::SessionSummary summarize(StoreReader& reader, const Session& session);

}  // namespace opsync::store
