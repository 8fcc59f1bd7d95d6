// Truth CSV writer; see truth_log.h.
#include "host/truth_log.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace opsync::fw::host {

std::string format_truth_row(const TruthEdge& e) {
  const std::string seq = e.fate == EdgeFate::filtered ? std::string() : std::to_string(e.seq);
  return fmt::format("{},{},{},{},{},{}\n", seq, e.t_ns, e.input, e.kind == EdgeKind::rising ? "rising" : "falling",
                     e.tick, fate_name(e.fate));
}

bool TruthLog::open(const std::string& path, std::string& error) {
  file_ = std::fopen(path.c_str(), "w");
  if (file_ == nullptr) {
    error = fmt::format("cannot write the truth file {}: {}", path, std::strerror(errno));
    return false;
  }
  std::fputs("seq,t_ns,input,edge,tick,fate\n", file_);
  return true;
}

void TruthLog::write(const TruthEdge& edge) {
  if (file_ != nullptr) std::fputs(format_truth_row(edge).c_str(), file_);
}

void TruthLog::flush() {
  if (file_ != nullptr) std::fflush(file_);
}

TruthLog::~TruthLog() {
  if (file_ != nullptr) std::fclose(file_);
}

}  // namespace opsync::fw::host
