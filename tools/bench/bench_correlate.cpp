// Correlator benchmark (issue 4 item 8): dQ/dV over 10 million cycler points, GITT over 1,000
// pulses (with the spherical-diffusion fit), gas onset over 1 million MS points. Prints the time and
// points per second of each; target: each under 1 s on a 2-core machine. Data are synthetic and
// generated before the clock starts.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "correlate/dqdv.h"
#include "correlate/gitt.h"
#include "correlate/onset.h"

namespace oc = opsync::correlate;

namespace {

constexpr int64_t kT0Ns = 1'767'225'600'000'000'000;

template <typename F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(const char* what, std::size_t points, double s, const std::string& extra) {
  fmt::print("{:<7} {:>11} points  {:>8.3f} s  {:>12.3e} points/s  {}  {}\n", what, points, s,
             static_cast<double>(points) / s, s < 1.0 ? "under 1 s" : "OVER 1 s", extra);
}

// Half-cycles of a cell with two redox plateaus (dQ/dV peaks at 3.40 and 3.60 V): Q(V) is a line
// plus two logistic steps, inverted on a fine table so the points are uniform in charge.
oc::CyclerRecord cycler_record(std::size_t points, std::size_t half_cycles) {
  constexpr std::size_t kTable = 200'001;
  std::vector<double> tv(kTable), tq(kTable);
  for (std::size_t i = 0; i < kTable; ++i) {
    const double v = 3.0 + 0.8 * static_cast<double>(i) / (kTable - 1);
    tv[i] = v;
    tq[i] = 0.2 * (v - 3.0) / 0.8 + 0.4 / (1 + std::exp(-(v - 3.4) / 0.01)) + 0.4 / (1 + std::exp(-(v - 3.6) / 0.015));
  }
  for (double& q : tq) q = (q - tq.front()) / (tq.back() - tq.front());
  auto v_of = [&](double s) {
    const auto j = static_cast<std::size_t>(std::upper_bound(tq.begin(), tq.end(), s) - tq.begin());
    if (j == 0) return tv.front();
    if (j >= kTable) return tv.back();
    return tv[j - 1] + (s - tq[j - 1]) / (tq[j] - tq[j - 1]) * (tv[j] - tv[j - 1]);
  };
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 5e-5);  // 50 uV: a good cycler
  oc::CyclerRecord r;
  r.t_ns.reserve(points);
  r.voltage_v.reserve(points);
  r.current_a.reserve(points);
  const std::size_t per = points / half_cycles;
  int64_t t = kT0Ns;
  for (std::size_t h = 0; h < half_cycles; ++h) {
    const bool charge = h % 2 == 0;
    for (std::size_t i = 0; i < per; ++i) {
      const double x = (static_cast<double>(i) + 0.5) / static_cast<double>(per);
      r.t_ns.push_back(t);
      r.voltage_v.push_back(v_of(charge ? x : 1 - x) + noise(rng));
      r.current_a.push_back(charge ? 1e-3 : -1e-3);
      t += 100'000'000;  // 0.1 s
    }
  }
  return r;
}

