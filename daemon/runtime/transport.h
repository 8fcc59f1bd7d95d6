// Byte links to instruments over Boost.Asio: TCP sockets and serial ports (including
// pseudo-terminals). A transport only moves bytes; protocol lives in the drivers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/system/error_code.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/address.h"

namespace opsync::runtime {

using ErrorCode = boost::system::error_code;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void async_connect(std::function<void(const ErrorCode&)> done) = 0;
  virtual void async_read_some(uint8_t* buf, size_t n, std::function<void(const ErrorCode&, size_t)> done) = 0;
  virtual void async_write(std::shared_ptr<const std::vector<uint8_t>> data, std::function<void(const ErrorCode&)> done) = 0;
  // Cancels pending operations (their handlers run with operation_aborted) and closes.
  virtual void close() = 0;
  // A setting that could not be applied (e.g. RTS/CTS on a pseudo-terminal); empty when none.
  virtual std::string warning() const { return {}; }
};

std::unique_ptr<Transport> make_transport(boost::asio::io_context& io, const Address& address);

// How a runner makes a link for each connect: make_transport in the daemon, a scripted link in
// the runner's unit tests.
using TransportFactory = std::function<std::unique_ptr<Transport>(boost::asio::io_context&, const Address&)>;

}  // namespace opsync::runtime
