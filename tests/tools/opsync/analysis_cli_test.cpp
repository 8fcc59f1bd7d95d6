// `opsync dqdv|gitt|onset|align|report` end to end on sessions built the way a user builds them:
// files written from the simulated cell of `opsync sim` (tools/sim/scenario, whose truth is known)
// and imported with `opsync import`, the cycler's clock 30 min off and corrected with
// --clock-offset-s. What the commands recover is checked against the scenario's truth; missing
// inputs must give a clear message and exit status 1.
#include <cmath>
#include <cstdio>
#include <random>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "core/time_format.h"
#include "sim/scenario.h"
#include "support/temp_dir.h"

namespace {

using nlohmann::json;
namespace os = opsync::sim;
constexpr int64_t kNsPerS = 1'000'000'000;

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

CliRun run_cli(const std::filesystem::path& dir, const std::string& args) {
  const auto out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = std::string("timeout 120 ") + OPSYNC_CLI_BINARY + " " + args + " >" + out.string() + " 2>" +
                          err.string() + " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

json run_json(const std::filesystem::path& dir, const std::string& args) {
  const CliRun r = run_cli(dir, args + " --json");
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json();
}

// Writes the scenario as the files a user would have: cycler CSV (relative seconds), MS wide CSV,
// per-scan strain CSV. The cycler file's start is given `cycler_clock_error_s` wrong, as a cycler
// PC whose clock is off.
struct Files {
  std::filesystem::path cycler, ms, strain;
  std::string cycler_start_iso, ms_start_iso;
};

Files write_files(const os::Scenario& sc, const std::filesystem::path& dir, int cycler_dt_s, double cycler_clock_error_s,
                  bool with_ms = true, bool with_strain = true) {
  Files f{dir / "cycler.csv", dir / "ms.csv", dir / "strain.csv", "", ""};
  const int64_t t0 = sc.params().start_ns, t1 = sc.end_ns();
  {
    std::ofstream out(f.cycler);
    out << "time/s,Voltage/V,Current/A,Capacity/Ah\n";
    for (int64_t t = t0; t <= t1; t += cycler_dt_s * kNsPerS) {
      const os::CellState c = sc.cell(t);
      out << fmt::format("{},{:.7f},{:.9g},{:.9g}\n", (t - t0) / kNsPerS, c.voltage_v, c.current_a, c.capacity_ah);
    }
  }
  f.cycler_start_iso = opsync::format_iso_utc(t0 + static_cast<int64_t>(cycler_clock_error_s * 1e9), 3);
  f.ms_start_iso = opsync::format_iso_utc(t0, 3);
  if (with_ms) {
    std::ofstream out(f.ms);
    out << "time/s,m32/A,m44/A\n";
    for (int64_t t = t0; t <= t1; t += 2 * kNsPerS) {
      out << fmt::format("{},{:.6e},{:.6e}\n", (t - t0) / kNsPerS, sc.ion_current_a(32, t), sc.ion_current_a(44, t));
    }
  }
  if (with_strain) {
    std::ofstream out(f.strain);
    out << "scan,start,end,strain\n";
    for (const os::ScanTruth& s : sc.scans()) {
      out << fmt::format("{},{},{},{:.9g}\n", s.number, opsync::format_iso_utc(s.start_ns, 9),
                         opsync::format_iso_utc(s.end_ns, 9), s.strain);
    }
  }
  return f;
}

void import_all(const std::filesystem::path& dir, const std::string& db, const Files& f, double clock_offset_s,
                bool with_ms = true, bool with_strain = true) {
  CliRun r = run_cli(dir, fmt::format("import cycler {} --db {} --session s --start {} --clock-offset-s {}", f.cycler.string(),
                                  db, f.cycler_start_iso, clock_offset_s));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (with_ms) {
    r = run_cli(dir, fmt::format("import ms {} --db {} --session s --start {}", f.ms.string(), db, f.ms_start_iso));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  if (with_strain) {
    r = run_cli(dir, fmt::format("import strain {} --db {} --session s", f.strain.string(), db));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
}

double gas_voltage(const json& j, const std::string& name) {
  for (const auto& g : j["gases"])
    if (g["name"] == name) return g["onset_voltage_v"].get<double>();
  ADD_FAILURE() << "no gas " << name << " in " << j.dump();
  return NAN;
}

}  // namespace

TEST(AnalysisCli, OnsetAndAlignRecoverTheTruthAcrossCorrectedClocks) {
  opsync::test::TempDir dir;
  const os::Scenario sc;
  const json truth = sc.truth();
  const Files f = write_files(sc, dir.path(), 10, 1800);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 1800);

  const json onset = run_json(dir.path(), "onset --db " + db + " s --transport-delay-s 30");
  EXPECT_NEAR(gas_voltage(onset, "O2"), truth["o2_onset"]["voltage_v"].get<double>(), 10e-3);
  EXPECT_NEAR(gas_voltage(onset, "CO2"), truth["co2_onset"]["voltage_v"].get<double>(), 10e-3);
  for (const auto& g : onset["gases"]) {
    for (const char* k : {"channel", "name", "onset_t_s", "onset_voltage_v", "onset_capacity_mah", "baseline", "sigma",
                          "method", "threshold_onset_t_s", "cusum_onset_t_s", "extrapolated_onset_t_s"}) {
      EXPECT_TRUE(g.contains(k)) << k;
    }
    EXPECT_DOUBLE_EQ(g["parameters"]["transport_delay_s"].get<double>(), 30.0);
    // Capacity at onset: net charge since t0, ~ the scenario's capacity passed at the onset.
    const std::string key = g["name"] == "O2" ? "o2_onset" : "co2_onset";
    EXPECT_NEAR(g["onset_capacity_mah"].get<double>(), truth[key]["capacity_ah"].get<double>() * 1e3, 0.05);
  }

  // Each onset voltage carries its uncertainty: the method's own, both clocks' and the delay's.
  const json with_sigma = run_json(dir.path(), "onset --db " + db + " s --transport-delay-s 30 --transport-delay-sigma-s 5");
  for (const auto& g : with_sigma["gases"]) {
    const auto& u = g["onset_uncertainty"];
    EXPECT_GT(u["method_s"].get<double>(), 0) << u.dump();
    EXPECT_DOUBLE_EQ(u["transport_delay_s"].get<double>(), 5.0);
    const double total = std::sqrt(std::pow(u["method_s"].get<double>(), 2) + std::pow(u["ms_clock_s"].get<double>(), 2) +
                                   std::pow(u["cycler_clock_s"].get<double>(), 2) + 25.0);
    EXPECT_NEAR(u["total_s"].get<double>(), total, 1e-9);
    EXPECT_NEAR(g["onset_voltage_sigma_v"].get<double>(), std::abs(u["dv_dt_v_per_s"].get<double>()) * total, 1e-12);
    EXPECT_GT(u["dv_dt_v_per_s"].get<double>(), 0);  // charging: the voltage rises
    EXPECT_GT(g["baseline"]["slope_sigma_a_per_s"].get<double>(), 0);
  }

  const json align = run_json(dir.path(), "align --db " + db + " s --transport-delay-s 30");
  EXPECT_NEAR(align["strain_turnover_voltage_v"].get<double>(), truth["strain_turnover"]["voltage_v"].get<double>(), 15e-3);
  EXPECT_GT(align["strain_turnover_uncertainty_v"].get<double>(), 0);
  EXPECT_EQ(align["scans"].size(), sc.scans().size());
  EXPECT_FALSE(align["scans"][0]["voltage_mid_v"].is_null());
  ASSERT_EQ(align["gas_onsets"].size(), 2u);
  for (const char* gas : {"O2", "CO2"}) {
    const double expected = gas_voltage(onset, gas) - align["strain_turnover_voltage_v"].get<double>();
    EXPECT_NEAR(align["delta_v"][gas].get<double>(), expected, 1e-12);
    EXPECT_TRUE(align["lag_s"][gas].is_number()) << align["lag_s"].dump();
  }
  // Readable table by default.
  const CliRun table = run_cli(dir.path(), "align --db " + db + " s --transport-delay-s 30");
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("strain turnover:"), std::string::npos) << table.out;
}

TEST(AnalysisCli, WithoutTheClockCorrectionTheOnsetVoltageIsWrong) {
  // The same files, the cycler's 30 min clock error left in: the commands cannot know, so the
  // onset lands on the wrong voltage. This is what --clock-offset-s is for.
  opsync::test::TempDir dir;
  const os::Scenario sc;
  const Files f = write_files(sc, dir.path(), 10, 1800, true, false);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 0, true, false);
  const json onset = run_json(dir.path(), "onset --db " + db + " s --transport-delay-s 30");
  EXPECT_GT(std::abs(gas_voltage(onset, "O2") - sc.truth()["o2_onset"]["voltage_v"].get<double>()), 10e-3);
}