oc::CyclerRecord gitt_record(std::size_t pulses) {
  constexpr double kRCm = 1e-4, kD = 1e-11, kI = 1e-3, kK = 0.05, kROhm = 2;
  std::mt19937 rng(2);
  std::normal_distribution<double> noise(0.0, 5e-5);
  oc::CyclerRecord r;
  double t_s = 0, e0 = 3.6;
  auto push = [&](double ts, double v, double i) {
    r.t_ns.push_back(kT0Ns + static_cast<int64_t>(std::llround(ts * 1e9)));
    r.voltage_v.push_back(v + noise(rng));
    r.current_a.push_back(i);
  };
  for (int k = 0; k < 30; ++k, t_s += 10) push(t_s, e0, 0);  // initial rest
  const double tau = 60, th_per_s = kD / (kRCm * kRCm);
  for (std::size_t p = 0; p < pulses; ++p) {
    const double start = t_s;
    for (int k = 0; k <= 60; ++k) {  // pulse, 1 s rows
      const double dt = k;
      push(start + dt, e0 + kI * kROhm + kK * oc::sphere_surface_response(dt * th_per_s), kI);
    }
    for (int k = 1; k <= 90; ++k) {  // rest, 10 s rows
      const double dt = tau + 10.0 * k;
      push(start + dt, e0 + kK * (oc::sphere_surface_response(dt * th_per_s) - oc::sphere_surface_response((dt - tau) * th_per_s)), 0);
    }
    e0 += kK * 3 * tau * th_per_s;  // the relaxed voltage steps up with the charge passed
    t_s = start + tau + 900 + 10;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"opsync correlator benchmark: dQ/dV, GITT and onset at the sizes of issue 4 item 8"};
  std::size_t dqdv_points = 10'000'000, gitt_pulses = 1000, onset_points = 1'000'000;
  app.add_option("--dqdv-points", dqdv_points, "cycler points for dQ/dV")->capture_default_str();
  app.add_option("--gitt-pulses", gitt_pulses, "GITT pulses")->capture_default_str();
  app.add_option("--onset-points", onset_points, "MS points for the onset")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string cpu = "unknown CPU";
  std::ifstream ci("/proc/cpuinfo");
  for (std::string line; std::getline(ci, line);)
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  fmt::print("machine: {} ({} hardware threads); single-threaded analyses\n", cpu, std::thread::hardware_concurrency());

  {
    fmt::print("generating {} cycler points...\n", dqdv_points);
    const oc::CyclerRecord rec = cycler_record(dqdv_points, 10);
    std::vector<oc::DqdvCurve> curves;
    const double s = seconds_of([&] { curves = oc::dqdv(rec); });
    std::size_t peaks = 0;
    for (const auto& c : curves) peaks += c.peaks.size();
    report("dqdv", dqdv_points, s, fmt::format("({} half-cycles, {} peaks)", curves.size(), peaks));
  }
  {
    const oc::CyclerRecord rec = gitt_record(gitt_pulses);
    oc::GittOptions opt;
    opt.radius_cm = 1e-4;
    oc::GittResult res;
    const double s = seconds_of([&] { res = oc::analyze_gitt(rec, opt); });
    double d_sum = 0;
    std::size_t d_n = 0;
    for (const auto& p : res.pulses)
      if (std::isfinite(p.D_fit_cm2_s)) {
        d_sum += p.D_fit_cm2_s;
        ++d_n;
      }
    report("gitt", rec.t_ns.size(), s,
           fmt::format("({} pulses, {:.0f} pulses/s, mean D_fit {:.3e} cm2/s, truth 1e-11)", res.pulses.size(),
                       static_cast<double>(res.pulses.size()) / s, d_n ? d_sum / static_cast<double>(d_n) : NAN));
  }
  {
    std::mt19937 rng(3);
    std::normal_distribution<double> noise(0.0, 1e-13);
    std::vector<int64_t> t(onset_points);
    std::vector<double> v(onset_points);
    const double onset_s = 0.6 * static_cast<double>(onset_points) * 0.1;
    for (std::size_t i = 0; i < onset_points; ++i) {
      const double ts = static_cast<double>(i) * 0.1;
      t[i] = kT0Ns + static_cast<int64_t>(i) * 100'000'000;
      v[i] = 1e-11 + (ts > onset_s ? 1e-14 * (ts - onset_s) : 0.0) + noise(rng);
    }
    oc::OnsetOptions opt;
    opt.quiet_begin_ns = t.front();
    opt.quiet_end_ns = t.front() + static_cast<int64_t>(0.25 * static_cast<double>(t.back() - t.front()));
    oc::OnsetResult r;
    const double s = seconds_of([&] { r = oc::detect_onset(t, v, opt); });
    report("onset", onset_points, s,
           fmt::format("(extrapolated onset error {:.1f} s)",
                       r.extrapolated_onset_t_ns ? static_cast<double>(*r.extrapolated_onset_t_ns - t.front()) * 1e-9 - onset_s : NAN));
  }
  return 0;
}
