// What the correlator commands read from a session: the cycler record (voltage, current and the
// capacity column when there is one, on the voltage channel's time base), the mass-spectrometer
// ion currents, the scans with their per-scan values, and each source's clock model. Every time
// is already on the session's reference clock (the daemon maps live sources through their fitted
// clock models, imports apply --clock-offset-s), so sources with different clocks line up here.
// Missing parts are not errors until a command needs them; then require_*() says what is missing
// and how to add it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlate/half_cycles.h"
#include "store/reader.h"

namespace opsync::cli {

struct CyclerData {
  std::string source;
  correlate::CyclerRecord record;  // capacity_c empty when the cycler gave no capacity column
  std::string capacity_channel;    // "" when integrated
};

struct MsChannel {
  std::string source;
  std::string channel;  // ion_current_m32
  int mass = 0;         // 32
  std::vector<int64_t> t_ns;
  std::vector<double> value_a;
  std::optional<double> transport_delay_s;  // the source's (station.toml transport_delay_s), if set
  std::optional<records::GasCalibration> calibration;  // the latest stored for this source and mass
};

struct SourceClock {
  std::string source;
  std::string kind;
  std::optional<records::ClockModel> model;  // none: imported or identity
  std::string note;
};

struct SessionData {
  std::string db;
  records::Session session;
  std::optional<CyclerData> cycler;
  std::vector<MsChannel> ms;
  std::vector<records::Scan> scans;
  std::vector<SourceClock> clocks;

  const CyclerData& require_cycler() const;
  const std::vector<MsChannel>& require_ms() const;
  const std::vector<records::Scan>& require_scans() const;
};

// Loads `session` (name or id) from `db`. `cycler_source` picks one cycler source by name when a
// session has several ("" = the first with voltage and current). Throws CliError with a
// message naming the session and what to do when it does not exist.
SessionData load_session_data(const std::string& db, const std::string& session, const std::string& cycler_source = "");

// "ion_current_m32" -> 32; 0 if the name is not an ion-current channel.
int mass_of_channel(const std::string& name);

}  // namespace opsync::cli