TEST(AnalysisCli, DqdvJsonAndTable) {
  opsync::test::TempDir dir;
  const os::Scenario sc;
  const Files f = write_files(sc, dir.path(), 10, 0, false, false);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 0, false, false);
  const json j = run_json(dir.path(), "dqdv --db " + db + " s --fwhm-mv 10 --mass-g 0.02");
  ASSERT_GE(j["half_cycles"].size(), 1u);
  const auto& h = j["half_cycles"][0];
  EXPECT_EQ(h["direction"], "charge");
  EXPECT_EQ(h["voltage_v"].size(), h["dqdv_mah_per_v"].size());
  EXPECT_EQ(h["voltage_v"].size(), h["dqdv_mah_per_g_per_v"].size());
  EXPECT_NEAR(h["voltage_v"][1].get<double>() - h["voltage_v"][0].get<double>(), 1e-3, 1e-9);
  // The O2 plateau of the Li-rich first charge is the largest dQ/dV peak, above 4.45 V.
  double best_v = 0, best_h = 0;
  for (const auto& p : h["peaks"]) {
    if (p["height"].get<double>() > best_h) {
      best_h = p["height"].get<double>();
      best_v = p["voltage_v"].get<double>();
    }
  }
  EXPECT_GT(best_v, 4.45);
  EXPECT_LT(best_v, 4.6);
  EXPECT_DOUBLE_EQ(j["method"]["fwhm_v"].get<double>(), 0.01);
  EXPECT_DOUBLE_EQ(j["method"]["dv_v"].get<double>(), 0.001);
  EXPECT_EQ(j["method"]["capacity_source"], "column");
  const CliRun table = run_cli(dir.path(), "dqdv --db " + db + " s --capacity integrated");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("integrated"), std::string::npos) << table.out;

  // dV/dQ: the same plateau is where the voltage is flattest against the charge.
  const json dv = run_json(dir.path(), "dqdv --db " + db + " s --dvdq --dvdq-points 500");
  ASSERT_GE(dv["half_cycles"].size(), 1u);
  const auto& c = dv["half_cycles"][0];
  ASSERT_EQ(c["dvdq_v_per_mah"].size(), 500u);
  ASSERT_EQ(c["charge_mah"].size(), 500u);
  std::size_t flat = 0;
  for (std::size_t k = 1; k < 500; ++k) {
    if (std::abs(c["dvdq_v_per_mah"][k].get<double>()) < std::abs(c["dvdq_v_per_mah"][flat].get<double>())) flat = k;
  }
  EXPECT_GT(c["voltage_v"][flat].get<double>(), 4.45);
  EXPECT_LT(c["voltage_v"][flat].get<double>(), 4.6);
  EXPECT_GT(c["dvdq_v_per_mah"][flat].get<double>(), 0);  // charge: V rises with Q
  const CliRun dv_table = run_cli(dir.path(), "dqdv --db " + db + " s --dvdq");
  EXPECT_EQ(dv_table.exit_code, 0) << dv_table.err;
  EXPECT_NE(dv_table.out.find("dV/dQ of 'cycler.csv'"), std::string::npos) << dv_table.out;
}

