// Each `opsync` subcommand registers itself on the app; its callback throws on failure and
// main() turns the exception into a message and exit status 1.
#pragma once

#include <CLI/CLI.hpp>

namespace opsync::cli {

// Thrown by a command that did its work but must end with another status than 0 (e.g. 2:
// `import --salvage` imported only what a damaged file allowed). main() returns `code`.
struct ExitStatus {
  int code;
};

void add_sessions_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_import_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_mark_command(CLI::App& app);
void add_analysis_commands(CLI::App& app);  // dqdv, gitt, onset, align
void add_report_command(CLI::App& app);
void add_calibrate_command(CLI::App& app);  // MS sensitivity per m/z, stored with the session
void add_replay_command(CLI::App& app);  // re-drive, compare, golden files, --serve

}  // namespace opsync::cli
