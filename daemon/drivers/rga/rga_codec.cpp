// SRS RGA protocol codec: see rga_codec.h. Facts cited are from shared/protocols/srs-rga.md.
#include "drivers/rga/rga_codec.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>  // fmt::join

namespace opsync::drivers::rga {

namespace {

// Measured MR gate times per NF (doc section 4), in ns.
constexpr std::array<int64_t, kMaxNoiseFloor + 1> kGateTime_ns = {
    2'400'000'000, 1'210'000'000, 480'000'000, 250'000'000,
    163'000'000,   60'000'000,    43'000'000,  25'000'000};

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

std::string mnemonic_of(std::string_view command) {
  std::string m;
  for (size_t i = 0; i < 2 && i < command.size(); ++i) m.push_back(upper(command[i]));
  return m;
}

bool is_one_of(std::string_view m, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), m) != list.end();
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int64_t gate_time_ns(int noise_floor) {
  return kGateTime_ns[static_cast<size_t>(std::clamp(noise_floor, 0, kMaxNoiseFloor))];
}

int64_t reply_timeout_ns(int noise_floor) { return 3 * gate_time_ns(noise_floor) + 1'000'000'000; }

std::string_view reply_kind_name(ReplyKind kind) {
  switch (kind) {
    case ReplyKind::kNone: return "none";
    case ReplyKind::kAscii: return "ascii";
    case ReplyKind::kStatus: return "status";
    case ReplyKind::kBinary4: return "binary4";
  }
  return "?";
}

std::optional<ReplyKind> reply_kind_for(std::string_view command) {
  command = cmd::printable(command);
  if (command.size() < 2) return std::nullopt;
  const std::string m = mnemonic_of(command);
  const std::string_view param = command.substr(2);

  if (param == "?") {
    if (m == "TP") return ReplyKind::kBinary4;  // total-pressure current, binary
    if (is_one_of(m, {"ER", "EC", "EF", "EM", "EQ", "ED", "EP"})) return ReplyKind::kStatus;
    if (is_one_of(m, {"ID", "FL", "EE", "IE", "VF", "HV", "NF", "MI", "MF", "SA", "AP", "HP", "SP",
                      "ST", "MO", "MG", "MV"})) {
      return ReplyKind::kAscii;
    }
    return std::nullopt;
  }
  if (m == "MR") {
    if (!all_digits(param)) return std::nullopt;
    return std::all_of(param.begin(), param.end(), [](char c) { return c == '0'; }) ? ReplyKind::kNone
                                                                                    : ReplyKind::kBinary4;
  }
  if (is_one_of(m, {"FL", "EE", "IE", "VF", "HV", "DG", "CA", "CL", "IN"})) return ReplyKind::kStatus;
  if (is_one_of(m, {"NF", "MI", "MF", "SA", "ML", "SP", "ST", "MG", "MV"})) return ReplyKind::kNone;
  return std::nullopt;  // SC/HS stream, TP set UNCONFIRMED, or unknown
}

namespace cmd {

std::string make(std::string_view mnemonic, std::string_view parameter) {
  std::string s;
  s.reserve(mnemonic.size() + parameter.size() + 1);
  s.append(mnemonic).append(parameter).push_back(static_cast<char>(kCr));
  return s;
}

std::string query(std::string_view mnemonic) { return make(mnemonic, "?"); }

std::string mass_read(int mass) { return make("MR", std::to_string(mass)); }

std::string emission(double emission_ma) {
  // The RGA truncates fractions to 4 decimals (doc section 2); send at most 4 and at least one
  // ("FL1.0" as in the doc's example), never exponent notation.
  std::array<char, 32> buf{};
  const double v = std::round(std::max(emission_ma, 0.0) * 1e4) / 1e4;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, 4);
  std::string text = ec == std::errc() ? std::string(buf.data(), end) : std::string("0.0");
  while (text.size() >= 2 && text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  return make("FL", text);
}

std::string cdem_voltage(int voltage_v) { return make("HV", std::to_string(voltage_v)); }

std::string noise_floor(int noise_floor) { return make("NF", std::to_string(noise_floor)); }

std::string calibrate_all() { return make("CA"); }

std::string_view printable(std::string_view command) {
  while (!command.empty() && (command.back() == '\r' || command.back() == '\n')) command.remove_suffix(1);
  return command;
}

}  // namespace cmd

double ion_current_a(int32_t raw) {
  // Division by the exactly representable 1e16 rounds once, so 123456 gives exactly 1.23456e-11.
  return static_cast<double>(raw) / 1e16;
}

int32_t decode_int32_le(std::span<const uint8_t, 4> bytes) {
  const uint32_t u = static_cast<uint32_t>(bytes[0]) | (static_cast<uint32_t>(bytes[1]) << 8) |
                     (static_cast<uint32_t>(bytes[2]) << 16) | (static_cast<uint32_t>(bytes[3]) << 24);
  return std::bit_cast<int32_t>(u);
}

std::array<uint8_t, 4> encode_int32_le(int32_t value) {
  const auto u = std::bit_cast<uint32_t>(value);
  return {static_cast<uint8_t>(u & 0xFF), static_cast<uint8_t>((u >> 8) & 0xFF),
          static_cast<uint8_t>((u >> 16) & 0xFF), static_cast<uint8_t>((u >> 24) & 0xFF)};
}

std::optional<Identity> parse_identity(std::string_view text) {
  constexpr std::string_view kPrefix = "SRSRGA";
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.starts_with(kPrefix)) return std::nullopt;
  const size_t ver = text.find("VER", kPrefix.size());
  if (ver == std::string_view::npos) return std::nullopt;
  const size_t sn = text.find("SN", ver + 3);
  if (sn == std::string_view::npos) return std::nullopt;
  const std::string_view m_max_text = text.substr(kPrefix.size(), ver - kPrefix.size());
  Identity id;
  if (!all_digits(m_max_text)) return std::nullopt;
  auto [p, ec] = std::from_chars(m_max_text.data(), m_max_text.data() + m_max_text.size(), id.m_max);
  if (ec != std::errc() || id.m_max <= 0) return std::nullopt;
  id.model = std::string(text.substr(0, ver));
  id.firmware = std::string(text.substr(ver + 3, sn - ver - 3));
  id.serial = std::string(text.substr(sn + 2));
  if (id.firmware.empty() || id.serial.empty()) return std::nullopt;
  return id;
}

uint8_t status_bit(ErrorByte which) {
  switch (which) {
    case ErrorByte::kRs232: return 0x01;
    case ErrorByte::kFilament: return 0x02;
    case ErrorByte::kCem: return 0x08;
    case ErrorByte::kQmf: return 0x10;
    case ErrorByte::kDetector: return 0x20;
    case ErrorByte::kPowerSupply: return 0x40;
  }
  return 0;
}

std::string_view error_byte_name(ErrorByte which) {
  switch (which) {
    case ErrorByte::kRs232: return "RS232_ERR";
    case ErrorByte::kFilament: return "FIL_ERR";
    case ErrorByte::kCem: return "CEM_ERR";
    case ErrorByte::kQmf: return "QMF_ERR";
    case ErrorByte::kDetector: return "DET_ERR";
    case ErrorByte::kPowerSupply: return "PS_ERR";
  }
  return "?";
}

std::string_view error_query_mnemonic(ErrorByte which) {
  switch (which) {
    case ErrorByte::kRs232: return "EC";
    case ErrorByte::kFilament: return "EF";
    case ErrorByte::kCem: return "EM";  // not EC: srsinst's mapping is a bug (doc section 6)
    case ErrorByte::kQmf: return "EQ";
    case ErrorByte::kDetector: return "ED";
    case ErrorByte::kPowerSupply: return "EP";
  }
  return "?";
}

std::vector<std::string> status_bit_names(uint8_t status) {
  std::vector<std::string> names;
  for (int bit = 7; bit >= 0; --bit) {
    const auto mask = static_cast<uint8_t>(1U << bit);
    if ((status & mask) == 0) continue;
    const auto it = std::find_if(kAllErrorBytes.begin(), kAllErrorBytes.end(),
                                 [mask](ErrorByte e) { return status_bit(e) == mask; });
    names.push_back(it != kAllErrorBytes.end() ? std::string(error_byte_name(*it)) : fmt::format("BIT{}", bit));
  }
  return names;
}

std::vector<ErrorByte> flagged_error_bytes(uint8_t status) {
  std::vector<ErrorByte> out;
  for (ErrorByte e : kAllErrorBytes) {
    if ((status & status_bit(e)) != 0) out.push_back(e);
  }
  return out;
}

std::vector<std::string> error_bit_descriptions(ErrorByte which, uint8_t value) {
  // Bit meanings per error byte, index = bit number (doc section 6); empty = undocumented.
  using Table = std::array<std::string_view, 8>;
  static constexpr Table kRs232 = {"bad command",           "bad parameter",
                                   "command too long",      "receive overwrite",
                                   "transmit buffer overwrite", "jumper protection violation",
                                   "parameter conflict",    ""};
  static constexpr Table kFilament = {"single-filament operation", "", "", "", "", "vacuum pressure too high",
                                      "cannot set emission",       "no filament detected"};
  static constexpr Table kCem = {"", "", "", "", "", "", "", "no electron multiplier option"};
  static constexpr Table kQmf = {"", "", "", "", "supply current-limited", "", "primary current > 2.0 A",
                                 "RF_CT > V_EXT-2V at M_MAX"};
  static constexpr Table kDetector = {"",
                                      "op-amp input offset out of range",
                                      "",
                                      "COMPENSATE fails -5 nA",
                                      "COMPENSATE fails +5 nA",
                                      "DETECT fails -5 nA",
                                      "DETECT fails +5 nA",
                                      "ADC16 test failure"};
  static constexpr Table kPowerSupply = {"", "", "", "", "", "", "24 V supply < 22 V", "24 V supply > 26 V"};
  const Table* table = nullptr;
  switch (which) {
    case ErrorByte::kRs232: table = &kRs232; break;
    case ErrorByte::kFilament: table = &kFilament; break;
    case ErrorByte::kCem: table = &kCem; break;
    case ErrorByte::kQmf: table = &kQmf; break;
    case ErrorByte::kDetector: table = &kDetector; break;
    case ErrorByte::kPowerSupply: table = &kPowerSupply; break;
  }
  std::vector<std::string> out;
  for (int bit = 7; bit >= 0; --bit) {
    if ((value & (1U << bit)) == 0) continue;
    const std::string_view text = table != nullptr ? (*table)[static_cast<size_t>(bit)] : std::string_view{};
    out.push_back(text.empty() ? fmt::format("undocumented bit {}", bit) : std::string(text));
  }
  return out;
}

std::string describe_status(uint8_t status) {
  if (status == 0) return "none";
  const auto names = status_bit_names(status);
  return fmt::format("{}", fmt::join(names, ", "));
}

std::optional<uint8_t> parse_status(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!all_digits(text) || text.size() > 3) return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 255) return std::nullopt;
  return static_cast<uint8_t>(value);
}