TEST(AnalysisCli, FadeOverCyclesWithFiguresAndInTheReport) {
  // Four cycles of a cell whose dQ/dV peak (where V(q) is flattest) falls 10 mV per cycle, charge
  // then discharge, 1 mA for an hour each way, the discharge 3 % short.
  opsync::test::TempDir dir;
  const auto csv = dir.path() / "cycles.csv";
  {
    std::ofstream out(csv);
    out << "time/s,Voltage/V,Current/A\n";
    int t = 0;
    for (int n = 0; n < 4; ++n) {
      auto v = [&](double q) { return 3.8 + 0.4 * (q - 0.5) + 2.4 * std::pow(q - 0.5, 3) - 0.010 * n; };
      for (int s = 0; s <= 3600; s += 5, t += 5) out << fmt::format("{},{:.6f},0.001\n", t, v(s / 3600.0));
      for (int s = 0; s < 300; s += 5, t += 5) out << fmt::format("{},{:.6f},0\n", t, v(1) - 0.02);
      for (int s = 0; s <= 3492; s += 5, t += 5) out << fmt::format("{},{:.6f},-0.001\n", t, v(1 - s / 3600.0) - 0.05);
      for (int s = 0; s < 300; s += 5, t += 5) out << fmt::format("{},{:.6f},0\n", t, v(0.03) - 0.03);
    }
  }
  const std::string db = (dir.path() / "st.db").string();
  CliRun r = run_cli(dir.path(), fmt::format("import cycler {} --db {} --session c --start 2026-01-01T00:00:00Z", csv.string(), db));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = run_json(dir.path(), "fade --db " + db + " c");
  ASSERT_EQ(j["cycles"].size(), 4u);
  for (const auto& c : j["cycles"]) {
    EXPECT_NEAR(c["charge"]["capacity_mah"].get<double>(), 1.0, 2e-3);
    EXPECT_NEAR(c["coulombic_efficiency"].get<double>(), 3492.0 / 3600.0, 3e-3);
  }
  bool charge_track = false;
  for (const auto& t : j["tracks"]) {
    if (t["direction"] != "charge" || t["points"].size() != 4) continue;
    charge_track = true;
    EXPECT_NEAR(t["drift_v_per_cycle"].get<double>(), -0.010, 5e-4);
  }
  EXPECT_TRUE(charge_track) << j["tracks"].dump();
  // Figures on request, and the table.
  r = run_cli(dir.path(), "fade --db " + db + " c --out " + (dir.path() / "fig").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("drift mV/cycle"), std::string::npos) << r.out;
  for (const char* f : {"fade_peaks.png", "fade_peaks.svg", "fade_dqdv.png", "fade_dqdv.svg"}) {
    EXPECT_GT(std::filesystem::file_size(dir.path() / "fig" / f), 1000u) << f;
  }
  // The report runs fade because there is more than one cycle.
  r = run_cli(dir.path(), "report --db " + db + " c --out " + (dir.path() / "rep").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rep = json::parse(slurp(dir.path() / "rep" / "report.json"));
  EXPECT_FALSE(rep["fade"].is_null()) << rep["skipped"].dump();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "rep" / "fade_dqdv.png"));
}

