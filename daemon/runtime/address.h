// Instrument addresses as users write them in station.toml:
//   tcp://host:port
//   serial:///dev/ttyUSB0?baud=28800&rtscts=1&stopbits=2
// Parsed into a value; errors say what part is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace opsync::daemon {

struct TcpAddress {
  std::string host;
  uint16_t port = 0;
};

struct SerialAddress {
  std::string device;       // /dev/ttyUSB0, /dev/pts/3
  unsigned baud = 115200;
  bool rtscts = false;      // hardware flow control
  unsigned stop_bits = 1;   // 1 or 2
};

using Address = std::variant<TcpAddress, SerialAddress>;

// Returns the address, or sets `error` to a message naming what is wrong.
std::optional<Address> parse_address(const std::string& text, std::string& error);
std::string to_string(const Address& a);

}  // namespace opsync::daemon