std::string hex_excerpt(std::span<const uint8_t> bytes, size_t max_bytes) {
  std::string out;
  const size_t n = std::min(bytes.size(), max_bytes);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0) out.push_back(' ');
    out += fmt::format("{:02x}", bytes[i]);
  }
  if (bytes.size() > n) out += " ...";
  return out;
}

// --- ReplyReader ---

void ReplyReader::expect(ReplyKind kind) {
  kind_ = kind;
  done_ = false;
  trailing_cr_pending_ = false;  // a new command went out: from now on a 0x0D is reply data
  received_.clear();
  reply_ = Reply{};
  reply_.kind = kind;
  error_.clear();
}

void ReplyReader::reset() {
  expect(ReplyKind::kNone);
  done_ = true;
}

ReplyReader::Result ReplyReader::fail(std::string why) {
  error_ = std::move(why);
  done_ = true;
  return Result::kMalformed;
}

ReplyReader::Result ReplyReader::feed(std::span<const uint8_t> bytes, size_t& consumed) {
  consumed = 0;
  if (bytes.empty()) return done_ ? Result::kComplete : Result::kNeedMore;
  if (done_ || kind_ == ReplyKind::kNone) {
    received_.assign(bytes.begin(), bytes.end());
    consumed = bytes.size();
    return fail(fmt::format("{} unexpected byte(s) while no reply is expected", bytes.size()));
  }

  if (kind_ == ReplyKind::kBinary4) {
    // Exactly 4 bytes whatever they are: 0x0D/0x0A are ordinary data here (doc section 7).
    const size_t take = std::min(bytes.size(), size_t{4} - received_.size());
    received_.insert(received_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    consumed = take;
    if (received_.size() < 4) return Result::kNeedMore;
    reply_.raw = decode_int32_le(std::span<const uint8_t, 4>(received_.data(), 4));
    done_ = true;
    return Result::kComplete;
  }

  // ASCII or STATUS line, ended by LF (then CR).
  for (size_t i = 0; i < bytes.size(); ++i) {
    const uint8_t b = bytes[i];
    received_.push_back(b);
    consumed = i + 1;
    if (b == kLf) {
      if (kind_ == ReplyKind::kStatus) {
        const auto status = parse_status(reply_.text);
        if (!status) return fail(fmt::format("status reply \"{}\" is not a number 0-255", reply_.text));
        reply_.status = *status;
      }
      done_ = true;
      if (i + 1 < bytes.size() && bytes[i + 1] == kCr) {
        consumed = i + 2;
        received_.push_back(kCr);
      } else {
        trailing_cr_pending_ = true;
      }
      return Result::kComplete;
    }
    if (b == kCr) continue;  // a stray CR (e.g. "\r\n" order) carries no text; tolerated
    if (b < 0x20 || b > 0x7E) return fail(fmt::format("byte 0x{:02x} in an ASCII reply", b));
    if (reply_.text.size() >= kMaxAsciiChars) {
      return fail(fmt::format("no LF within {} characters", kMaxAsciiChars));
    }
    reply_.text.push_back(static_cast<char>(b));
  }
  return Result::kNeedMore;
}

bool ReplyReader::take_trailing_cr(uint8_t byte) {
  if (!trailing_cr_pending_ || byte != kCr) return false;
  trailing_cr_pending_ = false;
  return true;
}

// --- TcpLogin ---

TcpLogin::TcpLogin(std::string user, std::string password)
    : user_(std::move(user)), password_(std::move(password)) {}

std::string TcpLogin::start(int64_t t_ns) {
  state_ = State::kAwaitName;
  tries_ = 1;
  received_.clear();
  failure_.clear();
  deadline_ns_ = t_ns + kNameWait_ns;
  return " \r";
}

bool TcpLogin::name_prompt_seen() const {
  // srsgui's rule: the last CR-separated piece contains "Name:". Trailing line ends and blanks
  // are dropped first so that "Name:\r\n" counts too.
  std::string_view text = received_;
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  const size_t cr = text.rfind('\r');
  const std::string_view last = cr == std::string_view::npos ? text : text.substr(cr + 1);
  return last.find("Name:") != std::string_view::npos;
}

std::string TcpLogin::on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) {
  if (state_ != State::kAwaitName && state_ != State::kAwaitPasswordPrompt && state_ != State::kAwaitWelcome) {
    return {};
  }
  constexpr size_t kMaxKept = 2048;  // prompts are short; bound memory against a chatty peer
  received_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (received_.size() > kMaxKept) received_.erase(0, received_.size() - kMaxKept);
  if (state_ == State::kAwaitName && name_prompt_seen()) {
    state_ = State::kAwaitPasswordPrompt;
    received_.clear();
    deadline_ns_ = t_ns + kStepWait_ns;
    return user_ + "\r";
  }
  return {};
}

