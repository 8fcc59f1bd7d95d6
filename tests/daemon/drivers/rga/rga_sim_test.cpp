// The simulated SRS RGA answers byte for byte as shared/protocols/srs-rga.md says, at the
// right times, and its faults show up where a client can see them.
#include "drivers/rga/rga_sim.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "drivers/rga/rga_codec.h"
#include "fake_host.h"

namespace opsync::drivers::rga {
namespace {

using testing::as_bytes;

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kS = 1'000'000'000;

std::string le(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// Serial time of n reply bytes at 28800 baud, 10 bits per byte (doc section 4).
int64_t tx_ns(int64_t n) { return n * 10 * kS / 28800; }

class RgaSimTest : public ::testing::Test {
 protected:
  void make(RgaSimOptions options = {}) {
    if (!options.ion_current_a) {
      options.ion_current_a = [this](int mass, int64_t t_ns) {
        calls.emplace_back(mass, t_ns);
        return model_a;
      };
    }
    sim = std::make_unique<RgaSimulator>(std::move(options));
    sim->on_connect(0);
  }
  void send(std::string_view text, int64_t t_ns) { sim->on_bytes(as_bytes(text), t_ns); }
  std::string output_at(int64_t t_ns) {
    sim->on_tick(t_ns);
    const auto out = sim->take_output();
    return {out.begin(), out.end()};
  }
  // Sends a command and returns everything it produced within `wait_ns` (sim time then stands
  // at t_ns + wait_ns: the next command must come later).
  std::string ask(std::string_view text, int64_t t_ns, int64_t wait_ns = kS) {
    send(text, t_ns);
    return output_at(t_ns + wait_ns);
  }

  std::unique_ptr<RgaSimulator> sim;
  double model_a = 0;
  std::vector<std::pair<int, int64_t>> calls;
};

TEST_F(RgaSimTest, IdReplyIsTheDocsBytes) {
  make();
  send("ID?\r", 0);
  const int64_t due = sim->next_deadline_ns();
  EXPECT_EQ(due, RgaSimOptions{}.command_latency_ns + tx_ns(25));
  EXPECT_EQ(output_at(due - 1), "");
  EXPECT_EQ(output_at(due), le({0x53, 0x52, 0x53, 0x52, 0x47, 0x41, 0x32, 0x30, 0x30, 0x56, 0x45, 0x52, 0x30,
                                0x2e, 0x32, 0x34, 0x53, 0x4e, 0x31, 0x34, 0x33, 0x34, 0x36, 0x0a, 0x0d}));
  EXPECT_EQ(sim->next_deadline_ns(), kNoDeadline);
}

TEST_F(RgaSimTest, EmissionRepliesStatusAfterSettling) {
  make();
  send("FL1.0\r", 0);
  const int64_t due = RgaSimOptions{}.emission_settle_ns + tx_ns(3);
  EXPECT_EQ(sim->next_deadline_ns(), due);
  EXPECT_EQ(output_at(due - 1), "");
  EXPECT_EQ(output_at(due), le({0x30, 0x0a, 0x0d}));  // doc 3.1
  EXPECT_DOUBLE_EQ(sim->emission_ma(), 1.0);
  EXPECT_EQ(ask("FL?\r", kS), "1.00\n\r");
}

TEST_F(RgaSimTest, NoiseFloorHasNoReplyAndSetsTheGate) {
  make();
  EXPECT_EQ(ask("NF4\r", 0), "");  // doc 3.1: NF4 <- nothing
  EXPECT_EQ(sim->next_deadline_ns(), kNoDeadline);
  EXPECT_EQ(ask("NF7\r", kS), "");
  EXPECT_EQ(sim->noise_floor(), 7);
  EXPECT_EQ(ask("NF?\r", 2 * kS), "7\n\r");
  EXPECT_EQ(ask("NF8\r", 3 * kS), "");  // out of range: bad parameter, still no reply
  EXPECT_EQ(sim->noise_floor(), 7);
  EXPECT_EQ(ask("EC?\r", 4 * kS), "2\n\r");
}

TEST_F(RgaSimTest, MassReadAnswersAfterTheGateWithTheModelAtMidMeasurement) {
  make();
  ask("FL1.0\r", 0);
  model_a = 1.23456e-11;
  const int64_t t0 = 2 * kS;
  send("MR44\r", t0);
  const int64_t due = t0 + 163 * kMs + tx_ns(4);  // NF4 gate (doc section 4) + 4 bytes on the line
  EXPECT_EQ(sim->next_deadline_ns(), due);
  EXPECT_EQ(output_at(due - 1), "");
  EXPECT_EQ(output_at(due), le({0x40, 0xe2, 0x01, 0x00}));  // doc 3.1
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0].first, 44);
  EXPECT_EQ(calls[0].second, t0 + 163 * kMs / 2);
  EXPECT_TRUE(sim->rf_on());

