// Wire protocol of the SRS RGA100/200/300 residual gas analyser (shared/protocols/srs-rga.md):
// command text, which reply each command gets, a streaming reply reader, ID and error-byte
// decoding, ion-current conversion and the TCP-818 login dialogue. Sans-IO, no exceptions on
// bad bytes: the reader reports malformed input as a value.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace opsync::drivers::rga {

inline constexpr uint8_t kCr = 0x0D;
inline constexpr uint8_t kLf = 0x0A;
inline constexpr int kMaxNoiseFloor = 7;
inline constexpr int kMaxMass = 300;  // RGA300; the real limit is M_MAX from ID?

// Per-MR measuring time for noise floor NF 0..7 (doc section 4, ruediPy's measured gate times;
// the official table is UNCONFIRMED). Out-of-range NF is clamped.
int64_t gate_time_ns(int noise_floor);
// Client timeout for an MR (and for quick queries): 3 x gate + 1 s (doc section 4).
int64_t reply_timeout_ns(int noise_floor);

// What comes back after a command (doc table 3).
enum class ReplyKind : uint8_t {
  kNone,     // NF, MI, MF, SA, ML, SP, ST, MG, MV set; MR0
  kAscii,    // text\n\r (queries such as ID?, NF?, FL?)
  kStatus,   // ASCII decimal STATUS/error byte 0..255 (FL, HV, CA... set; ER?, EF?...)
  kBinary4,  // 4-byte little-endian int32, no terminator (MRn, TP?)
};
std::string_view reply_kind_name(ReplyKind kind);

// Reply kind for a command's text (with or without its CR; letters case-insensitive).
// nullopt for commands this reader does not handle: unknown mnemonics, the streaming scans
// (SC, HS) and TP set (its reply is UNCONFIRMED).
std::optional<ReplyKind> reply_kind_for(std::string_view command);

// Command text, CR-terminated. Parameters follow the mnemonic with no space.
namespace cmd {
std::string make(std::string_view mnemonic, std::string_view parameter = {});
std::string query(std::string_view mnemonic);  // "ID" -> "ID?\r"
std::string mass_read(int mass);               // "MR44\r"; 0 = RF/DC off, no reply
std::string emission(double emission_ma);      // "FL1.0\r"; 0 = filament off
std::string cdem_voltage(int voltage_v);       // "HV0\r"; 0 = Faraday cup
std::string noise_floor(int noise_floor);      // "NF4\r"
std::string calibrate_all();                   // "CA\r"
// The command text without its CR, for messages.
std::string_view printable(std::string_view command);
}  // namespace cmd

// Ion current from the raw MR/scan integer: raw x 1e-16 A, signed (noise can be negative).
double ion_current_a(int32_t raw);
int32_t decode_int32_le(std::span<const uint8_t, 4> bytes);
std::array<uint8_t, 4> encode_int32_le(int32_t value);

// The ID? reply "SRSRGA200VER0.24SN14346" (rga.py check_id: model chars 0-8, M_MAX chars 6-8,
// firmware chars 12-15, serial chars 18-). Parsed by its markers, which gives the same fields.
struct Identity {
  std::string model;     // SRSRGA200
  int m_max = 0;         // 200 amu
  std::string firmware;  // 0.24
  std::string serial;    // 14346
};
std::optional<Identity> parse_identity(std::string_view text);

// The six error bytes behind the STATUS byte bits (doc section 6).
enum class ErrorByte : uint8_t { kRs232, kFilament, kCem, kQmf, kDetector, kPowerSupply };
inline constexpr std::array<ErrorByte, 6> kAllErrorBytes = {
    ErrorByte::kPowerSupply, ErrorByte::kDetector, ErrorByte::kQmf,
    ErrorByte::kCem,         ErrorByte::kFilament, ErrorByte::kRs232};

