// The four analysis commands, `opsync dqdv|gitt|onset|align --db FILE SESSION [--json]`: command
// line glue only; the analyses live in analysis_*.cpp and the methods in correlate/.
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "opsync/analyses.h"
#include "opsync/commands.h"
#include "opsync/report_plots.h"

namespace opsync::cli {
namespace {

struct Common {
  std::string db;
  std::string session;
  std::string cycler;
  bool json = false;
};

void add_common(CLI::App& cmd, Common& c) {
  cmd.add_option("--db", c.db, "Station database file")->required();
  cmd.add_option("session", c.session, "Session name or id")->required();
  cmd.add_option("--cycler", c.cycler, "Cycler source to use when the session has several (default: the first)");
  cmd.add_flag("--json", c.json, "Print the result as JSON on stdout (machine-readable) instead of a table");
}

void emit(const Common& c, const nlohmann::json& j, void (*print)(const nlohmann::json&)) {
  if (c.json) {
    fmt::print("{}\n", j.dump(2));
  } else {
    print(j);
  }
}

}  // namespace

void add_analysis_commands(CLI::App& app) {
  {
    auto common = std::make_shared<Common>();
    auto args = std::make_shared<DqdvArgs>();
    auto dv = std::make_shared<DvdqArgs>();
    auto* cmd = app.add_subcommand("dqdv", "Incremental capacity dQ/dV per half-cycle, with peaks (or dV/dQ with --dvdq)");
    add_common(*cmd, *common);
    add_dqdv_options(*cmd, *args);
    add_dvdq_options(*cmd, *dv);
    cmd->callback([common, args, dv] {
      const SessionData d = load_session_data(common->db, common->session, common->cycler);
      if (dv->on) {
        emit(*common, run_dvdq(d, *args, *dv), print_dvdq);
      } else {
        emit(*common, run_dqdv(d, *args), print_dqdv);
      }
    });
  }
  {
    auto common = std::make_shared<Common>();
    auto q = std::make_shared<DqdvArgs>();
    auto args = std::make_shared<FadeArgs>();
    auto out = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "fade", "Voltage fade across cycles: capacities, efficiencies, mean voltages, dQ/dV peaks tracked cycle to cycle");
    add_common(*cmd, *common);
    add_dqdv_options(*cmd, *q);
    add_fade_options(*cmd, *args);
    cmd->add_option("--out", *out, "Also write the figures here (fade_peaks, fade_dqdv; PNG and SVG)");
    cmd->callback([common, q, args, out] {
      nlohmann::json j = run_fade(load_session_data(common->db, common->session, common->cycler), *q, *args);
      if (!out->empty()) {
        std::filesystem::create_directories(*out);
        for (const auto& f : plot_fade(j, (std::filesystem::path(*out) / "fade").string())) j["figures"].push_back(f);
      }
      emit(*common, j, print_fade);
      if (!common->json && j.contains("figures")) {
        for (const auto& f : j["figures"]) fmt::print("wrote {}\n", f.get<std::string>());
      }
    });
  }
  {
    auto common = std::make_shared<Common>();
    auto args = std::make_shared<GittArgs>();
    auto* cmd = app.add_subcommand("gitt", "GITT: per-pulse dEs, dEt, IR drop and diffusion coefficients (Weppner-Huggins and a full spherical fit)");
    add_common(*cmd, *common);
    add_gitt_options(*cmd, *args, true);
    cmd->callback([common, args] { emit(*common, run_gitt(load_session_data(common->db, common->session, common->cycler), *args), print_gitt); });
  }
  {
    auto common = std::make_shared<Common>();
    auto args = std::make_shared<OnsetArgs>();
    auto* cmd = app.add_subcommand("onset", "Gas onset per MS channel: extrapolated, threshold and CUSUM, as time, voltage and capacity");
    add_common(*cmd, *common);
    add_onset_options(*cmd, *args);
    cmd->callback([common, args] { emit(*common, run_onset(load_session_data(common->db, common->session, common->cycler), *args), print_onset); });
  }
  {
    auto common = std::make_shared<Common>();
    auto args = std::make_shared<AlignArgs>();
    auto onset = std::make_shared<OnsetArgs>();
    auto* cmd = app.add_subcommand("align", "Strain against gas: strain turnover voltage (local fit), distance to each gas onset, strain-rate/gas lag");
    add_common(*cmd, *common);
    add_align_options(*cmd, *args);
    add_onset_options(*cmd, *onset);
    cmd->callback([common, args, onset] {
      emit(*common, run_align(load_session_data(common->db, common->session, common->cycler), *args, *onset), print_align);
    });
  }
}

}  // namespace opsync::cli
