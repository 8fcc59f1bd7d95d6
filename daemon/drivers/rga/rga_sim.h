// Simulated SRS RGA100/200/300 that answers byte for byte as the real one does
// (shared/protocols/srs-rga.md): ASCII replies ended by LF CR, STATUS replies to hardware
// commands, no reply to NF/MR0/..., 4-byte ion currents after the NF gate time, error bytes,
// the TCP-818 login, and injectable faults. Sans-IO (see drivers/sim_device.h); the scenario
// supplies the true ion current as a function of mass and time.
//
// Choices where the doc leaves room (documented here, as the driver must cope with the real thing):
// * Commands are executed strictly in arrival order, each starting when the previous one is
//   done; a command that arrives while an MR is measuring is answered after it (MR is not a
//   scan, and doc section 5's abort rule is for SC/HS, which this simulator does not implement).
// * A set command whose reply is a STATUS byte still replies after a bad parameter (with the
//   RS232_ERR bit set); commands with no reply stay silent. An unknown command sets RS232_ERR
//   bit 0 and gets no reply.
// * Reading EC? clears RS232_ERR (UNCONFIRMED on the real RGA); the other error bytes follow
//   the simulated hardware (FIL_ERR stays until an FL succeeds).
// * LF is ignored in input (a lone CR ends a command; an empty command is ignored).
// * Login texts ("Name: ", "Password: ", "Welcome ...") are guesses at the adapter's; only
//   "Name:" and "Welcome" matter to clients (doc section 1).
// * Reply bytes go out at the serial rate (10 bits/byte), all released at the last byte's time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/sim_device.h"

namespace opsync::drivers::rga {

struct RgaSimOptions {
  std::string identity = "SRSRGA200VER0.24SN14346";  // ID? reply; M_MAX is read from it
  bool tcp_login = false;  // behave as the RGA Ethernet adapter on TCP 818
  std::string user = "admin";
  std::string password = "admin";
  // True ion current [A] at mass m/z and sim time t_ns (at the mid-time of an MR measurement),
  // with the filament on. Empty = 0 A.
  std::function<double(int mass, int64_t t_ns)> ion_current_a;
  bool cdem_installed = true;                       // MO? = 1; HV > 0 allowed
  int baud = 28800;                                 // reply transmission time; 0 = instantaneous
  int64_t command_latency_ns = 1'000'000;           // queries and quick settings
  int64_t emission_settle_ns = 500'000'000;         // FL: the emission regulates
  int64_t cdem_settle_ns = 200'000'000;             // HV ramp
  int64_t calibrate_ns = 2'000'000'000;             // CA/CL (real ones take up to tens of s)
};

class RgaSimulator final : public SimDevice {
 public:
  explicit RgaSimulator(RgaSimOptions options);

  void on_connect(int64_t t_ns) override;
  void on_bytes(std::span<const uint8_t> bytes, int64_t t_ns) override;
  void on_tick(int64_t t_ns) override;
  int64_t next_deadline_ns() const override;
  std::vector<uint8_t> take_output() override;
  void on_disconnect(int64_t t_ns) override;
  // "filament_fail": the filament is gone (FIL_ERR "no filament detected"; emission drops to 0
  // so MR reads 0; FL > 0 then answers a non-zero STATUS). "filament_ok": a filament again (FL
  // must be sent to light it). "stall": the RGA stops answering, input is ignored and queued
  // replies are lost, until "unstall". Anything else: false.
  bool inject(std::string_view fault) override;

  // State, for tests and scenarios.
  int noise_floor() const { return noise_floor_; }
  double emission_ma() const { return emission_ma_; }
  int cdem_voltage_v() const { return cdem_voltage_v_; }
  bool rf_on() const { return rf_on_; }
  bool logged_in() const { return !options_.tcp_login || login_ == Login::kDone; }
  uint8_t status_byte() const;
  uint64_t commands_executed() const { return commands_executed_; }

 private:
  enum class Login : uint8_t { kAwaitHello, kAwaitUser, kAwaitPassword, kDone };
  struct Pending {
    int64_t due_ns = 0;
    std::vector<uint8_t> bytes;
  };
  struct Setting {  // a plain numeric parameter: set (no reply) and query (ASCII)
    double min = 0;
    double max = 0;
    double value = 0;
    bool integer = true;
  };

  struct ParsedCommand {  // one command line, as execute() hands it to a handler
    std::string mnemonic;    // the two letters, upper case
    std::string_view param;  // the rest of the line (a view into the line being executed)
    bool query = false;      // param is "?"
    bool deflt = false;      // param is "*"
    int64_t t_ns = 0;        // arrival
    int64_t start_ns = 0;    // execution starts: arrival, or when the previous command is done
    int64_t quick_ns = 0;    // a quick reply (query, quick setting) is ready
  };

  void feed_login_line(const std::string& line, int64_t t_ns);
  // Parses one command line and hands it to its handler (one per command, or the settings_
  // table); an unknown command sets RS232_ERR bit 0 and gets no reply.
  void execute(const std::string& line, int64_t t_ns);
  void bad_command();
  void status_after(const ParsedCommand& c, int64_t duration_ns);
  void bad_parameter_status(const ParsedCommand& c);
  // Handlers, one for each command or family of commands (rga_sim.cpp).
  void query_identity(const ParsedCommand& c);     // ID
  void measure_mass(const ParsedCommand& c);       // MR
  void set_noise_floor(const ParsedCommand& c);    // NF
  void set_emission(const ParsedCommand& c);       // FL
  void set_cdem_voltage(const ParsedCommand& c);   // HV
  void calibrate(const ParsedCommand& c);          // CA, CL
  void degas(const ParsedCommand& c);              // DG
  void initialize(const ParsedCommand& c);         // IN
  void query_cdem_option(const ParsedCommand& c);  // MO
  void query_point_count(const ParsedCommand& c);  // AP, HP
  void query_error_byte(const ParsedCommand& c);   // ER, EC, EF, EM, EQ, ED, EP
  void execute_setting(const ParsedCommand& c, Setting& s);  // MI, MF, SA, ML, SP, ST, MG, MV, EE, IE, VF
  void reply_text(int64_t ready_ns, std::string_view text);  // appends "\n\r"
  void reply_status(int64_t ready_ns);
  void reply_bytes(int64_t ready_ns, std::vector<uint8_t> bytes);
  int64_t start_ns(int64_t t_ns) const { return std::max(t_ns, busy_until_ns_); }
  int64_t transmit_ns(size_t n_bytes) const;

  RgaSimOptions options_;
  int m_max_ = 300;
  int64_t now_ns_ = 0;
  int64_t busy_until_ns_ = 0;
  int64_t last_due_ns_ = 0;
  std::deque<Pending> output_;
  std::string line_;
  bool discarding_ = false;  // command too long: drop input up to the next CR
  Login login_ = Login::kAwaitHello;
  std::string login_user_;  // user name, until its password arrives
  bool stalled_ = false;

  int noise_floor_ = 4;
  double emission_ma_ = 0;  // filament off at power-up
  int cdem_voltage_v_ = 0;
  bool rf_on_ = false;
  bool filament_broken_ = false;
  uint8_t rs232_err_ = 0, fil_err_ = 0, cem_err_ = 0, qmf_err_ = 0, det_err_ = 0, ps_err_ = 0;
  std::map<std::string, Setting> settings_;
  uint64_t commands_executed_ = 0;
};

}  // namespace opsync::drivers::rga
