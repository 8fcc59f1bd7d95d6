// Simulated SRS RGA: see rga_sim.h for its behaviour and the choices made where the doc is silent.
#include "drivers/rga/rga_sim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "drivers/rga/rga_codec.h"

namespace opsync::drivers::rga {

namespace {

constexpr size_t kMaxCommandChars = 13;  // the 14th character without CR is "command too long"
constexpr uint8_t kBadCommand = 0x01, kBadParameter = 0x02, kCommandTooLong = 0x04;
constexpr uint8_t kFilCannotSetEmission = 0x40, kFilNoFilament = 0x80;
constexpr uint8_t kCemNotInstalled = 0x80;

// A decimal parameter: optional '+', digits, optional fraction (doc section 2). Fractions beyond
// 4 decimals are truncated, as the RGA does.
std::optional<double> parse_number(std::string_view text, bool integer) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || !digits(frac) || (whole.empty() && frac.empty())) return std::nullopt;
  if (integer && dot != std::string_view::npos) return std::nullopt;  // fraction for an integer command
  double value = 0;
  for (char c : whole) value = value * 10 + (c - '0');
  double scale = 0.1;
  for (size_t i = 0; i < frac.size() && i < 4; ++i, scale /= 10) value += (frac[i] - '0') * scale;
  return value;
}

}  // namespace

RgaSimulator::RgaSimulator(RgaSimOptions options) : options_(std::move(options)) {
  if (auto id = parse_identity(options_.identity)) m_max_ = id->m_max;
  // Ranges and power-up values from the doc's table 3 (power-up values are guesses).
  settings_["MI"] = {1, static_cast<double>(m_max_), 1, true};
  settings_["MF"] = {1, static_cast<double>(m_max_), 65, true};
  settings_["SA"] = {10, 25, 10, true};
  settings_["ML"] = {0, 300, 0, true};
  settings_["SP"] = {0, 10, 0.1, false};
  settings_["ST"] = {0, 100, 0.01, false};
  settings_["MG"] = {0, 2000, 1, false};
  settings_["MV"] = {0, 2490, 1400, true};
  settings_["EE"] = {25, 105, 70, true};
  settings_["IE"] = {0, 1, 1, true};
  settings_["VF"] = {0, 150, 90, true};
}

uint8_t RgaSimulator::status_byte() const {
  uint8_t s = 0;
  if (rs232_err_ != 0) s |= 0x01;
  if (fil_err_ != 0) s |= 0x02;
  if (cem_err_ != 0) s |= 0x08;
  if (qmf_err_ != 0) s |= 0x10;
  if (det_err_ != 0) s |= 0x20;
  if (ps_err_ != 0) s |= 0x40;
  return s;
}

void RgaSimulator::on_connect(int64_t t_ns) {
  now_ns_ = std::max(now_ns_, t_ns);
  busy_until_ns_ = now_ns_;
  last_due_ns_ = now_ns_;
  output_.clear();
  line_.clear();
  discarding_ = false;
  login_ = Login::kAwaitHello;
}

void RgaSimulator::on_disconnect(int64_t t_ns) {
  now_ns_ = std::max(now_ns_, t_ns);
  output_.clear();
  line_.clear();
  discarding_ = false;
}

void RgaSimulator::on_tick(int64_t t_ns) { now_ns_ = std::max(now_ns_, t_ns); }

int64_t RgaSimulator::next_deadline_ns() const {
  return output_.empty() ? kNoDeadline : output_.front().due_ns;
}

std::vector<uint8_t> RgaSimulator::take_output() {
  std::vector<uint8_t> out;
  while (!output_.empty() && output_.front().due_ns <= now_ns_) {
    out.insert(out.end(), output_.front().bytes.begin(), output_.front().bytes.end());
    output_.pop_front();
  }
  return out;
}

bool RgaSimulator::inject(std::string_view fault) {
  if (fault == "filament_fail") {
    filament_broken_ = true;
    emission_ma_ = 0;
    fil_err_ |= kFilNoFilament;
    return true;
  }
  if (fault == "filament_ok") {
    filament_broken_ = false;
    return true;
  }
  if (fault == "stall") {
    stalled_ = true;
    output_.clear();
    return true;
  }
  if (fault == "unstall") {
    stalled_ = false;
    busy_until_ns_ = now_ns_;
    last_due_ns_ = now_ns_;
    return true;
  }
  return false;
}

