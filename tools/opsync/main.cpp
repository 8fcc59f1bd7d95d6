// opsync: the command line of the operando recording system.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "opsync/commands.h"
#include "opsync_version.h"
#include "sim/sim_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "opsync: synchronised operando recording (cycler, DEMS mass spectrometer, diffraction scans)\n"
      "Sessions live in one SQLite file per station (--db). Start with `opsync import` or opsyncd,\n"
      "then look with `opsync sessions` and `opsync info`, analyse with `opsync dqdv|gitt|onset|align`\n"
      "or all at once with `opsync report`, and take data out with `opsync export`."};
  app.set_version_flag("--version", "opsync " OPSYNC_VERSION);
  app.require_subcommand(1);
  opsync::cli::add_sessions_command(app);
  opsync::cli::add_info_command(app);
  opsync::cli::add_import_command(app);
  opsync::cli::add_export_command(app);
  opsync::cli::add_mark_command(app);
  opsync::cli::add_analysis_commands(app);
  opsync::cli::add_report_command(app);
  opsync::cli::add_calibrate_command(app);
  opsync::cli::add_replay_command(app);
  opsync::sim::add_sim_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const opsync::cli::ExitStatus& e) {
    return e.code;
  } catch (const std::exception& e) {  // CliError and the libraries' typed errors alike
    const auto* sub = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
    fmt::print(stderr, "opsync{}: error: {}\n", sub ? " " + sub->get_name() : "", e.what());
    return 1;
  }
  return 0;
}
