// Conversions between store rows and protobuf records.
#include "store/proto_convert.h"

#include <unordered_map>

namespace opsync::store {
namespace {
const std::unordered_map<std::string, record::ClockModel::Method>& method_map() {
  static const std::unordered_map<std::string, record::ClockModel::Method> m = {
      {"identity", record::ClockModel::IDENTITY},
      {"constant_offset", record::ClockModel::CONSTANT_OFFSET},
      {"midpoint", record::ClockModel::MIDPOINT},
      {"regression", record::ClockModel::REGRESSION},
  };
  return m;
}
}  // namespace

record::ClockModel to_proto(const records::ClockModel& m) {
  record::ClockModel p;
  auto it = method_map().find(m.method);
  p.set_method(it == method_map().end() ? record::ClockModel::METHOD_UNSPECIFIED : it->second);
  p.set_offset_ns(m.offset_ns);
  p.set_rate(m.rate);
  p.set_residual_rms_ns(m.residual_rms_ns);
  p.set_residual_max_ns(m.residual_max_ns);
  p.set_n_points(static_cast<uint32_t>(m.n_points));
  p.set_fitted_at_ns(m.fitted_at_ns);
  p.set_uncertainty_ns(m.uncertainty_ns);
  return p;
}

records::ClockModel from_proto(const record::ClockModel& p) {
  records::ClockModel m;
  m.method = "unspecified";
  for (const auto& [name, value] : method_map()) {
    if (value == p.method()) m.method = name;
  }
  m.offset_ns = p.offset_ns();
  m.rate = p.rate();
  m.residual_rms_ns = p.residual_rms_ns();
  m.residual_max_ns = p.residual_max_ns();
  m.n_points = p.n_points();
  m.fitted_at_ns = p.fitted_at_ns();
  m.uncertainty_ns = p.uncertainty_ns();
  return m;
}

record::Source to_proto(const records::Source& s, const std::optional<records::ClockModel>& clock) {
  record::Source p;
  p.set_id(static_cast<uint32_t>(s.id));
  p.set_session_id(static_cast<uint32_t>(s.session_id));
  p.set_name(s.name);
  p.set_kind(s.kind);
  p.set_address(s.address);
  p.set_note(s.note);
  p.set_transport_delay_s(s.transport_delay_s);
  if (clock) *p.mutable_clock() = to_proto(*clock);
  return p;
}

record::Channel to_proto(const records::Channel& c) {
  record::Channel p;
  p.set_id(static_cast<uint32_t>(c.id));
  p.set_source_id(static_cast<uint32_t>(c.source_id));
  p.set_name(c.name);
  p.set_unit(c.unit);
  p.set_quantity(c.quantity);
  return p;
}

record::Sample to_proto(const records::Sample& s) {
  record::Sample p;
  p.set_channel_id(static_cast<uint32_t>(s.channel_id));
  p.set_t_ns(s.t_ns);
  p.set_value(s.value);
  return p;
}

records::Sample from_proto(const record::Sample& p) { return records::Sample{p.channel_id(), p.t_ns(), p.value()}; }

record::Event to_proto(const records::Event& e) {
  record::Event p;
  p.set_t_ns(e.t_ns);
  p.set_source_id(static_cast<uint32_t>(e.source_id));
  p.set_kind(e.kind);
  p.set_detail(e.detail);
  return p;
}

records::Event from_proto(const record::Event& p, records::SessionId session) {
  return records::Event{session, p.source_id(), p.t_ns(), p.kind(), p.detail()};
}

record::Scan to_proto(const records::Scan& s) {
  record::Scan p;
  p.set_id(static_cast<uint32_t>(s.id));
  p.set_source_id(static_cast<uint32_t>(s.source_id));
  p.set_number(s.number);
  p.set_start_ns(s.start_ns);
  p.set_end_ns(s.end_ns);
  p.set_label(s.label);
  for (const records::ScanValue& v : s.values) {
    auto* pv = p.add_values();
    pv->set_name(v.name);
    pv->set_unit(v.unit);
    pv->set_value(v.value);
  }
  return p;
}

records::Scan from_proto(const record::Scan& p, records::SessionId session) {
  records::Scan s;
  s.id = p.id();
  s.session_id = session;
  s.source_id = p.source_id();
  s.number = p.number();
  s.start_ns = p.start_ns();
  s.end_ns = p.end_ns();
  s.label = p.label();
  for (const auto& v : p.values()) s.values.push_back(records::ScanValue{v.name(), v.unit(), v.value()});
  return s;
}

record::SessionSummary summarize(StoreReader& reader, const records::Session& session) {
  record::SessionSummary out;
  auto* info = out.mutable_session();
  info->set_id(static_cast<uint32_t>(session.id));
  info->set_name(session.name);
  info->set_started_ns(session.started_ns);
  info->set_ended_ns(session.ended_ns);
  info->set_host(session.host);
  info->set_note(session.note);
  uint64_t total = 0;
  for (const records::Source& src : reader.sources(session.id)) {
    *info->add_sources() = to_proto(src, reader.clock_model(src.id));
    for (const records::Channel& ch : reader.channels(src.id)) {
      const ChannelStats st = reader.channel_stats(ch.id);
      auto* cs = out.add_channels();
      *cs->mutable_channel() = to_proto(ch);
      cs->set_n_samples(st.n_samples);
      cs->set_first_t_ns(st.first_t_ns);
      cs->set_last_t_ns(st.last_t_ns);
      cs->set_min_value(st.min_value);
      cs->set_max_value(st.max_value);
      total += st.n_samples;
    }
  }
  out.set_n_samples(total);
  out.set_n_events(reader.count_events(session.id));
  out.set_n_scans(reader.count_scans(session.id));
  return out;
}

}  // namespace opsync::store
