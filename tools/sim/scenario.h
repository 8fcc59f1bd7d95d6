// One coherent operando scenario that drives every simulated instrument: a Li-rich cathode
// (Li1.2Ni0.13Mn0.54Co0.13O2-like) on its first charge at C/10 from OCV to 4.8 V, optionally
// with a GITT section; O2/CO2 release from the ~4.47 V plateau seen through a capillary
// (delay) and a mixing volume (first-order lag) on a drifting, noisy baseline; a diffraction
// scan schedule whose per-scan strain rises through stage 1 and relaxes once O2 is released.
// All of it is a pure function of simulation time, so every simulator (and every test) sees
// the same cell; the truth (onsets, strain turnover, D) is known exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace opsync::sim {

struct ScenarioParams {
  int64_t start_ns = 1'767'225'600'000'000'000;  // 2026-01-01T00:00:00Z: sim time zero
  double rest_before_s = 600;        // OCV rest before the charge
  double capacity_mah = 4.0;         // first-charge capacity to 4.8 V
  double c_rate = 0.1;               // C/10
  double v_max = 4.8;
  double rest_after_s = 600;
  double r_ohm = 25.0;               // ohmic resistance of the cell
  // Solid-state diffusion in spherical particles: D drops from stage 1 to stage 2. With 1 um
  // radius, r^2/D is 1000 s in stage 1 and 10^4 s in stage 2, so a C/10 charge keeps the surface
  // within ~2 % of the bulk and reaches 4.8 V near full capacity (5 um with D2 = 1e-12 would
  // leave the surface ~50 % ahead and stop the charge at ~65 %).
  double particle_radius_cm = 1e-4;
  double d_stage1_cm2_s = 1e-11;
  double d_stage2_cm2_s = 1e-12;
  // GITT section: pulses of gitt_pulse_s at the charge current with gitt_rest_s rests, while
  // the state of charge is between gitt_from and gitt_to (fractions of capacity). Off if pulse 0.
  double gitt_pulse_s = 0;
  double gitt_rest_s = 1800;
  double gitt_from = 0.25;
  double gitt_to = 0.65;
  // Gas: onset voltages (of the cell voltage under current), capillary delay, mixing lag.
  double o2_onset_v = 4.47;
  double co2_onset_v = 4.45;
  double transport_delay_s = 30;
  double mixing_tau_s = 60;
  double o2_baseline_a = 2e-11;      // ion current at m/z 32 before release
  double co2_baseline_a = 5e-12;     // m/z 44
  double o2_peak_a = 4e-10;          // additional ion current at full release rate
  double co2_peak_a = 1.5e-10;
  double baseline_drift_per_h = 0.01;  // relative drift of the baselines
  double noise_rel = 0.02;           // Gaussian noise, relative to the baseline
  uint64_t noise_seed = 1;
  // Diffraction scans: one every scan_period_s lasting scan_duration_s with frames_per_scan
  // detector-frame triggers; bridge inputs for scan start, scan end, detector frame.
  double scan_period_s = 300;
  double scan_duration_s = 60;
  int frames_per_scan = 100;
  int max_scans = 0;                 // 0: scans through the whole charge; else at most this many
  int input_scan_start = 0;
  int input_scan_end = 1;
  int input_frame = 2;
  double strain_max = 1.2e-3;        // tensile nanostrain peak
  double strain_noise = 2e-5;
};

struct CellState {
  double voltage_v = 0;
  double current_a = 0;      // charge positive
  double capacity_ah = 0;    // charge passed since the start of the charge
  double energy_wh = 0;
  uint32_t cycle = 1;
  uint16_t step = 1;         // 1 OCV rest, 2 CC charge, 3 GITT pulse, 4 GITT rest, 5 rest after
  double test_time_s = 0;
  double step_time_s = 0;
  uint8_t rf1 = 4;           // Maccor state: 1 charge, 4 rest, 31 complete
  uint8_t rf2 = 0;
  uint16_t stat = 2;         // Maccor software state: 2 active, 4 completed
};

