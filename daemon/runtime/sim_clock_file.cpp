// Reading and writing the simulation clock file (written atomically: temp file + rename).
#include "runtime/sim_clock_file.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace opsync::runtime {

void write_sim_clock_file(const std::string& path, const clock::SimClock& clock) {
  const nlohmann::json j = {{"epoch_ns", clock.epoch_ns()},
                            {"anchor_monotonic_ns", clock.anchor_monotonic_ns()},
                            {"speed", clock.speed()}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", tmp));
  }
  std::filesystem::rename(tmp, path);
}

clock::SimClock read_sim_clock_file(const std::string& path, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (!std::filesystem::exists(path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(fmt::format("simulation clock file {} not found: start `opsync sim` first "
                                         "(it writes that file), or use [clock] mode = \"real\"",
                                         path));
  }
  try {
    const auto j = nlohmann::json::parse(in);
    return clock::SimClock(j.at("epoch_ns").get<int64_t>(), j.at("anchor_monotonic_ns").get<int64_t>(),
                    j.at("speed").get<double>());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("{}: not a simulation clock file: {}", path, e.what()));
  }
}

}  // namespace opsync::runtime
