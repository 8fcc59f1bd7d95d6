// Writing and reading capture logs (format in capture_log.h).
#include "replay/capture_log.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace opsync::replay {
namespace {

// Version 2 adds each source's transport delay as a number after its note; version 1 logs (the
// delay as "transport_delay_s=X" in the note, as schema v4 kept it) are still read.
constexpr std::string_view kMagic = "opsync-capture-log 2";
constexpr std::string_view kMagicV1 = "opsync-capture-log 1";
constexpr std::string_view kDelayNote = "transport_delay_s=";

// A v1 source note: the delay moves out of it, as the schema v5 migration does in the store.
void split_v1_note(SourceInfo& src) {
  if (src.note.rfind(kDelayNote, 0) != 0) return;
  const size_t end = src.note.find("; ");
  const std::string value = src.note.substr(kDelayNote.size(), end == std::string::npos ? std::string::npos
                                                                                        : end - kDelayNote.size());
  char* stop = nullptr;
  const double v = std::strtod(value.c_str(), &stop);
  if (stop == value.c_str() || !std::isfinite(v)) return;  // not a number: the note stays as it is
  src.transport_delay_s = v;
  src.note = end == std::string::npos ? "" : src.note.substr(end + 2);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_int(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  auto r = std::from_chars(text.data(), end, out);
  return r.ec == std::errc() && r.ptr == end && !text.empty();
}

// Rank of an event's line among lines of the same time stamp: the order of step_rank.
int event_rank(int source, std::string_view kind) {
  if (source < 0) return kind == "daemon_start" || kind == "station_config" ? 0 : 5;
  if (kind == "connected") return step_rank(StepKind::kConnect);
  if (kind == "stopped") return step_rank(StepKind::kStop);
  if (kind == "disconnected") return step_rank(StepKind::kDisconnect);
  return 5;
}

struct Line {
  int64_t t_ns;
  int rank;
  std::string text;  // after "+DT "
};

}  // namespace

std::string quote(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  out += '"';
  return out;
}

std::string encode_payload(std::string_view bytes) {
  std::string q = quote(bytes);
  if (q.size() <= 1 + 2 * bytes.size()) return q;
  std::string hex = "x";
  for (unsigned char c : bytes) hex += fmt::format("{:02x}", c);
  return hex;
}

bool split_tokens(std::string_view line, std::vector<Token>& tokens, std::string& error) {
  tokens.clear();
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    Token t;
    if (line[i] != '"') {
      const size_t end = std::min(line.find(' ', i), line.size());
      t.text = std::string(line.substr(i, end - i));
      tokens.push_back(std::move(t));
      i = end;
      continue;
    }
    t.quoted = true;
    ++i;
    bool closed = false;
    while (i < line.size()) {
      const char c = line[i++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (i >= line.size()) break;
      const char e = line[i++];
      switch (e) {
        case 'r': t.text += '\r'; break;
        case 'n': t.text += '\n'; break;
        case 't': t.text += '\t'; break;
        case '"': t.text += '"'; break;
        case '\\': t.text += '\\'; break;
        case 'x': {
          if (i + 2 > line.size() || hex_value(line[i]) < 0 || hex_value(line[i + 1]) < 0) {
            error = "\\x needs two hex digits";
            return false;
          }
          t.text += static_cast<char>(hex_value(line[i]) * 16 + hex_value(line[i + 1]));
          i += 2;
          break;
        }
        default:
          error = fmt::format("unknown escape \\{}", e);
          return false;
      }
    }
    if (!closed) {
      error = "unterminated quoted string";
      return false;
    }
    tokens.push_back(std::move(t));
  }
  return true;
}

bool decode_payload(const Token& token, std::string& bytes) {
  if (token.quoted) {
    bytes = token.text;
    return true;
  }
  const std::string& t = token.text;
  if (t.size() < 3 || t[0] != 'x' || (t.size() - 1) % 2 != 0) return false;
  bytes.clear();
  for (size_t i = 1; i + 1 < t.size(); i += 2) {
    const int hi = hex_value(t[i]), lo = hex_value(t[i + 1]);
    if (hi < 0 || lo < 0) return false;
    bytes += static_cast<char>(hi * 16 + lo);
  }
  return true;
}

void write_capture_log(ReplayInput& input, std::ostream& out) {
  // Every timed line of the session, in the order a replay takes them: by time, then in the
  // order the daemon calls its drivers (step_rank), then as recorded.
  std::vector<Line> lines;
  for (const CopiedEvent& e : input.copied_events) {
    const std::string src = e.source < 0 ? "-" : std::to_string(e.source);
    if (e.source < 0 && e.kind == "station_config") {
      size_t n = 0;
      std::string body;
      std::istringstream text(e.detail);
      for (std::string l; std::getline(text, l);) {
        body += "\n|" + l;
        ++n;
      }
      lines.push_back(Line{e.t_ns, 0, fmt::format("- config {}{}", n, body)});
      continue;
    }
    lines.push_back(Line{e.t_ns, event_rank(e.source, e.kind), fmt::format("{} @ {} {}", src, quote(e.kind), quote(e.detail))});
  }
  for (size_t i = 0; i < input.sources.size(); ++i) {
    input.for_each_step(i, [&](const Step& s) {
      switch (s.kind) {
        case StepKind::kIn: lines.push_back(Line{s.t_ns, 3, fmt::format("{} < {}", i, encode_payload(s.bytes))}); break;
        case StepKind::kOut: lines.push_back(Line{s.t_ns, 3, fmt::format("{} > {}", i, encode_payload(s.bytes))}); break;
        case StepKind::kTick: lines.push_back(Line{s.t_ns, 3, fmt::format("{} T", i)}); break;
        default: break;  // link steps are written as their events
      }
    });
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const Line& a, const Line& b) { return a.t_ns != b.t_ns ? a.t_ns < b.t_ns : a.rank < b.rank; });