int64_t RgaSimulator::transmit_ns(size_t n_bytes) const {
  if (options_.baud <= 0) return 0;
  return static_cast<int64_t>(n_bytes) * 10 * 1'000'000'000 / options_.baud;  // 8N1 = 10 bits/byte
}

void RgaSimulator::reply_bytes(int64_t ready_ns, std::vector<uint8_t> bytes) {
  // One serial line: a reply starts when it is ready and the previous one has gone out.
  const int64_t due_ns = std::max(ready_ns, last_due_ns_) + transmit_ns(bytes.size());
  last_due_ns_ = due_ns;
  output_.push_back(Pending{due_ns, std::move(bytes)});
}

void RgaSimulator::reply_text(int64_t ready_ns, std::string_view text) {
  std::vector<uint8_t> bytes(text.begin(), text.end());
  bytes.push_back(kLf);
  bytes.push_back(kCr);
  reply_bytes(ready_ns, std::move(bytes));
}

void RgaSimulator::reply_status(int64_t ready_ns) { reply_text(ready_ns, std::to_string(status_byte())); }

void RgaSimulator::on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) {
  now_ns_ = std::max(now_ns_, t_ns);
  if (stalled_) return;
  for (uint8_t b : bytes) {
    if (b == kLf) continue;
    if (b != kCr) {
      if (discarding_) continue;
      if (logged_in() && line_.size() >= kMaxCommandChars) {
        rs232_err_ |= kCommandTooLong;
        line_.clear();
        discarding_ = true;
        continue;
      }
      line_.push_back(static_cast<char>(b));
      continue;
    }
    const std::string line = std::move(line_);
    line_.clear();
    if (discarding_) {
      discarding_ = false;
      continue;
    }
    if (!logged_in()) {
      feed_login_line(line, now_ns_);
    } else if (!line.empty()) {
      execute(line, now_ns_);
    }
  }
}

void RgaSimulator::feed_login_line(const std::string& line, int64_t t_ns) {
  auto say = [&](std::string_view text) {
    reply_bytes(t_ns + options_.command_latency_ns, std::vector<uint8_t>(text.begin(), text.end()));
  };
  switch (login_) {
    case Login::kAwaitHello:
      say("\r\nName: ");
      login_ = Login::kAwaitUser;
      break;
    case Login::kAwaitUser:
      login_user_ = line;
      say("Password: ");
      login_ = Login::kAwaitPassword;
      break;
    case Login::kAwaitPassword: {
      const bool ok = login_user_ == options_.user && line == options_.password;
      login_user_.clear();
      if (ok) {
        say("\r\nWelcome to the SRS RGA\r\n");
        login_ = Login::kDone;
      } else {
        say("\r\nLogin incorrect\r\nName: ");
        login_ = Login::kAwaitUser;
      }
      break;
    }
    case Login::kDone:
      break;
  }
}

void RgaSimulator::execute(const std::string& line, int64_t t_ns) {
  ++commands_executed_;
  if (line.size() < 2 || !std::isalpha(static_cast<unsigned char>(line[0])) ||
      !std::isalpha(static_cast<unsigned char>(line[1]))) {
    bad_command();
    return;
  }
  ParsedCommand c;
  c.mnemonic = line.substr(0, 2);
  for (char& ch : c.mnemonic) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  c.param = std::string_view(line).substr(2);
  c.query = c.param == "?";
  c.deflt = c.param == "*";
  c.t_ns = t_ns;
  c.start_ns = start_ns(t_ns);
  c.quick_ns = c.start_ns + options_.command_latency_ns;

  // The commands with behaviour of their own; the plain numeric parameters are in settings_.
  using Handler = void (RgaSimulator::*)(const ParsedCommand&);
  static const std::map<std::string_view, Handler> kHandlers = {
      {"ID", &RgaSimulator::query_identity},    {"MR", &RgaSimulator::measure_mass},
      {"NF", &RgaSimulator::set_noise_floor},   {"FL", &RgaSimulator::set_emission},
      {"HV", &RgaSimulator::set_cdem_voltage},  {"CA", &RgaSimulator::calibrate},
      {"CL", &RgaSimulator::calibrate},         {"DG", &RgaSimulator::degas},
      {"IN", &RgaSimulator::initialize},        {"MO", &RgaSimulator::query_cdem_option},
      {"AP", &RgaSimulator::query_point_count}, {"HP", &RgaSimulator::query_point_count},
      {"ER", &RgaSimulator::query_error_byte},  {"EC", &RgaSimulator::query_error_byte},
      {"EF", &RgaSimulator::query_error_byte},  {"EM", &RgaSimulator::query_error_byte},
      {"EQ", &RgaSimulator::query_error_byte},  {"ED", &RgaSimulator::query_error_byte},
      {"EP", &RgaSimulator::query_error_byte},
  };
  if (auto it = kHandlers.find(c.mnemonic); it != kHandlers.end()) return (this->*it->second)(c);
  if (auto it = settings_.find(c.mnemonic); it != settings_.end()) return execute_setting(c, it->second);
  bad_command();  // unknown, or not simulated (SC, HS, TP)
}

