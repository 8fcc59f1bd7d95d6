// Shared pieces of the MacNet tests: the doc's byte vectors and JSON example, hex parsing, and a
// scripted DriverHost that records what a driver emits.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/driver.h"
#include "support/recording_host.h"

namespace opsync::drivers::macnet::testing {

// "04 00 07 00" -> bytes.
inline std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int nibble = -1;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (nibble < 0) {
      nibble = v;
    } else {
      out.push_back(static_cast<uint8_t>(nibble * 16 + v));
      nibble = -1;
    }
  }
  return out;
}

inline std::vector<uint8_t> bytes_of(std::string_view text) { return {text.begin(), text.end()}; }

// shared/protocols/maccor-macnet.md section 6, verbatim.
inline constexpr std::string_view kDocVector1 =
    "04 00 07 00 03 00 2e 00  1f c1 04 00 12 00 00 00"
    "00 00 00 00 02 00 00 00  70 41 00 00 20 41 00 00"
    "00 00 00 00 00 00 00 00  00 00 cd 00 cd 3b c0 9e"
    "26 62 58 01 00 00";
inline constexpr std::string_view kDocVector2 =
    "04 00 07 00 00 00 2e 00 01 00 02 00 81 10 00 00 03 00 00 00 05 00 00 0c e3 45 00 a8 e1 44 cd cc"
    "4c 3c 36 3c 3d 3d 0a d7 a3 3b 66 66 76 40 7b 68 e5 cf 8b 01 00 00";

// The doc's JSON reply (MacNet p.34), pretty-printed the way the server sends it, + CRLF.
inline std::string doc_json_reply(std::string_view id = "1987", std::string_view eol = "\n") {
  std::string s = R"({
    "jsonrpc": "2.0",
    "result": {
        "FClass": 4,
        "FNum": 7,
        "Chan": 3,
        "RF1": 31,
        "RF2": 193,
        "Stat": 4,
        "LastRecNum": 18,
        "Cycle": 0,
        "Step": 2,
        "TestTime": 15,
        "StepTime": 10,
        "Capacity": 0,
        "Energy": 0,
        "Current": 0,
        "Voltage": 0.0062561989761889,
        "TesterTime": "2016-11-14T09:24:08"
    },
    "id": ID
})";
  s.replace(s.find("ID"), 2, id);
  if (eol != "\n") {
    std::string out;
    for (char c : s) {
      if (c == '\n') {
        out += eol;
      } else {
        out += c;
      }
    }
    s = out;
  }
  return s + "\r\n";
}

// The shared test double (tests/support/recording_host.h).
using RecordingHost = opsync::test::RecordingHost;
using opsync::test::RecordedEvent;
using opsync::test::RecordedSample;

}  // namespace opsync::drivers::macnet::testing