std::string TcpLogin::on_tick(int64_t t_ns) {
  if (t_ns < deadline_ns_) return {};
  switch (state_) {
    case State::kAwaitName:
      if (tries_ >= kNameTries) {
        state_ = State::kFailed;
        failure_ = fmt::format("login: no \"Name:\" prompt after {} tries", kNameTries);
        return {};
      }
      ++tries_;
      deadline_ns_ = t_ns + kNameWait_ns;
      return " \r";
    case State::kAwaitPasswordPrompt:
      // The password prompt's text is UNCONFIRMED: wait the fixed step time and discard it.
      state_ = State::kAwaitWelcome;
      received_.clear();
      deadline_ns_ = t_ns + kStepWait_ns;
      return password_ + "\r";
    case State::kAwaitWelcome:
      if (received_.find("Welcome") != std::string::npos) {
        state_ = State::kSucceeded;
      } else {
        state_ = State::kFailed;
        std::string_view seen = received_;
        if (seen.size() > 40) seen = seen.substr(0, 40);
        std::string printable;
        for (char c : seen) printable.push_back((c >= 0x20 && c <= 0x7E) ? c : '.');
        failure_ = fmt::format("login refused (no \"Welcome\"; got \"{}\")", printable);
      }
      return {};
    case State::kIdle:
    case State::kSucceeded:
    case State::kFailed:
      break;
  }
  return {};
}

int64_t TcpLogin::next_deadline_ns() const {
  switch (state_) {
    case State::kAwaitName:
    case State::kAwaitPasswordPrompt:
    case State::kAwaitWelcome:
      return deadline_ns_;
    default:
      return std::numeric_limits<int64_t>::max();
  }
}

}  // namespace opsync::drivers::rga