// An unknown or malformed command: RS232_ERR bit 0, no reply.
void RgaSimulator::bad_command() { rs232_err_ |= kBadCommand; }

// Set commands answered with a STATUS byte: the command is busy for duration_ns from its start,
// then the byte goes out.
void RgaSimulator::status_after(const ParsedCommand& c, int64_t duration_ns) {
  busy_until_ns_ = c.start_ns + duration_ns;
  reply_status(busy_until_ns_);
}

// A bad parameter to a command answered with a STATUS byte still gets the (now non-zero) byte.
void RgaSimulator::bad_parameter_status(const ParsedCommand& c) {
  rs232_err_ |= kBadParameter;
  status_after(c, options_.command_latency_ns);
}

// ID?: the identity string.
void RgaSimulator::query_identity(const ParsedCommand& c) {
  if (c.query) reply_text(c.quick_ns, options_.identity); else rs232_err_ |= kBadParameter;
}

// MRm: one ion current measurement at mass m after the noise floor's gate time, as 4 bytes
// (int32 LE, 1e-16 A units); MR0 turns the RF/DC off with no reply.
void RgaSimulator::measure_mass(const ParsedCommand& c) {
  const auto mass = parse_number(c.param, true);
  if (!mass || *mass > m_max_) {
    rs232_err_ |= kBadParameter;
    return;
  }
  if (*mass == 0) {  // RF/DC off, no reply
    rf_on_ = false;
    return;
  }
  rf_on_ = true;
  const int64_t gate_ns = gate_time_ns(noise_floor_);
  const int64_t mid_ns = c.start_ns + gate_ns / 2;
  double current_a = 0;  // filament off: no ions
  if (emission_ma_ > 0 && options_.ion_current_a) {
    current_a = options_.ion_current_a(static_cast<int>(*mass), mid_ns);
  }
  if (!std::isfinite(current_a)) current_a = 0;
  // Saturate rather than wrap: int32 counts end at +-2.1e-7 A.
  const double counts = std::clamp(std::round(current_a * 1e16),
                                   static_cast<double>(std::numeric_limits<int32_t>::min()),
                                   static_cast<double>(std::numeric_limits<int32_t>::max()));
  const auto le = encode_int32_le(static_cast<int32_t>(counts));
  busy_until_ns_ = c.start_ns + gate_ns;
  reply_bytes(busy_until_ns_, std::vector<uint8_t>(le.begin(), le.end()));
}

// NF: the noise floor (no reply to a set).
void RgaSimulator::set_noise_floor(const ParsedCommand& c) {
  if (c.query) {
    reply_text(c.quick_ns, std::to_string(noise_floor_));
  } else if (c.deflt) {
    noise_floor_ = 4;
  } else if (auto nf = parse_number(c.param, true); nf && *nf <= kMaxNoiseFloor) {
    noise_floor_ = static_cast<int>(*nf);
  } else {
    rs232_err_ |= kBadParameter;
  }
}

// FL: the filament's emission current [mA]; a broken filament cannot be lit.
void RgaSimulator::set_emission(const ParsedCommand& c) {
  if (c.query) {
    reply_text(c.quick_ns, fmt::format("{:.2f}", emission_ma_));
    return;
  }
  const auto ma = c.deflt ? std::optional<double>(1.0) : parse_number(c.param, false);
  if (!ma || *ma > 3.5) return bad_parameter_status(c);
  if (*ma > 0 && filament_broken_) {
    emission_ma_ = 0;
    fil_err_ |= kFilCannotSetEmission | kFilNoFilament;
  } else {
    emission_ma_ = *ma;
    fil_err_ = 0;
  }
  return status_after(c, options_.emission_settle_ns);
}

