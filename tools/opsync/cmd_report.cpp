// `opsync report --db FILE SESSION --out DIR`: every analysis in one run (dQ/dV, GITT when a
// geometry is given, voltage fade when there is more than one cycle, gas onsets, strain alignment), written as DIR/report.json and PLplot figures
// (PNG + SVG). A part whose inputs are missing is reported as skipped with the reason; the others
// still run.
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>

#include <fmt/format.h>

#include "opsync/analyses.h"
#include "opsync/cli_error.h"
#include "opsync/commands.h"
#include "opsync/report_plots.h"

namespace opsync::cli {
namespace {

struct ReportArgs {
  std::string db, session, cycler, out;
  bool json = false;
  bool no_plots = false;
  DqdvArgs dqdv;
  GittArgs gitt;
  FadeArgs fade;
  OnsetArgs onset;
  AlignArgs align;
};

void run_report(const ReportArgs& a) {
  const SessionData d = load_session_data(a.db, a.session, a.cycler);
  std::filesystem::create_directories(a.out);
  nlohmann::json report{{"session", session_json(d)}};
  nlohmann::json skipped = nlohmann::json::object();
  // One part: run it, or record why it could not run.
  auto part = [&](const char* name, const std::function<nlohmann::json()>& run) -> nlohmann::json {
    try {
      nlohmann::json j = run();
      j.erase("session");  // once, at the top
      report[name] = j;
      return j;
    } catch (const std::exception& e) {
      skipped[name] = e.what();
      report[name] = nullptr;
      return nullptr;
    }
  };
  const nlohmann::json dqdv = part("dqdv", [&] { return run_dqdv(d, a.dqdv); });
  nlohmann::json gitt = nullptr;
  if (a.gitt.radius_cm > 0 || a.gitt.area_cm2 > 0) {
    GittArgs g = a.gitt;
    g.mass_g = a.dqdv.mass_g;  // one --mass-g for both
    gitt = part("gitt", [&] { return run_gitt(d, g); });
  } else {
    report["gitt"] = nullptr;
    skipped["gitt"] = "not run: give --radius-cm (or --area-cm2 with --mass-g, --molar-mass-g-mol, --density-g-cm3) for GITT";
  }
  // Fade needs more than one cycle: with one there is nothing to compare.
  const nlohmann::json fade = part("fade", [&] {
    nlohmann::json j = run_fade(d, a.dqdv, a.fade);
    if (j["cycles"].size() < 2) throw CliError("one cycle only: fade compares cycles");
    return j;
  });
  const nlohmann::json onset = part("onset", [&] { return run_onset(d, a.onset); });
  const nlohmann::json align = part("align", [&] { return run_align(d, a.align, a.onset); });

  auto with_session = [&](const nlohmann::json& j) {
    nlohmann::json k = j;
    k["session"] = report["session"];
    return k;
  };
  nlohmann::json figures = nlohmann::json::array();
  if (!a.no_plots) {
    const std::filesystem::path out(a.out);
    auto figure = [&](const char* name, const std::function<std::vector<std::string>()>& draw) {
      try {
        for (const auto& f : draw()) figures.push_back(f);
      } catch (const std::exception& e) {
        skipped[std::string("figure_") + name] = e.what();
      }
    };
    if (!dqdv.is_null()) figure("dqdv", [&] { return plot_dqdv(with_session(dqdv), (out / "dqdv").string()); });
    if (!gitt.is_null()) figure("gitt", [&] { return plot_gitt(with_session(gitt), (out / "gitt_d").string()); });
    if (!fade.is_null()) figure("fade", [&] { return plot_fade(with_session(fade), (out / "fade").string()); });
    if (d.cycler && (!onset.is_null() || !align.is_null() || !d.ms.empty())) {
      figure("operando", [&] { return plot_operando(d, onset, align, (out / "operando").string()); });
    }
  }
  report["figures"] = figures;
  report["skipped"] = skipped;
  const std::string json_path = (std::filesystem::path(a.out) / "report.json").string();
  {
    const std::string tmp = json_path + ".tmp";
    std::ofstream f(tmp);
    f << report.dump(2) << "\n";
    if (!f.flush()) throw CliError(fmt::format("cannot write {}", tmp));
    f.close();
    std::filesystem::rename(tmp, json_path);
  }

  if (a.json) {
    fmt::print("{}\n", report.dump(2));
    return;
  }
  if (!dqdv.is_null()) print_dqdv(with_session(dqdv));
  if (!gitt.is_null()) {
    fmt::print("\n");
    print_gitt(with_session(gitt));
  }
  if (!fade.is_null()) {
    fmt::print("\n");
    print_fade(with_session(fade));
  }
  if (!onset.is_null()) {
    fmt::print("\n");
    print_onset(with_session(onset));
  }
  if (!align.is_null()) {
    fmt::print("\n");
    print_align(with_session(align));
  }
  fmt::print("\n");
  for (const auto& [name, why] : skipped.items()) fmt::print("skipped {}: {}\n", name, why.get<std::string>());
  fmt::print("wrote {}\n", json_path);
  for (const auto& f : figures) fmt::print("wrote {}\n", f.get<std::string>());
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report", "All analyses in one run (dQ/dV, GITT, voltage fade, gas onsets, strain alignment): report.json and figures (PNG, SVG)");
  cmd->add_option("--db", a->db, "Station database file")->required();
  cmd->add_option("session", a->session, "Session name or id")->required();
  cmd->add_option("--out", a->out, "Folder for report.json and the figures (created if missing)")->required();
  cmd->add_option("--cycler", a->cycler, "Cycler source to use when the session has several (default: the first)");
  cmd->add_flag("--json", a->json, "Print the report as JSON on stdout instead of tables");
  cmd->add_flag("--no-plots", a->no_plots, "Write report.json only");
  add_dqdv_options(*cmd, a->dqdv);
  add_gitt_options(*cmd, a->gitt, false);
  add_fade_options(*cmd, a->fade);
  add_onset_options(*cmd, a->onset);
  add_align_options(*cmd, a->align);
  cmd->callback([a] { run_report(*a); });
}

}  // namespace opsync::cli
