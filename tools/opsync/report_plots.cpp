// PLplot figures of the report (see report_plots.h). One plstream per file; PNG and SVG come from
// drawing the same figure twice, once per cairo device.
#include "opsync/report_plots.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>

#include <fmt/format.h>
#include <plplot/plstream.h>

#include "correlate/onset.h"
#include "opsync/cli_error.h"

namespace opsync::cli {
namespace {

// A colour-blind-safe palette (Okabe-Ito) on a white page; index 15 is black for axes and text.
constexpr int kBlack = 15;
void set_palette(plstream& pls) {
  pls.scolbg(255, 255, 255);
  const int rgb[][3] = {{0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {204, 121, 167},
                        {230, 159, 0}, {86, 180, 233}, {120, 120, 120}, {240, 228, 66}};
  for (int i = 0; i < 8; ++i) pls.scol0(i + 1, rgb[i][0], rgb[i][1], rgb[i][2]);
  pls.scol0(kBlack, 0, 0, 0);
}
int colour(std::size_t i) { return static_cast<int>(i % 8) + 1; }

// Draws `draw` into base.png and base.svg.
std::vector<std::string> render(const std::string& base, const std::function<void(plstream&)>& draw) {
  std::vector<std::string> files;
  for (const auto& [device, ext] : {std::pair{"pngcairo", ".png"}, std::pair{"svgcairo", ".svg"}}) {
    const std::string path = base + ext;
    {
      plstream pls;
      pls.sdev(device);
      pls.sfnam(path.c_str());
      pls.spage(0, 0, 1200, 800, 0, 0);
      set_palette(pls);
      pls.init();
      pls.schr(0, 0.9);
      draw(pls);
    }  // the stream's destructor finishes the file
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) || std::filesystem::file_size(path, ec) == 0) {
      throw CliError(fmt::format("PLplot wrote no {} (is the cairo driver, plplot-driver-cairo, installed?)", path));
    }
    files.push_back(path);
  }
  return files;
}

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  bool ok() const { return lo <= hi; }
  // Widened by a margin so curves do not sit on the frame; a flat range gets a unit-sized one.
  std::pair<double, double> padded(double frac = 0.05) const {
    const double span = hi > lo ? hi - lo : std::max(std::abs(hi), 1e-12);
    return {lo - frac * span, hi + frac * span};
  }
};

std::vector<double> doubles(const nlohmann::json& a) {
  std::vector<double> v;
  v.reserve(a.size());
  for (const auto& x : a) v.push_back(x.is_null() ? NAN : x.get<double>());
  return v;
}

void legend_line(plstream& pls, int index, int col, const std::string& text) {
  pls.col0(col);
  pls.mtex("t", -1.5 - 1.3 * index, 0.97, 1.0, text.c_str());
  pls.col0(kBlack);
}

void vertical_marker(plstream& pls, double x, double ylo, double yhi, int col, int style) {
  if (!std::isfinite(x)) return;
  const double xs[2] = {x, x}, ys[2] = {ylo, yhi};
  pls.col0(col);
  pls.lsty(style);
  pls.line(2, xs, ys);
  pls.lsty(1);
  pls.col0(kBlack);
}

}  // namespace

std::vector<std::string> plot_dqdv(const nlohmann::json& dqdv, const std::string& base) {
  Range x, y;
  for (const auto& h : dqdv["half_cycles"]) {
    for (double v : doubles(h["voltage_v"])) x.add(v);
    for (double v : doubles(h["dqdv_mah_per_v"])) y.add(v);
  }
  if (!x.ok() || !y.ok()) throw CliError("dQ/dV plot: no curve to draw");
  return render(base, [&](plstream& pls) {
    const auto [x0, x1] = x.padded(0.02);
    const auto [y0, y1] = y.padded();
    pls.col0(kBlack);
    pls.env(x0, x1, y0, y1, 0, 0);
    pls.lab("cell voltage (V)", "dQ/dV (mAh V#u-1#d)",
            fmt::format("dQ/dV, {} (Gaussian FWHM {:g} mV)", dqdv["session"]["name"].get<std::string>(),
                        dqdv["method"]["fwhm_v"].get<double>() * 1e3)
                .c_str());
    std::size_t i = 0;
    for (const auto& h : dqdv["half_cycles"]) {
      const auto vx = doubles(h["voltage_v"]), vy = doubles(h["dqdv_mah_per_v"]);
      pls.col0(colour(i));
      pls.lsty(h["direction"] == "charge" ? 1 : 2);
      pls.line(static_cast<PLINT>(vx.size()), vx.data(), vy.data());
      pls.lsty(1);
      if (i < 12) legend_line(pls, static_cast<int>(i), colour(i), fmt::format("{} {}", h["direction"].get<std::string>(), h["index"].get<std::size_t>()));
      ++i;
    }
  });
}