// HV: the CDEM voltage [V]; not without the CDEM option.
void RgaSimulator::set_cdem_voltage(const ParsedCommand& c) {
  if (c.query) {
    reply_text(c.quick_ns, std::to_string(cdem_voltage_v_));
    return;
  }
  const auto v = c.deflt ? std::optional<double>(1400) : parse_number(c.param, true);
  if (!v || *v > 2490) return bad_parameter_status(c);
  if (*v > 0 && !options_.cdem_installed) {
    cem_err_ |= kCemNotInstalled;
  } else {
    cdem_voltage_v_ = static_cast<int>(*v);
  }
  return status_after(c, options_.cdem_settle_ns);
}

// CA, CL: calibrations, busy for calibrate_ns.
void RgaSimulator::calibrate(const ParsedCommand& c) {
  if (!c.param.empty()) return bad_parameter_status(c);
  return status_after(c, options_.calibrate_ns);
}

// DGm: degas for m minutes.
void RgaSimulator::degas(const ParsedCommand& c) {
  const auto minutes = c.deflt ? std::optional<double>(3) : parse_number(c.param, true);
  if (!minutes || *minutes > 20) return bad_parameter_status(c);
  return status_after(c, static_cast<int64_t>(*minutes) * 60'000'000'000);
}

// INn: initialization; drops the replies not yet sent.
void RgaSimulator::initialize(const ParsedCommand& c) {
  const auto level = parse_number(c.param, true);
  if (!level || *level > 2) return bad_parameter_status(c);
  output_.clear();  // srsinst uses IN0 to reset the communication buffers
  last_due_ns_ = c.t_ns;
  busy_until_ns_ = c.t_ns;
  return status_after(c, options_.command_latency_ns);  // from the command's start, as before the reset
}

// MO?: whether the CDEM option is installed.
void RgaSimulator::query_cdem_option(const ParsedCommand& c) {
  if (c.query) reply_text(c.quick_ns, options_.cdem_installed ? "1" : "0"); else bad_command();
}

// AP?, HP?: the points of an analog or histogram scan over MI..MF at SA steps per amu.
void RgaSimulator::query_point_count(const ParsedCommand& c) {
  if (!c.query) return bad_command();
  const auto mi = static_cast<int>(settings_["MI"].value), mf = static_cast<int>(settings_["MF"].value);
  const auto sa = static_cast<int>(settings_["SA"].value);
  reply_text(c.quick_ns, std::to_string(c.mnemonic == "AP" ? (mf - mi) * sa + 1 : mf - mi + 1));
}

// ER?, EC?, EF?, EM?, EQ?, ED?, EP?: the status byte and the error bytes.
void RgaSimulator::query_error_byte(const ParsedCommand& c) {
  if (!c.query) return bad_command();
  const std::string& m = c.mnemonic;
  uint8_t value = 0;
  if (m == "ER") value = status_byte();
  if (m == "EC") {
    value = rs232_err_;
    rs232_err_ = 0;  // cleared once read (sim assumption, see rga_sim.h)
  }
  if (m == "EF") value = fil_err_;
  if (m == "EM") value = cem_err_;
  if (m == "EQ") value = qmf_err_;
  if (m == "ED") value = det_err_;
  if (m == "EP") value = ps_err_;
  reply_text(c.quick_ns, std::to_string(value));
}

// A plain numeric parameter (settings_): set and query; EE, IE and VF answer a set with a
// STATUS byte, the others do not answer it.
void RgaSimulator::execute_setting(const ParsedCommand& c, Setting& s) {
  const bool status_reply = c.mnemonic == "EE" || c.mnemonic == "IE" || c.mnemonic == "VF";
  if (c.query) {
    reply_text(c.quick_ns, s.integer ? std::to_string(static_cast<int>(s.value)) : fmt::format("{:.4f}", s.value));
    return;
  }
  const auto v = parse_number(c.param, s.integer);
  if (!v || *v < s.min || *v > s.max) {
    if (status_reply) return bad_parameter_status(c);
    rs232_err_ |= kBadParameter;
    return;
  }
  s.value = *v;
  if (status_reply) status_after(c, options_.command_latency_ns);
}

}  // namespace opsync::drivers::rga
