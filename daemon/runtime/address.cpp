// Parsing of tcp:// and serial:// addresses.
#include "runtime/address.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <fmt/format.h>

namespace opsync::runtime {
namespace {

template <class T>
bool parse_uint(const std::string& s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::optional<Address> parse_address(const std::string& text, std::string& error) {
  if (text.rfind("tcp://", 0) == 0) {
    const std::string rest = text.substr(6);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
      error = fmt::format("'{}': expected tcp://HOST:PORT", text);
      return std::nullopt;
    }
    TcpAddress a;
    a.host = rest.substr(0, colon);
    if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
    unsigned port = 0;
    if (!parse_uint(rest.substr(colon + 1), port) || port == 0 || port > 65535) {
      error = fmt::format("'{}': port '{}' is not a number from 1 to 65535", text, rest.substr(colon + 1));
      return std::nullopt;
    }
    a.port = static_cast<uint16_t>(port);
    return a;
  }
  if (text.rfind("serial://", 0) == 0) {
    std::string rest = text.substr(9);
    SerialAddress a;
    const auto q = rest.find('?');
    a.device = rest.substr(0, q);
    if (a.device.empty() || a.device[0] != '/') {
      error = fmt::format("'{}': expected serial:///dev/NAME (three slashes: the device path is absolute)", text);
      return std::nullopt;
    }
    if (q != std::string::npos) {
      std::string query = rest.substr(q + 1);
      size_t start = 0;
      while (start <= query.size()) {
        const size_t amp = query.find('&', start);
        const std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
        const auto eq = kv.find('=');
        const std::string key = kv.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
        if (key == "baud") {
          if (!parse_uint(value, a.baud) || a.baud == 0) {
            error = fmt::format("'{}': baud '{}' is not a positive number", text, value);
            return std::nullopt;
          }
        } else if (key == "rtscts") {
          if (value != "0" && value != "1") {
            error = fmt::format("'{}': rtscts must be 0 or 1", text);
            return std::nullopt;
          }
          a.rtscts = value == "1";
        } else if (key == "stopbits") {
          if (value != "1" && value != "2") {
            error = fmt::format("'{}': stopbits must be 1 or 2", text);
            return std::nullopt;
          }
          a.stop_bits = value == "2" ? 2 : 1;
        } else if (!key.empty()) {
          error = fmt::format("'{}': unknown option '{}' (known: baud, rtscts, stopbits)", text, key);
          return std::nullopt;
        }
        if (amp == std::string::npos) break;
        start = amp + 1;
      }
    }
    return a;
  }
  error = fmt::format("'{}': expected tcp://HOST:PORT or serial:///dev/NAME?baud=N&rtscts=0|1", text);
  return std::nullopt;
}

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "expected HOST:PORT, e.g. \"127.0.0.1:8642\" (\"\" disables the endpoint)";
    return std::nullopt;
  }
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  const std::string port = text.substr(colon + 1);
  unsigned p = 0;
  if (!parse_uint(port, p) || p > 65535) {
    error = fmt::format("port '{}' is not a number from 0 to 65535 (0: any free port)", port);
    return std::nullopt;
  }
  a.port = static_cast<uint16_t>(p);
  boost::system::error_code ec;
  boost::asio::ip::make_address(a.host, ec);
  if (ec) {
    error = fmt::format("host '{}' is not an IP address (use 127.0.0.1, ::1, or 0.0.0.0 for every interface)", a.host);
    return std::nullopt;
  }
  return a;
}

std::string to_string(const Address& a) {
  if (const auto* t = std::get_if<TcpAddress>(&a)) return fmt::format("tcp://{}:{}", t->host, t->port);
  const auto& s = std::get<SerialAddress>(a);
  return fmt::format("serial://{}?baud={}&rtscts={}&stopbits={}", s.device, s.baud, s.rtscts ? 1 : 0, s.stop_bits);
}

}  // namespace opsync::runtime