std::vector<std::string> plot_gitt(const nlohmann::json& gitt, const std::string& base) {
  struct Series {
    const char* key;
    const char* sigma_key;
    const char* label;
    PLINT symbol;
  };
  const Series series[] = {{"D_wh_cm2_s", "D_wh_sigma_cm2_s", "Weppner-Huggins (dE)", 9},
                           {"D_sqrt_cm2_s", "D_sqrt_sigma_cm2_s", "Weppner-Huggins (sqrt t)", 5},
                           {"D_fit_cm2_s", "D_fit_sigma_cm2_s", "spherical fit", 17}};
  Range x, y;
  for (const auto& p : gitt["pulses"]) {
    if (p["voltage_relaxed_v"].is_null()) continue;
    for (const Series& s : series)
      if (!p[s.key].is_null() && p[s.key].get<double>() > 0) {
        x.add(p["voltage_relaxed_v"].get<double>());
        y.add(std::log10(p[s.key].get<double>()));
        if (p.contains(s.sigma_key) && !p[s.sigma_key].is_null()) {
          y.add(std::log10(p[s.key].get<double>() + p[s.sigma_key].get<double>()));
        }
      }
  }
  if (!x.ok() || !y.ok()) throw CliError("GITT plot: no pulse has a relaxed voltage and a positive D");
  return render(base, [&](plstream& pls) {
    const auto [x0, x1] = x.padded();
    const double y0 = std::floor(y.lo - 0.2), y1 = std::ceil(y.hi + 0.2);
    pls.col0(kBlack);
    pls.env(x0, x1, y0, y1, 0, 20);  // axis 20: logarithmic y (data passed as log10)
    pls.lab("relaxed cell voltage after the pulse (V)", "D (cm#u2#d s#u-1#d), bars: 1 standard uncertainty",
            fmt::format("GITT diffusion coefficient, {}", gitt["session"]["name"].get<std::string>()).c_str());
    int k = 0;
    for (const Series& s : series) {
      std::vector<double> vx, vy, ex, elo, ehi;
      for (const auto& p : gitt["pulses"]) {
        if (p["voltage_relaxed_v"].is_null() || p[s.key].is_null() || !(p[s.key].get<double>() > 0)) continue;
        const double xv = p["voltage_relaxed_v"].get<double>(), dv = p[s.key].get<double>();
        vx.push_back(xv);
        vy.push_back(std::log10(dv));
        // Error bars of one standard uncertainty; on the log axis a bar below zero is cut at D/10.
        if (p.contains(s.sigma_key) && !p[s.sigma_key].is_null()) {
          const double sd = p[s.sigma_key].get<double>();
          ex.push_back(xv);
          elo.push_back(std::log10(std::max(dv - sd, 0.1 * dv)));
          ehi.push_back(std::log10(dv + sd));
        }
      }
      pls.col0(colour(static_cast<std::size_t>(k)));
      if (!vx.empty()) pls.poin(static_cast<PLINT>(vx.size()), vx.data(), vy.data(), s.symbol);
      if (!ex.empty()) pls.erry(static_cast<PLINT>(ex.size()), ex.data(), elo.data(), ehi.data());
      legend_line(pls, k, colour(static_cast<std::size_t>(k)), s.label);
      ++k;
    }
  });
}

