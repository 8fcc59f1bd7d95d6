// Figures of `opsync report`, drawn with PLplot (cairo driver), each written as PNG and SVG:
// dQ/dV per half-cycle, D against voltage (three estimates), and the operando figure: O2/CO2 ion
// currents and per-scan strain against cell voltage on one shared voltage axis, with the onsets
// and the strain turnover marked.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "opsync/session_data.h"

namespace opsync::cli {

// Each returns the files written (base + ".png", base + ".svg"). Throws CliError if
// PLplot cannot write them.
std::vector<std::string> plot_dqdv(const nlohmann::json& dqdv, const std::string& base);
std::vector<std::string> plot_gitt(const nlohmann::json& gitt, const std::string& base);
// Voltage fade (`opsync fade` JSON): base_peaks (tracked peak voltage against cycle) and base_dqdv
// (the dQ/dV curves coloured by cycle, charge solid, discharge dashed).
std::vector<std::string> plot_fade(const nlohmann::json& fade, const std::string& base);
// onset and align may be null JSON (not available); the MS curves come from the session itself.
std::vector<std::string> plot_operando(const SessionData& d, const nlohmann::json& onset, const nlohmann::json& align,
                                       const std::string& base);

}  // namespace opsync::cli