  ask("NF7\r", 3 * kS);
  send("MR32\r", 4 * kS);
  EXPECT_EQ(sim->next_deadline_ns(), 4 * kS + 25 * kMs + tx_ns(4));  // NF7 gate
}

TEST_F(RgaSimTest, CurrentsAreQuantisedSignedInt32) {
  make();
  ask("FL1.0\r", 0);
  model_a = -2e-10;
  EXPECT_EQ(ask("MR44\r", kS), le({0x80, 0x7b, 0xe1, 0xff}));
  model_a = -1e-16;
  EXPECT_EQ(ask("MR44\r", 2 * kS), le({0xff, 0xff, 0xff, 0xff}));
  model_a = 1.0000000004e-12;  // rounds to 10000 counts
  EXPECT_EQ(ask("MR44\r", 3 * kS), le({0x10, 0x27, 0x00, 0x00}));
  model_a = 1.0;  // far beyond int32: saturates rather than wrapping
  EXPECT_EQ(ask("MR44\r", 4 * kS), le({0xff, 0xff, 0xff, 0x7f}));
}

TEST_F(RgaSimTest, FilamentOffReadsZero) {
  make();
  model_a = 5e-12;
  EXPECT_EQ(ask("MR32\r", 0), le({0, 0, 0, 0}));  // filament is off at power-up
  ask("FL1.0\r", kS);
  EXPECT_NE(ask("MR32\r", 2 * kS), le({0, 0, 0, 0}));
  EXPECT_EQ(ask("FL0\r", 3 * kS), "0\n\r");
  EXPECT_EQ(ask("MR32\r", 4 * kS), le({0, 0, 0, 0}));
  EXPECT_EQ(ask("MR0\r", 5 * kS), "");  // RF off, no reply
  EXPECT_FALSE(sim->rf_on());
}

TEST_F(RgaSimTest, UnknownCommandSetsRs232ErrorAndGetsNoReply) {
  make();
  EXPECT_EQ(ask("XX1\r", 0), "");
  EXPECT_EQ(ask("ER?\r", kS), "1\n\r");  // RS232_ERR
  EXPECT_EQ(ask("EC?\r", 2 * kS), "1\n\r");  // b0 bad command
  EXPECT_EQ(ask("ER?\r", 3 * kS), "0\n\r");  // cleared by reading EC? (sim assumption)
}

TEST_F(RgaSimTest, CommandTooLongAndBadParameter) {
  make();
  EXPECT_EQ(ask("MRMRMRMRMRMRMR44\r", 0), "");
  EXPECT_EQ(ask("EC?\r", kS), "4\n\r");  // b2 command too long
  EXPECT_EQ(ask("FL9\r", 2 * kS), "1\n\r");  // STATUS still comes, with RS232_ERR set
  EXPECT_EQ(ask("EC?\r", 3 * kS), "2\n\r");  // b1 bad parameter
  EXPECT_DOUBLE_EQ(sim->emission_ma(), 0.0);
}

TEST_F(RgaSimTest, LowerCaseAndLineFeedsAreAccepted) {
  make();
  EXPECT_EQ(ask("id?\r\n", 0), "SRSRGA200VER0.24SN14346\n\r");
  EXPECT_EQ(ask("ER?\r", kS), "0\n\r");
}

TEST_F(RgaSimTest, CommandsDuringAMassReadAreAnsweredInOrder) {
  make();
  ask("FL1.0\r", 0);
  model_a = 1e-12;
  send("MR44\r", kS);
  send("ER?\r", kS + 10 * kMs);
  EXPECT_EQ(output_at(kS + 100 * kMs), "");  // ER? waits for the MR
  EXPECT_EQ(output_at(kS + kS), le({0x10, 0x27, 0x00, 0x00}) + "0\n\r");
}

TEST_F(RgaSimTest, FilamentFailureFault) {
  make();
  ask("FL1.0\r", 0);
  model_a = 1e-12;
  EXPECT_TRUE(sim->inject("filament_fail"));
  EXPECT_EQ(ask("MR32\r", kS), le({0, 0, 0, 0}));
  EXPECT_EQ(ask("ER?\r", 2 * kS), "2\n\r");  // FIL_ERR
  EXPECT_EQ(ask("FL1.0\r", 3 * kS), "2\n\r");
  EXPECT_EQ(ask("EF?\r", 4 * kS), "192\n\r");  // no filament detected + cannot set emission
  EXPECT_TRUE(sim->inject("filament_ok"));
  EXPECT_EQ(ask("FL1.0\r", 5 * kS), "0\n\r");
  EXPECT_EQ(ask("EF?\r", 6 * kS), "0\n\r");
  EXPECT_EQ(ask("MR32\r", 7 * kS), le({0x10, 0x27, 0x00, 0x00}));
}

TEST_F(RgaSimTest, StallStopsAnswersUntilUnstall) {
  make();
  send("ID?\r", 0);
  EXPECT_TRUE(sim->inject("stall"));
  EXPECT_EQ(output_at(kS), "");  // the queued reply is lost
  EXPECT_EQ(ask("ID?\r", 2 * kS), "");
  EXPECT_TRUE(sim->inject("unstall"));
  EXPECT_EQ(ask("ID?\r", 3 * kS), "SRSRGA200VER0.24SN14346\n\r");
  EXPECT_FALSE(sim->inject("bad_crc"));
}

TEST_F(RgaSimTest, TcpLoginBeforeCommands) {
  RgaSimOptions options;
  options.tcp_login = true;
  options.password = "pw";
  make(options);
  EXPECT_FALSE(sim->logged_in());
  const std::string prompt = ask(" \r", 0, kS);
  EXPECT_NE(prompt.find("Name:"), std::string::npos);
  ask("admin\r", kS, kS);
  EXPECT_NE(ask("wrong\r", 2 * kS, kS).find("incorrect"), std::string::npos);
  EXPECT_FALSE(sim->logged_in());
  ask("admin\r", 3 * kS, kS);
  EXPECT_NE(ask("pw\r", 4 * kS, kS).find("Welcome"), std::string::npos);
  EXPECT_TRUE(sim->logged_in());
  EXPECT_EQ(ask("ID?\r", 5 * kS), "SRSRGA200VER0.24SN14346\n\r");
  EXPECT_EQ(sim->commands_executed(), 1U);  // login lines are not commands
}

}  // namespace
}  // namespace opsync::drivers::rga