uint8_t status_bit(ErrorByte which);                // FIL_ERR -> 0x02
std::string_view error_byte_name(ErrorByte which);  // FIL_ERR
std::string_view error_query_mnemonic(ErrorByte which);  // EF
// Names of the set STATUS bits, e.g. {"FIL_ERR", "RS232_ERR"}; unused bits as "BIT7"/"BIT2".
std::vector<std::string> status_bit_names(uint8_t status);
// Error bytes whose STATUS bit is set, in doc order (PS, DET, QMF, CEM, FIL, RS232).
std::vector<ErrorByte> flagged_error_bytes(uint8_t status);
// Meaning of each set bit of one error byte, e.g. EF? 0x80 -> {"no filament detected"}.
std::vector<std::string> error_bit_descriptions(ErrorByte which, uint8_t value);
// "FIL_ERR, RS232_ERR" or "none".
std::string describe_status(uint8_t status);
// A STATUS/error byte reply text: decimal 0..255 (optional spaces around).
std::optional<uint8_t> parse_status(std::string_view text);

// "4d 52 34 34 0d" excerpt of at most max_bytes, "..." appended when longer.
std::string hex_excerpt(std::span<const uint8_t> bytes, size_t max_bytes = 16);

// One reply as read off the link.
struct Reply {
  ReplyKind kind = ReplyKind::kNone;
  std::string text;    // kAscii/kStatus: the line without terminator
  uint8_t status = 0;  // kStatus
  int32_t raw = 0;     // kBinary4
};

// Reads the one reply the driver is waiting for, in whatever pieces it arrives. The caller
// says what to expect (the protocol never pipelines), so a binary read takes exactly 4 bytes,
// whatever their values (0x0D and 0x0A are ordinary data there), and an ASCII read ends at LF.
class ReplyReader {
 public:
  enum class Result : uint8_t { kNeedMore, kComplete, kMalformed };
  static constexpr size_t kMaxAsciiChars = 64;  // longest real reply (ID?) is 23

  void expect(ReplyKind kind);  // start a new reply; forgets any partial one
  void reset();                 // nothing expected; any byte fed is malformed

  // Consumes bytes of the expected reply from the front of `bytes` and sets `consumed`. After
  // kComplete, reply() holds it and the rest of `bytes` is not part of it. After kMalformed,
  // error() says why; the caller flushes. On LF the ASCII reply is complete; the CR after it is
  // consumed if it is in the same piece, otherwise trailing_cr_pending() is set.
  Result feed(std::span<const uint8_t> bytes, size_t& consumed);

  // The LF CR terminator was split: the CR may be the first byte of the next piece. Returns
  // true (and clears the flag) if `byte` is that CR. ER? may end at LF alone (doc section 7).
  bool take_trailing_cr(uint8_t byte);
  bool trailing_cr_pending() const { return trailing_cr_pending_; }

  ReplyKind expected() const { return kind_; }
  const Reply& reply() const { return reply_; }
  const std::string& error() const { return error_; }
  // The bytes of the current reply received so far (for malformed/timeout reports).
  std::span<const uint8_t> received() const { return received_; }

 private:
  Result fail(std::string why);

  ReplyKind kind_ = ReplyKind::kNone;
  bool done_ = true;
  bool trailing_cr_pending_ = false;
  std::vector<uint8_t> received_;
  Reply reply_;
  std::string error_;
};

// Client side of the RGA Ethernet adapter's telnet-like login on TCP 818 (doc section 1):
// " \r" until the last CR-separated piece contains "Name:" (up to 3 tries, 2 s each), then the
// user name, 0.5 s of discarded prompt, the password, 0.5 s, success iff "Welcome" came back.
class TcpLogin {
 public:
  enum class State : uint8_t { kIdle, kAwaitName, kAwaitPasswordPrompt, kAwaitWelcome, kSucceeded, kFailed };
  static constexpr int64_t kNameWait_ns = 2'000'000'000;
  static constexpr int kNameTries = 3;
  static constexpr int64_t kStepWait_ns = 500'000'000;

  TcpLogin(std::string user, std::string password);

  // Each returns the text to send now (possibly empty).
  std::string start(int64_t t_ns);
  std::string on_bytes(std::span<const uint8_t> bytes, int64_t t_ns);
  std::string on_tick(int64_t t_ns);
  int64_t next_deadline_ns() const;

  State state() const { return state_; }
  const std::string& failure() const { return failure_; }

 private:
  bool name_prompt_seen() const;

  std::string user_;
  std::string password_;
  State state_ = State::kIdle;
  int tries_ = 0;
  int64_t deadline_ns_ = 0;
  std::string received_;  // text of the current step
  std::string failure_;
};

}  // namespace opsync::drivers::rga
