// `opsync sim`: one coherent operando scenario served by simulated instruments.
#pragma once

#include <CLI/CLI.hpp>

namespace opsync::sim {

void add_sim_command(CLI::App& app);

}  // namespace opsync::sim
