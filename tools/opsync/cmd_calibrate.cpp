// `opsync calibrate`: a mass spectrometer's sensitivity for one m/z, from a calibration gas at a
// known flow or from an electrochemical reference (Faraday), over an interval of the session given
// in seconds or by two marks; stored with the session (table gas_calibrations) for onset and
// report to turn ion currents into mol/s, moles and electrons per molecule.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "correlate/errors.h"
#include "correlate/gas_quant.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"
#include "opsync/commands.h"
#include "opsync/session_data.h"
#include "store/reader.h"
#include "store/transaction_writer.h"

namespace opsync::cli {
namespace {

struct CalibrateArgs {
  std::string db, session, gas;
  int mass = 0;
  double flow_mol_s = 0, flow_sigma_mol_s = 0;
  double electrons = 0, tail_s = 600;
  double from_s = -1, to_s = -1;
  std::vector<std::string> marks;
  double quiet_from_s = -1, quiet_to_s = -1;
  double transport_delay_s = -1;
};

// The interval: seconds after t0, or the times of two marks (their text, as `opsync mark` wrote it).
correlate::Window interval(const CalibrateArgs& a, store::StoreReader& reader, const SessionData& d, int64_t t0) {
  if (!a.marks.empty()) {
    int64_t at[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      bool found = false;
      for (const records::Event& e : reader.events(d.session.id)) {
        if (e.kind == "mark" && e.detail.rfind(a.marks[static_cast<size_t>(k)], 0) == 0) {
          at[k] = e.t_ns;
          found = true;
          break;
        }
      }
      if (!found) {
        throw CliError(fmt::format("no mark starting with '{}' in session '{}' (`opsync export` lists the events)",
                                   a.marks[static_cast<size_t>(k)], d.session.name));
      }
    }
    return {at[0], at[1]};
  }
  if (a.from_s < 0 || a.to_s < 0) {
    throw CliError("give the interval: --from-s and --to-s (seconds after the session's start), or --between-marks A B");
  }
  return {t0 + std::llround(a.from_s * 1e9), t0 + std::llround(a.to_s * 1e9)};
}

void run_calibrate(const CalibrateArgs& a) {
  if ((a.flow_mol_s > 0) == (a.electrons > 0)) {
    throw CliError("give one way: --flow-mol-s (a calibration gas) or --electrons (a Faraday reference)");
  }
  const SessionData d = load_session_data(a.db, a.session, "");
  const auto& ms = d.require_ms();
  const auto it = std::find_if(ms.begin(), ms.end(), [&](const MsChannel& m) { return m.mass == a.mass; });
  if (it == ms.end()) throw CliError(fmt::format("session '{}' has no ion current for m/z {}", d.session.name, a.mass));
  const MsChannel& ch = *it;
  const int64_t t0 = analysis_t0_ns(d);
  store::StoreReader reader(a.db);
  const correlate::Window w = interval(a, reader, d, t0);
  const double quiet_from = a.quiet_from_s >= 0 ? a.quiet_from_s : std::max(0.0, seconds_after(t0, ch.t_ns.front()));
  const double quiet_to = a.quiet_to_s >= 0 ? a.quiet_to_s : std::min(seconds_after(t0, w.begin_ns), quiet_from + 3600);
  const correlate::Window quiet{t0 + std::llround(quiet_from * 1e9), t0 + std::llround(quiet_to * 1e9)};
  const double delay_s = a.transport_delay_s >= 0 ? a.transport_delay_s : ch.transport_delay_s.value_or(0.0);
  correlate::Sensitivity s;
  nlohmann::json detail{{"quiet_from_s", quiet_from}, {"quiet_to_s", quiet_to}};
  try {
    if (a.flow_mol_s > 0) {
      s = correlate::sensitivity_from_flow(ch.t_ns, ch.value_a, quiet, w, a.flow_mol_s, a.flow_sigma_mol_s);
      detail["flow_mol_s"] = a.flow_mol_s;
      detail["flow_sigma_mol_s"] = a.flow_sigma_mol_s;
    } else {
      s = correlate::sensitivity_from_faraday(ch.t_ns, ch.value_a, quiet, d.require_cycler().record, w, a.electrons,
                                              delay_s, a.tail_s);
      detail["electrons_per_molecule"] = a.electrons;
      detail["transport_delay_s"] = delay_s;
      detail["tail_s"] = a.tail_s;
    }
  } catch (const correlate::InputError& e) {
    throw CliError(fmt::format("m/z {}: {}", a.mass, e.what()));
  }
  detail["amount_mol"] = s.amount_mol;
  detail["excess_a_s"] = s.excess_a_s;
  records::GasCalibration c;
  c.mass = a.mass;
  c.gas = a.gas.empty() ? fmt::format("m/z {}", a.mass) : a.gas;
  c.sensitivity_a_per_mol_s = s.a_per_mol_s;
  c.sigma_a_per_mol_s = s.sigma;
  c.method = s.method;
  c.from_ns = w.begin_ns;
  c.to_ns = w.end_ns;
  c.detail = detail.dump();
  c.created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const records::Source& src : reader.sources(d.session.id)) {
    if (src.name == ch.source) c.source_id = src.id;
  }
  store::TransactionWriter writer(a.db);
  writer.insert().add_gas_calibration(c);
  writer.commit();
  fmt::print("{} (m/z {}) on source '{}': {:.5g} ± {:.2g} A per mol/s by {} over {:.1f}-{:.1f} s ({:.4g} mol); stored "
             "in {}\n",
             c.gas, a.mass, ch.source, s.a_per_mol_s, s.sigma, s.method, seconds_after(t0, w.begin_ns),
             seconds_after(t0, w.end_ns), s.amount_mol, a.db);
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand(
      "calibrate",
      "Store a mass spectrometer's sensitivity for one m/z (A per mol/s) from a calibration gas at a known flow or an "
      "electrochemical reference (Faraday's law); onset and report then give mol/s, moles and electrons per molecule");
  cmd->add_option("--db", a->db, "Station database file")->required();
  cmd->add_option("session", a->session, "Session name or id")->required();
  cmd->add_option("--mass", a->mass, "m/z to calibrate")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--gas", a->gas, "Gas name (O2, CO2, H2...)");
  cmd->add_option("--flow-mol-s", a->flow_mol_s, "Calibration gas: its molar flow into the spectrometer, mol/s")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--flow-sigma-mol-s", a->flow_sigma_mol_s, "Its standard uncertainty, mol/s")->check(CLI::NonNegativeNumber);
  cmd->add_option("--electrons", a->electrons,
                  "Faraday reference: electrons per molecule of the gas the cell current makes in the interval (H2: 2, O2: 4)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tail-s", a->tail_s, "Faraday reference: integrate the ion current this long past the interval, s")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--from-s", a->from_s, "Interval start, s after the session's start")->check(CLI::NonNegativeNumber);
  cmd->add_option("--to-s", a->to_s, "Interval end, s after the session's start")->check(CLI::NonNegativeNumber);
  cmd->add_option("--between-marks", a->marks, "Interval between two marks (the start of their text)")->expected(2);
  cmd->add_option("--quiet-from-s", a->quiet_from_s, "Baseline window start, s (default: the MS record's start)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--quiet-to-s", a->quiet_to_s, "Baseline window end, s (default: the interval's start, at most 1 h)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--transport-delay-s", a->transport_delay_s,
                  "Faraday reference: capillary delay, s (default: the MS source's transport_delay_s)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([a] { run_calibrate(*a); });
}

}  // namespace opsync::cli
