// The correlator's analyses as the `opsync` commands run them: options as the command line takes
// them (units at the edges: mV, mAh, s), a run function that reads what it needs from a loaded
// session and returns the JSON document of the contract, and a printer for the readable
// table. `opsync report` runs them all with one set of options.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "correlate/dqdv.h"
#include "opsync/session_data.h"

namespace opsync::cli {

struct DqdvArgs {
  double dv_mv = 1;
  double fwhm_mv = 10;
  double mass_g = 0;
  std::string capacity = "auto";  // auto | column | integrated
  bool each_piece = false;
  double rest_current_a = 1e-6;
  double min_prominence_fraction = 0.05;
  double min_width_mv = 0;
  double min_peak_fraction = 0;
  double turn_back_mv = 5;
};

struct DvdqArgs {
  bool on = false;
  std::size_t points = 1000;
  double fwhm_percent = 1;
};

struct FadeArgs {
  double track_window_mv = 50;
};

struct GittArgs {
  double radius_cm = 0, area_cm2 = 0, mass_g = 0, molar_mass_g_mol = 0, density_g_cm3 = 0;
  double pulse_current_a = 0, rest_current_a = 0;
  double relaxed_dvdt_uv_per_s = 1;
  double tau_short_max = 0.1;
  bool no_fit = false;
};

struct OnsetArgs {
  std::vector<std::string> gases{"32=O2", "44=CO2"};  // mass=name
  double sigma = 5;
  double hold_s = 60;
  double cusum_drift_sigma = 0.5, cusum_threshold_sigma = 20;
  double rise_fraction = 0.3;
  double transport_delay_s = -1;  // < 0: from the source's transport_delay_s, else 0
  double transport_delay_sigma_s = 0;  // its standard uncertainty (the user's figure; not recorded)
  double cusum_baseline_guard = 3;
  double quiet_from_s = -1, quiet_to_s = -1;  // seconds after the session start; < 0: default
  std::vector<std::string> calibration;  // mass=A per (mol/s)
  bool constant_baseline = false;
};

struct AlignArgs {
  std::string value;   // scan value name ("" = strain, else the first)
  std::string extremum = "max";
  std::size_t half_window_scans = 6;
  int segment_order = 2;
  double max_lag_s = 3600;
  double grid_dt_s = 0;
};

void add_dqdv_options(CLI::App& cmd, DqdvArgs& a);
void add_gitt_options(CLI::App& cmd, GittArgs& a, bool geometry_required);
void add_onset_options(CLI::App& cmd, OnsetArgs& a);
void add_align_options(CLI::App& cmd, AlignArgs& a);

// The cycler record with the capacity source --capacity asks for (CliError if it names a column
// the session lacks), and the dQ/dV options the arguments give; shared by dqdv, --dvdq and fade.
correlate::CyclerRecord cycler_record(const CyclerData& c, const DqdvArgs& a);
correlate::DqdvOptions dqdv_options(const DqdvArgs& a);
nlohmann::json run_dqdv(const SessionData& d, const DqdvArgs& a);
void add_dvdq_options(CLI::App& cmd, DvdqArgs& a);
nlohmann::json run_dvdq(const SessionData& d, const DqdvArgs& q, const DvdqArgs& a);
void print_dvdq(const nlohmann::json& j);
void add_fade_options(CLI::App& cmd, FadeArgs& a);
nlohmann::json run_fade(const SessionData& d, const DqdvArgs& q, const FadeArgs& a);
void print_fade(const nlohmann::json& j);
nlohmann::json run_gitt(const SessionData& d, const GittArgs& a);
nlohmann::json run_onset(const SessionData& d, const OnsetArgs& a);
// Runs the onsets itself (gas_onsets[] in the result) with the onset options.
nlohmann::json run_align(const SessionData& d, const AlignArgs& a, const OnsetArgs& onset);

void print_dqdv(const nlohmann::json& j);
void print_gitt(const nlohmann::json& j);
void print_onset(const nlohmann::json& j);
void print_align(const nlohmann::json& j);

// Session header for every command's JSON: name, db, sources with their clock models.
nlohmann::json session_json(const SessionData& d);
void print_session_header(const nlohmann::json& session);

}  // namespace opsync::cli