std::vector<std::string> plot_fade(const nlohmann::json& fade, const std::string& base) {
  const std::string name = fade["session"]["name"].get<std::string>();
  std::vector<std::string> files;
  // Peak voltage against cycle, one line per track with two points or more.
  Range cx, py;
  for (const auto& t : fade["tracks"]) {
    if (t["points"].size() < 2) continue;
    for (const auto& p : t["points"]) {
      cx.add(p["cycle"].get<double>());
      py.add(p["voltage_v"].get<double>());
    }
  }
  if (cx.ok() && py.ok()) {
    const auto more = render(base + "_peaks", [&](plstream& pls) {
      const double x0 = cx.lo - 0.5, x1 = cx.hi + 0.5;
      const auto [y0, y1] = py.padded();
      pls.col0(kBlack);
      pls.env(x0, x1, y0, y1, 0, 0);
      pls.lab("cycle", "dQ/dV peak voltage (V)", fmt::format("dQ/dV peaks across cycles, {}", name).c_str());
      std::size_t i = 0;
      for (const auto& t : fade["tracks"]) {
        if (t["points"].size() < 2) continue;
        std::vector<double> x, y;
        for (const auto& p : t["points"]) {
          x.push_back(p["cycle"].get<double>());
          y.push_back(p["voltage_v"].get<double>());
        }
        pls.col0(colour(i));
        pls.lsty(t["direction"] == "charge" ? 1 : 2);
        pls.line(static_cast<PLINT>(x.size()), x.data(), y.data());
        pls.lsty(1);
        pls.poin(static_cast<PLINT>(x.size()), x.data(), y.data(), t["direction"] == "charge" ? 17 : 9);
        ++i;
      }
      pls.col0(kBlack);
      pls.mtex("t", -1.5, 0.97, 1.0, "filled, solid: charge; open, dashed: discharge");
    });
    files.insert(files.end(), more.begin(), more.end());
  }
  // dQ/dV curves coloured by cycle along a blue-to-red ramp (colour map 1).
  Range vx, dy;
  double last_cycle = 0;
  for (const auto& c : fade["curves"]) {
    for (double v : doubles(c["voltage_v"])) vx.add(v);
    for (double v : doubles(c["dqdv_mah_per_v"])) dy.add(v);
    last_cycle = std::max(last_cycle, c["cycle"].get<double>());
  }
  if (!vx.ok() || !dy.ok()) throw CliError("fade plot: no dQ/dV curve to draw");
  const auto more = render(base + "_dqdv", [&](plstream& pls) {
    const auto [x0, x1] = vx.padded(0.02);
    const auto [y0, y1] = dy.padded();
    pls.col0(kBlack);
    pls.env(x0, x1, y0, y1, 0, 0);
    pls.lab("cell voltage (V)", "dQ/dV (mAh V#u-1#d)",
            fmt::format("dQ/dV by cycle, {} (cycle 0 blue ... {} red)", name, static_cast<int>(last_cycle)).c_str());
    const PLFLT pos[2] = {0, 1}, r[2] = {0, 0.8}, g[2] = {0.3, 0.1}, b[2] = {0.8, 0.1};
    pls.scmap1n(256);
    pls.scmap1l(true, 2, pos, r, g, b, nullptr);
    for (const auto& c : fade["curves"]) {
      const auto x = doubles(c["voltage_v"]), y = doubles(c["dqdv_mah_per_v"]);
      pls.col1(last_cycle > 0 ? c["cycle"].get<double>() / last_cycle : 0.0);
      pls.lsty(c["direction"] == "charge" ? 1 : 2);
      pls.line(static_cast<PLINT>(x.size()), x.data(), y.data());
      pls.lsty(1);
    }
  });
  files.insert(files.end(), more.begin(), more.end());
  return files;
}