TEST(AnalysisCli, CalibrateThenOnsetGivesMolesAndElectronsPerMolecule) {
  // A 10 h charge at 1 mA whose last 5 h release O2 at 4 electrons per molecule, seen at m/z 32
  // through a 30 s capillary and a 60 s mixing volume; then a calibration gas (1e-9 mol/s) and a
  // Faraday reference (0.5 mA making O2 at 4 e-). Truth: 0.1 A per mol/s.
  opsync::test::TempDir dir;
  constexpr double kSens = 0.1, kF = 96485.33212;
  auto current = [](double t) { return t >= 3600 && t < 39600 ? 1e-3 : t >= 46800 && t < 48600 ? 5e-4 : 0.0; };
  auto made = [&](double t) {
    if (t >= 21600 && t < 39600) return 1e-3 / (4 * kF);
    if (t >= 46800 && t < 48600) return 5e-4 / (4 * kF);
    return t >= 43200 && t < 45000 ? 1e-9 : 0.0;
  };
  {
    std::ofstream cyc(dir.path() / "cycler.csv"), ms(dir.path() / "ms.csv");
    cyc << "time/s,Voltage/V,Current/A\n";
    ms << "time/s,m32/A\n";
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(0, 2e-13);
    double y = 0;
    for (int t = 0; t <= 54000; t += 2) {
      if (t % 10 == 0) cyc << fmt::format("{},{:.6f},{:.6g}\n", t, 3.7 + 1e-5 * std::min(t, 39600), current(t));
      ms << fmt::format("{},{:.6e}\n", t, 2e-11 + kSens * y + noise(rng));
      const double x = made(t - 30 + 1);
      y = x + (y - x) * std::exp(-2.0 / 60);
    }
  }
  const std::string db = (dir.path() / "st.db").string();
  for (const char* kind : {"cycler", "ms"}) {
    const CliRun r = run_cli(dir.path(), fmt::format("import {} {} --db {} --session s --start 2026-01-01T00:00:00Z", kind,
                                                     (dir.path() / (std::string(kind) + ".csv")).string(), db));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Both ways; the later one is in force.
  CliRun r = run_cli(dir.path(), "calibrate --db " + db +
                                     " s --mass 32 --gas O2 --flow-mol-s 1e-9 --from-s 43530 --to-s 45000 "
                                     "--quiet-from-s 0 --quiet-to-s 3000");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("A per mol/s by calibration gas"), std::string::npos) << r.out;
  r = run_cli(dir.path(), "calibrate --db " + db +
                              " s --mass 32 --gas O2 --electrons 4 --from-s 46800 --to-s 48600 --transport-delay-s 30 "
                              "--quiet-from-s 0 --quiet-to-s 3000");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = run_json(dir.path(), "onset --db " + db + " s --gas 32=O2 --quiet-from-s 0 --quiet-to-s 3000 --transport-delay-s 30");
  const auto& g = j["gases"][0];
  ASSERT_TRUE(g.contains("calibration")) << g.dump();
  EXPECT_EQ(g["calibration"]["method"], "faraday");
  EXPECT_NEAR(g["calibration_a_per_mol_s"].get<double>() / kSens, 1.0, 0.02);
  EXPECT_NEAR(g["peak_rate_mol_s"].get<double>() / (1e-3 / (4 * kF)), 1.0, 0.05);
  // The rate series: during the release (cell time 30000 s) it is 1 mA / 4F.
  const auto& rt = g["rate"]["t_s"];
  ASSERT_EQ(rt.size(), 2000u);
  for (std::size_t i = 0; i < rt.size(); ++i) {
    if (std::abs(rt[i].get<double>() - 30000) < 30) {
      EXPECT_NEAR(g["rate"]["mol_s"][i].get<double>() / (1e-3 / (4 * kF)), 1.0, 0.05);
    }
  }
  ASSERT_TRUE(g.contains("release")) << g.dump();
  EXPECT_NEAR(g["release"]["electrons_per_molecule"].get<double>(), 4.0, 0.15);
  // The main charge released 18000 s x 1 mA / 4F.
  const auto& halves = g["amounts"]["half_cycles"];
  ASSERT_GE(halves.size(), 1u);
  std::printf("stored Faraday sensitivity %.5f A per mol/s (truth 0.1), O2 of the charge %.4e mol (truth %.4e), "
              "%.3f electrons per O2 (truth 4)\n",
              g["calibration_a_per_mol_s"].get<double>(), halves[0]["amount_mol"].get<double>(), 18.0 / (4 * kF),
              g["release"]["electrons_per_molecule"].get<double>());
  EXPECT_NEAR(halves[0]["amount_mol"].get<double>() / (18.0 / (4 * kF)), 1.0, 0.03);
  // Export carries the calibrations (CSV; the HDF5 export writes them per source too).
  r = run_cli(dir.path(), "export --db " + db + " s --out " + (dir.path() / "csv").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string cals = slurp(dir.path() / "csv" / "calibrations.csv");
  EXPECT_NE(cals.find("calibration gas"), std::string::npos) << cals;
  EXPECT_NE(cals.find("faraday"), std::string::npos) << cals;
  // --calibration overrides what is stored.
  const json k = run_json(dir.path(), "onset --db " + db + " s --gas 32=O2 --quiet-from-s 0 --quiet-to-s 3000 --calibration 32=0.2");
  EXPECT_EQ(k["gases"][0]["calibration"]["source"], "--calibration");
  // Wrong input says what to do.
  r = run_cli(dir.path(), "calibrate --db " + db + " s --mass 32 --flow-mol-s 1e-9 --electrons 4 --from-s 1 --to-s 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("give one way"), std::string::npos) << r.err;
  r = run_cli(dir.path(), "calibrate --db " + db + " s --mass 32 --flow-mol-s 1e-9 --between-marks a b");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no mark starting with 'a'"), std::string::npos) << r.err;
  r = run_cli(dir.path(), "calibrate --db " + db + " s --mass 44 --flow-mol-s 1e-9 --from-s 1 --to-s 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no ion current for m/z 44"), std::string::npos) << r.err;
}

TEST(AnalysisCli, GittDfitOnTheSimulatedCell) {
  opsync::test::TempDir dir;
  os::ScenarioParams p;
  p.gitt_pulse_s = 60;
  p.gitt_rest_s = 1800;
  p.gitt_from = 0.05;
  p.gitt_to = 0.2;
  const os::Scenario sc(p);
  const Files f = write_files(sc, dir.path(), 1, 0, false, false);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 0, false, false);
  const json j = run_json(dir.path(), fmt::format("gitt --db {} s --radius-cm {}", db, p.particle_radius_cm));
  ASSERT_GE(j["pulses"].size(), 5u);
  int checked = 0;
  for (const auto& pulse : j["pulses"]) {
    for (const char* k : {"index", "t_start_s", "t_end_s", "tau_s", "current_a", "voltage_relaxed_v", "capacity_mah",
                          "dEs_v", "dEt_v", "ir_drop_v", "D_wh_cm2_s", "D_sqrt_cm2_s", "D_fit_cm2_s", "valid", "flags"}) {
      EXPECT_TRUE(pulse.contains(k)) << k;
    }
    if (pulse["tau_s"].get<double>() > 100 || pulse["D_fit_cm2_s"].is_null()) continue;  // the CC charge around the section
    EXPECT_NEAR(pulse["D_fit_cm2_s"].get<double>() / p.d_stage1_cm2_s, 1.0, 0.10) << pulse.dump();
    // Every D carries its standard uncertainty, and so do the voltages it came from.
    for (const char* k : {"D_wh_sigma_cm2_s", "D_sqrt_sigma_cm2_s", "D_fit_sigma_cm2_s", "dEs_sigma_v", "dEt_sigma_v",
                          "voltage_relaxed_sigma_v", "tau_sigma_s"}) {
      ASSERT_TRUE(pulse.contains(k) && pulse[k].is_number()) << k << ": " << pulse.dump();
      EXPECT_GE(pulse[k].get<double>(), 0) << k;
    }
    EXPECT_LT(pulse["D_fit_sigma_cm2_s"].get<double>(), 0.5 * pulse["D_fit_cm2_s"].get<double>());
    ++checked;
  }
  EXPECT_GE(checked, 5);
  EXPECT_EQ(j["method"]["geometry"].get<std::string>().substr(0, 6), "sphere");
}