  const records::Session& s = input.session;
  out << kMagic << "\n";
  out << "# Raw captures of " << input.origin << ", for `opsync replay --capture-log FILE`.\n";
  out << "# +DT: ns since the line before; SRC: source index or - (session); > sent, < received, T tick that sent\n";
  out << "# nothing, @ event (copied by a replay), config N: station.toml on the N lines after it. docs/replay.md.\n";
  out << fmt::format("session {} {} {} {} {}\n", quote(s.name), s.started_ns, s.ended_ns, quote(s.host), quote(s.note));
  for (size_t i = 0; i < input.sources.size(); ++i) {
    const SourceInfo& src = input.sources[i];
    out << fmt::format("source {} {} {} {} {} {}\n", i, quote(src.name), quote(src.kind), quote(src.address),
                       quote(src.note), src.transport_delay_s);
  }
  int64_t prev = s.started_ns;
  for (const Line& l : lines) {
    out << '+' << (l.t_ns - prev) << ' ' << l.text << '\n';
    prev = l.t_ns;
  }
}

void write_capture_log_file(ReplayInput& input, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw ReplayError(fmt::format("cannot write {}", path));
  write_capture_log(input, out);
  if (!out.flush()) throw ReplayError(fmt::format("cannot write {}", path));
}

std::unique_ptr<MemoryInput> read_capture_log(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReplayError(fmt::format("cannot read capture log '{}'", path));
  auto input = std::make_unique<MemoryInput>();
  input->origin = fmt::format("capture log {}", path);
  size_t line_no = 0;
  auto fail = [&](const std::string& what) -> ReplayError {
    return ReplayError(fmt::format("{}:{}: {}", path, line_no, what));
  };
  std::string line;
  if (!std::getline(in, line) || (line != kMagic && line != kMagicV1)) {
    ++line_no;
    throw fail(fmt::format("not an opsync capture log (the first line must be '{}')", kMagic));
  }
  const bool v1 = line == kMagicV1;
  ++line_no;
  bool have_session = false;
  int64_t prev = 0;
  std::vector<Token> tok;
  std::string error;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (!split_tokens(line, tok, error)) throw fail(error);
    if (tok.empty()) continue;
    const std::string& head = tok[0].text;
    if (head == "session" && !tok[0].quoted) {
      if (tok.size() != 6 || !parse_int(tok[2].text, input->session.started_ns) ||
          !parse_int(tok[3].text, input->session.ended_ns)) {
        throw fail("expected: session \"NAME\" STARTED_NS ENDED_NS \"HOST\" \"NOTE\"");
      }
      input->session.name = tok[1].text;
      input->session.host = tok[4].text;
      input->session.note = tok[5].text;
      prev = input->session.started_ns;
      have_session = true;
      continue;
    }
    if (!have_session) throw fail("the session line must come first");
    if (head == "source" && !tok[0].quoted) {
      int64_t index = 0;
      if (tok.size() != (v1 ? 6u : 7u) || !parse_int(tok[1].text, index) ||
          index != static_cast<int64_t>(input->sources.size())) {
        throw fail(v1 ? "expected: source INDEX \"NAME\" \"KIND\" \"ADDRESS\" \"NOTE\", indices from 0 in order"
                      : "expected: source INDEX \"NAME\" \"KIND\" \"ADDRESS\" \"NOTE\" TRANSPORT_DELAY_S, indices "
                        "from 0 in order");
      }
      SourceInfo src{tok[2].text, tok[3].text, tok[4].text, tok[5].text, 0, 0};
      if (v1) {
        split_v1_note(src);
      } else {
        char* stop = nullptr;
        src.transport_delay_s = std::strtod(tok[6].text.c_str(), &stop);
        if (tok[6].quoted || stop != tok[6].text.c_str() + tok[6].text.size() || !std::isfinite(src.transport_delay_s) ||
            src.transport_delay_s < 0) {
          throw fail(fmt::format("transport delay '{}' is not a number of seconds >= 0", tok[6].text));
        }
      }
      input->sources.push_back(std::move(src));
      input->steps.emplace_back();
      continue;
    }
    int64_t dt = 0;
    if (head.empty() || head[0] != '+' || !parse_int(head, dt) || tok.size() < 3) {
      throw fail("expected a timed line: +DT SRC KIND ...");
    }
    const int64_t t = prev + dt;
    prev = t;
    int source = -1;
    if (tok[1].text != "-") {
      int64_t index = 0;
      if (!parse_int(tok[1].text, index) || index < 0 || index >= static_cast<int64_t>(input->sources.size())) {
        throw fail(fmt::format("'{}' is not a source index declared above", tok[1].text));
      }
      source = static_cast<int>(index);
    }
    const std::string& kind = tok[2].text;
    if (kind == "config" && source < 0) {
      int64_t n = 0;
      if (tok.size() != 4 || !parse_int(tok[3].text, n) || n < 0) throw fail("expected: +DT - config N");
      std::string text;
      for (int64_t k = 0; k < n; ++k) {
        if (!std::getline(in, line) || line.empty() || line[0] != '|') {
          ++line_no;
          throw fail(fmt::format("config: expected {} lines starting with '|'", n));
        }
        ++line_no;
        text += line.substr(1) + "\n";
      }
      input->configs.push_back(ConfigVersion{t, text});
      input->copied_events.push_back(CopiedEvent{-1, t, "station_config", text});
      continue;
    }
    if (kind == "@") {
      if (tok.size() != 5 || !tok[3].quoted || !tok[4].quoted) throw fail("expected: +DT SRC @ \"KIND\" \"DETAIL\"");
      const std::string& ek = tok[3].text;
      input->copied_events.push_back(CopiedEvent{source, t, ek, tok[4].text});
      if (source < 0) {
        if (ek == "daemon_start") {
          for (auto& v : input->steps) v.push_back(Step{StepKind::kStart, t, {}});
        }
        continue;
      }
      auto& steps = input->steps[static_cast<size_t>(source)];
      if (ek == "connected") steps.push_back(Step{StepKind::kConnect, t, {}});
      if (ek == "disconnected") steps.push_back(Step{StepKind::kDisconnect, t, {}});
      if (ek == "stopped") steps.push_back(Step{StepKind::kStop, t, {}});
      continue;
    }
    if (source < 0) throw fail(fmt::format("'{}' needs a source index", kind));
    auto& steps = input->steps[static_cast<size_t>(source)];
    if (kind == "T" && tok.size() == 3) {
      steps.push_back(Step{StepKind::kTick, t, {}});
      continue;
    }
    if ((kind == ">" || kind == "<") && tok.size() == 4) {
      Step s{kind == ">" ? StepKind::kOut : StepKind::kIn, t, {}};
      if (!decode_payload(tok[3], s.bytes) || s.bytes.empty()) throw fail("payload must be \"text\" or x<hex>");
      steps.push_back(std::move(s));
      continue;
    }
    throw fail(fmt::format("unknown line kind '{}' (known: >, <, T, @, config)", kind));
  }
  if (!have_session) throw fail("no session line");
  input->finish();
  if (input->captures == 0) throw ReplayError(fmt::format("{}: no captures in the log: nothing to replay", path));
  return input;
}

}  // namespace opsync::replay