struct TriggerEdge {
  int64_t t_ns = 0;  // true time of the edge (sim time)
  int input = 0;
  bool rising = true;
  int scan = 0;      // 1-based scan number it belongs to
};

struct ScanTruth {
  int number = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  double voltage_mid_v = 0;
  double strain = 0;  // per-scan value as a BCDI reconstruction would give it (with noise)
};

class Scenario {
 public:
  explicit Scenario(ScenarioParams p = {});

  const ScenarioParams& params() const { return p_; }
  int64_t end_ns() const;                         // end of the scenario (after the final rest)
  CellState cell(int64_t t_ns) const;
  double ion_current_a(int mass, int64_t t_ns) const;  // noisy, as the RGA would read it
  double gas_flux_rel(int mass, int64_t t_ns) const;   // noise-free release (0..1), before transport
  const std::vector<TriggerEdge>& edges() const { return edges_; }
  const std::vector<ScanTruth>& scans() const { return scans_; }
  // The diffusion coefficient in force at t (truth for GITT).
  double diffusion_cm2_s(int64_t t_ns) const;
  // End of the charge (cell at v_max or at the safety limit); the final rest follows.
  int64_t charge_end_ns() const;
  // Open-circuit voltage of the first charge at state of charge x = Q / capacity (documented
  // in scenario.cpp); the cell voltage is ocv_v(surface state of charge) + I * r_ohm.
  static double ocv_v(double soc);

  // Everything a test needs to check what the system recovers: onset times and voltages
  // (release start, and when the signal reaches the RGA), strain turnover voltage, D per stage,
  // GITT pulse list, parameters.
  nlohmann::json truth() const;

 private:
  struct GittPulse {
    double start_s = 0, end_s = 0, current_a = 0;
  };
  void simulate();                       // the cell trajectory, row by row
  void compute_gas();                    // onsets, transport of the release to the RGA
  void compute_scans();                  // scan schedule, edges and per-scan strain
  double t_s(int64_t t_ns) const;        // sim seconds since start_ns
  int64_t to_ns(double t_s) const;
  double soc_at(double t_s) const;       // x = Q / capacity, interpolated
  double current_at(double t_s) const;   // piecewise constant, right-continuous
  double voltage_at(double t_s) const;
  double first_crossing_s(double level_v) const;  // first time V >= level during the charge, -1 if never
  double release_rel(int mass, double t_s) const;
  double strain_clean(double soc) const;  // noise-free strain model

  ScenarioParams p_;
  // Precomputed trajectory at a fixed step. Row k holds the state at k * dt_s_; the current
  // and step of row k hold for [k dt, (k+1) dt). The cell voltage is rebuilt as the
  // interpolated open-circuit part plus the row's I * R, so the ohmic jump at a current step
  // is instantaneous.
  double dt_s_ = 1.0;
  std::vector<double> ocv_surface_v_;  // open-circuit voltage at the particle surface
  std::vector<double> current_a_, capacity_ah_, energy_wh_;
  std::vector<uint16_t> step_;
  std::vector<double> step_start_s_;  // per row: time the current step began
  std::vector<double> o2_seen_, co2_seen_;  // delayed, mixed release (0..1) per row
  std::vector<GittPulse> gitt_pulses_;
  std::vector<TriggerEdge> edges_;
  std::vector<ScanTruth> scans_;
  double charge_current_a_ = 0;
  double charge_end_s_ = 0;
  double end_s_ = 0;
  double o2_onset_s_ = -1, co2_onset_s_ = -1;
  double o2_onset_soc_ = 0, co2_onset_soc_ = 0;
  double strain_peak_s_ = -1, strain_peak_soc_ = 0, strain_peak_v_ = 0;
};

}  // namespace opsync::sim
