// Instrument addresses as users write them in station.toml:
//   tcp://host:port
//   serial:///dev/ttyUSB0?baud=28800&rtscts=1&stopbits=2
// and where the daemon itself listens ([status] http = "127.0.0.1:8642").
// Parsed into a value; errors say what part is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace opsync::runtime {

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

// A local endpoint to listen on: an IP address literal (a name would need a resolver at start
// and could mean several addresses) and a port, 0 meaning any free one.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1"
  uint16_t port = 0;
};

// Returns the address, or sets `error` to a message naming what is wrong.
std::optional<Address> parse_address(const std::string& text, std::string& error);
std::string to_string(const Address& a);
// "HOST:PORT" or "[V6]:PORT"; sets `error` (without the text itself) when it is not one.
std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error);

}  // namespace opsync::runtime