TEST(AnalysisCli, MissingInputsSayWhatIsMissing) {
  opsync::test::TempDir dir;
  const os::Scenario sc;
  const Files f = write_files(sc, dir.path(), 60, 0, false, false);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 0, false, false);  // cycler only
  CliRun r = run_cli(dir.path(), "onset --db " + db + " s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no mass-spectrometer data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("opsync import ms"), std::string::npos) << r.err;
  r = run_cli(dir.path(), "align --db " + db + " s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no diffraction scans"), std::string::npos) << r.err;
  r = run_cli(dir.path(), "gitt --db " + db + " s");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--radius-cm"), std::string::npos) << r.err;
  r = run_cli(dir.path(), "dqdv --db " + db + " nosuch");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no session 'nosuch'"), std::string::npos) << r.err;
  // An MS-only session: dQ/dV says the cycler is missing.
  const Files g = write_files(sc, dir.path(), 60, 0, true, false);
  const std::string db2 = (dir.path() / "ms.db").string();
  r = run_cli(dir.path(), fmt::format("import ms {} --db {} --session m --start {}", g.ms.string(), db2, g.ms_start_iso));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli(dir.path(), "dqdv --db " + db2 + " m");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no cycler data"), std::string::npos) << r.err;
  // Onset without a cycler still gives times, and says why there are no voltages.
  const json onset = run_json(dir.path(), "onset --db " + db2 + " m");
  ASSERT_EQ(onset["gases"].size(), 2u);
  EXPECT_TRUE(onset["gases"][0]["onset_voltage_v"].is_null());
  EXPECT_TRUE(onset["gases"][0]["onset_t_s"].is_number());
  EXPECT_NE(onset["note"].get<std::string>().find("no cycler data"), std::string::npos);
  // The report on the cycler-only session runs what it can and names what it skipped.
  r = run_cli(dir.path(), "report --db " + db + " s --out " + (dir.path() / "rep").string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json rep = json::parse(slurp(dir.path() / "rep" / "report.json"));
  EXPECT_FALSE(rep["dqdv"].is_null());
  EXPECT_TRUE(rep["onset"].is_null());
  EXPECT_NE(rep["skipped"]["onset"].get<std::string>().find("no mass-spectrometer data"), std::string::npos);
  EXPECT_NE(r.out.find("skipped align"), std::string::npos) << r.out;
}