std::vector<std::string> plot_operando(const SessionData& d, const nlohmann::json& onset, const nlohmann::json& align,
                                       const std::string& base) {
  const CyclerData& c = d.require_cycler();
  const auto& rec = c.record;
  // Each gas channel against the cell voltage at its sample times (within the cycler record).
  struct Curve {
    std::string label;
    int col = 1;
    std::vector<double> v, y;
  };
  std::vector<Curve> gases;
  Range x, yg;
  for (const MsChannel& m : d.ms) {
    if (m.mass != 32 && m.mass != 44) continue;
    Curve cv{m.mass == 32 ? "O#d2#u (m/z 32)" : "CO#d2#u (m/z 44)", colour(m.mass == 32 ? 0 : 1), {}, {}};
    // Thin to at most ~4000 points: the figure cannot show more.
    const std::size_t step = std::max<std::size_t>(1, m.t_ns.size() / 4000);
    for (std::size_t i = 0; i < m.t_ns.size(); i += step) {
      if (m.t_ns[i] < rec.t_ns.front() || m.t_ns[i] > rec.t_ns.back()) continue;
      const double v = correlate::cycler_at(rec.t_ns, rec.voltage_v, rec.voltage_v, m.t_ns[i]).voltage_v;
      cv.v.push_back(v);
      cv.y.push_back(m.value_a[i] * 1e9);  // nA
      x.add(v);
      yg.add(cv.y.back());
    }
    if (!cv.v.empty()) gases.push_back(std::move(cv));
  }
  std::vector<double> sv, sy;
  Range ys;
  if (!align.is_null()) {
    const std::string value = align["value"].get<std::string>();
    for (const auto& s : align["scans"]) {
      if (s["voltage_mid_v"].is_null() || !s["values"].contains(value) || s["values"][value].is_null()) continue;
      sv.push_back(s["voltage_mid_v"].get<double>());
      sy.push_back(s["values"][value].get<double>() * 1e3);  // per mille
      x.add(sv.back());
      ys.add(sy.back());
    }
  }
  if (!x.ok()) throw CliError("operando plot: neither gas nor strain data overlap the cycler record");
  return render(base, [&](plstream& pls) {
    const auto [x0, x1] = x.padded(0.02);
    pls.adv(0);
    pls.col0(kBlack);
    // Top: ion currents.
    pls.vpor(0.1, 0.95, 0.52, 0.92);
    const auto [g0, g1] = yg.ok() ? yg.padded() : std::pair{0.0, 1.0};
    pls.wind(x0, x1, g0, g1);
    pls.box("bcst", 0, 0, "bcnstv", 0, 0);
    pls.mtex("l", 5.0, 0.5, 0.5, "ion current (nA)");
    pls.mtex("t", 1.5, 0.5, 0.5, fmt::format("operando: gas release and lattice strain, {}", d.session.name).c_str());
    for (std::size_t i = 0; i < gases.size(); ++i) {
      pls.col0(gases[i].col);
      pls.line(static_cast<PLINT>(gases[i].v.size()), gases[i].v.data(), gases[i].y.data());
      legend_line(pls, static_cast<int>(i), gases[i].col, gases[i].label);
    }
    if (gases.empty()) pls.mtex("t", -2, 0.5, 0.5, "no O2/CO2 data in this session");
    std::vector<double> onset_v;
    if (!onset.is_null()) {
      std::size_t i = 0;
      for (const auto& g : onset["gases"]) {
        const double v = g["onset_voltage_v"].is_null() ? NAN : g["onset_voltage_v"].get<double>();
        // Colours follow the curves (O2 first, CO2 second) when both are plotted in that order.
        const int col = colour(g["mass"] == 32 ? 0 : g["mass"] == 44 ? 1 : 2 + i);
        vertical_marker(pls, v, g0, g1, col, 2);
        const double sigma_v = g.contains("onset_voltage_sigma_v") && !g["onset_voltage_sigma_v"].is_null()
                              ? g["onset_voltage_sigma_v"].get<double>()
                              : NAN;
        if (std::isfinite(v) && std::isfinite(sigma_v)) {
          // The onset's standard uncertainty as a horizontal bar near the top of the gas panel.
          const double y = g1 - (0.08 + 0.05 * static_cast<double>(i)) * (g1 - g0);
          const double xmin = v - sigma_v, xmax = v + sigma_v;
          pls.col0(col);
          pls.errx(1, &xmin, &xmax, &y);
          pls.col0(kBlack);
        }
        if (std::isfinite(v)) {
          legend_line(pls, static_cast<int>(gases.size() + i), col,
                      std::isfinite(sigma_v) ? fmt::format("{} onset {:.3f} V ± {:.2g} mV (dashed; bar: 1 sigma)",
                                                      g["name"].get<std::string>(), v, sigma_v * 1e3)
                                        : fmt::format("{} onset {:.3f} V (dashed)", g["name"].get<std::string>(), v));
        }
        ++i;
      }
    }
    const double turn_v = align.is_null() ? NAN : align["strain_turnover_voltage_v"].get<double>();
    vertical_marker(pls, turn_v, g0, g1, 7, 3);
    // Bottom: strain per scan.
    pls.vpor(0.1, 0.95, 0.1, 0.5);
    const auto [s0, s1] = ys.ok() ? ys.padded() : std::pair{0.0, 1.0};
    pls.wind(x0, x1, s0, s1);
    pls.col0(kBlack);
    pls.box("bcnst", 0, 0, "bcnstv", 0, 0);
    pls.mtex("b", 3.0, 0.5, 0.5, "cell voltage (V)");
    pls.mtex("l", 5.0, 0.5, 0.5, "strain (10#u-3#d)");
    if (!sv.empty()) {
      pls.col0(3);
      pls.poin(static_cast<PLINT>(sv.size()), sv.data(), sy.data(), 17);
      legend_line(pls, 0, 3, "strain per scan");
    } else {
      pls.mtex("t", -2, 0.5, 0.5, "no per-scan strain in this session");
    }
    vertical_marker(pls, turn_v, s0, s1, 7, 3);
    if (std::isfinite(turn_v)) {
      legend_line(pls, 1, 7, fmt::format("strain turnover {:.3f} V", turn_v));
    }
  });
}

}  // namespace opsync::cli
