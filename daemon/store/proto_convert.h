// Store rows <-> record.proto messages (the bus and wire form), and the session summary that
// `opsync info --json` prints.
#pragma once

#include "record.pb.h"
#include "store/reader.h"
#include "records/records.h"

namespace opsync::store {

record::ClockModel to_proto(const records::ClockModel& m);
records::ClockModel from_proto(const record::ClockModel& m);
record::Source to_proto(const records::Source& s, const std::optional<records::ClockModel>& clock);
record::Channel to_proto(const records::Channel& c);
record::Sample to_proto(const records::Sample& s);
records::Sample from_proto(const record::Sample& s);
record::Event to_proto(const records::Event& e);
records::Event from_proto(const record::Event& e, records::SessionId session);
record::Scan to_proto(const records::Scan& s);
records::Scan from_proto(const record::Scan& s, records::SessionId session);

// Everything `opsync info` shows about one session, gathered from the reader.
record::SessionSummary summarize(StoreReader& reader, const records::Session& session);

}  // namespace opsync::store