TEST(AnalysisCli, ReportWritesJsonAndFigures) {
  opsync::test::TempDir dir;
  const os::Scenario sc;
  const Files f = write_files(sc, dir.path(), 10, 0);
  const std::string db = (dir.path() / "st.db").string();
  import_all(dir.path(), db, f, 0);
  const auto out = dir.path() / "report";
  const CliRun r = run_cli(dir.path(), "report --db " + db + " s --out " + out.string() + " --transport-delay-s 30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json rep = json::parse(slurp(out / "report.json"));
  for (const char* k : {"dqdv", "onset", "align"}) EXPECT_FALSE(rep[k].is_null()) << k << ": " << rep["skipped"].dump();
  EXPECT_TRUE(rep["gitt"].is_null());
  EXPECT_TRUE(rep["fade"].is_null());  // one charge: nothing to compare
  EXPECT_NE(rep["skipped"]["fade"].get<std::string>().find("one cycle"), std::string::npos);
  EXPECT_NEAR(rep["align"]["strain_turnover_voltage_v"].get<double>(), sc.truth()["strain_turnover"]["voltage_v"].get<double>(),
              15e-3);
  for (const char* name : {"dqdv", "operando"}) {
    const std::string png = slurp(out / (std::string(name) + ".png"));
    const std::string svg = slurp(out / (std::string(name) + ".svg"));
    ASSERT_GT(png.size(), 1000u) << name;
    EXPECT_EQ(png.substr(1, 3), "PNG") << name;
    EXPECT_NE(svg.find("<svg"), std::string::npos) << name;
  }
  EXPECT_EQ(rep["figures"].size(), 4u);
}
