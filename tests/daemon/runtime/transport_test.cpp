// The transports against real endpoints on this machine: a TCP listener on 127.0.0.1 and a
// pseudo-terminal. Bytes go both ways unchanged, the peer's close is an end of file, a refused
// connect and a missing device are errors, and close() ends a pending read.
#include "runtime/transport.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <optional>
#include <pty.h>
#include <string>
#include <termios.h>
#include <unistd.h>

#include "scripted_source.h"

namespace opsync::runtime {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using testing::run_until;

struct ReadResult {
  std::optional<ErrorCode> ec;
  std::string bytes;
};

void read_once(Transport& t, std::array<uint8_t, 256>& buf, ReadResult& out) {
  t.async_read_some(buf.data(), buf.size(), [&out, &buf](const ErrorCode& ec, size_t n) {
    out.ec = ec;
    out.bytes.assign(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  });
}

TEST(TcpTransport, CarriesBytesBothWaysAndReportsThePeersClose) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(io);
  bool accepted = false;
  acceptor.async_accept(peer, [&](const ErrorCode& ec) { accepted = !ec; });

  auto t = make_transport(io, TcpAddress{"127.0.0.1", acceptor.local_endpoint().port()});
  std::optional<ErrorCode> connected;
  t->async_connect([&](const ErrorCode& ec) { connected = ec; });
  run_until(io, [&] { return connected && accepted; }, "the connect");
  ASSERT_FALSE(*connected) << connected->message();

  std::optional<ErrorCode> wrote;
  t->async_write(std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{'p', 'i', 'n', 'g', 0, 0xFF}),
                 [&](const ErrorCode& ec) { wrote = ec; });
  std::array<char, 6> got{};
  bool peer_read = false;
  asio::async_read(peer, asio::buffer(got), [&](const ErrorCode& ec, size_t) { peer_read = !ec; });
  run_until(io, [&] { return wrote && peer_read; }, "the write");
  EXPECT_FALSE(*wrote);
  EXPECT_EQ(std::string(got.data(), got.size()), std::string("ping\0\xFF", 6));

  std::array<uint8_t, 256> buf{};
  ReadResult r;
  read_once(*t, buf, r);
  asio::write(peer, asio::buffer(std::string("pong")));
  run_until(io, [&] { return r.ec.has_value(); }, "the read");
  EXPECT_FALSE(*r.ec);
  EXPECT_EQ(r.bytes, "pong");

  ReadResult end;
  read_once(*t, buf, end);
  peer.close();
  run_until(io, [&] { return end.ec.has_value(); }, "the end of file");
  EXPECT_EQ(*end.ec, asio::error::eof);
}

TEST(TcpTransport, ARefusedConnectIsAnError) {
  asio::io_context io;
  uint16_t port = 0;
  {
    // A port that was free a moment ago and has no listener now.
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  auto t = make_transport(io, TcpAddress{"127.0.0.1", port});
  std::optional<ErrorCode> connected;
  t->async_connect([&](const ErrorCode& ec) { connected = ec; });
  run_until(io, [&] { return connected.has_value(); }, "the connect");
  EXPECT_EQ(*connected, asio::error::connection_refused) << connected->message();
}

TEST(TcpTransport, CloseEndsAPendingRead) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(io);
  acceptor.async_accept(peer, [](const ErrorCode&) {});
  auto t = make_transport(io, TcpAddress{"127.0.0.1", acceptor.local_endpoint().port()});
  std::optional<ErrorCode> connected;
  t->async_connect([&](const ErrorCode& ec) { connected = ec; });
  run_until(io, [&] { return connected.has_value(); }, "the connect");
  ASSERT_FALSE(*connected);
  std::array<uint8_t, 256> buf{};
  ReadResult r;
  read_once(*t, buf, r);
  t->close();
  run_until(io, [&] { return r.ec.has_value(); }, "the aborted read");
  EXPECT_EQ(*r.ec, asio::error::operation_aborted);
}

// A pseudo-terminal pair; the transport opens the slave by name, the test holds the master.
struct Pty {
  Pty() {
    char name[256] = {};
    if (openpty(&master, &slave, name, nullptr, nullptr) != 0) return;
    slave_name = name;
    termios tio{};
    tcgetattr(slave, &tio);
    cfmakeraw(&tio);  // bytes as they are: no echo, no line discipline
    tcsetattr(slave, TCSANOW, &tio);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);  // the test's reads poll, bounded
  }
  ~Pty() {
    if (master >= 0) close(master);
    if (slave >= 0) close(slave);
  }
  int master = -1;
  int slave = -1;
  std::string slave_name;
};

TEST(SerialTransport, CarriesBytesBothWaysOnAPseudoTerminalAtAnUnusualRate) {
  Pty pty;
  ASSERT_FALSE(pty.slave_name.empty()) << "openpty failed";
  asio::io_context io;
  // 28800 baud (the SRS RGA's) has no termios constant: the transport sets it with BOTHER.
  auto t = make_transport(io, SerialAddress{pty.slave_name, 28800, false, 1});
  std::optional<ErrorCode> opened;
  t->async_connect([&](const ErrorCode& ec) { opened = ec; });
  run_until(io, [&] { return opened.has_value(); }, "the open");
  ASSERT_FALSE(*opened) << opened->message();

  std::optional<ErrorCode> wrote;
  t->async_write(std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{'I', 'D', '?', '\r'}),
                 [&](const ErrorCode& ec) { wrote = ec; });
  run_until(io, [&] { return wrote.has_value(); }, "the write");
  EXPECT_FALSE(*wrote);
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    char b[16];
    const ssize_t n = read(pty.master, b, sizeof b);
    if (n > 0) {
      got.append(b, static_cast<size_t>(n));
    } else {
      usleep(1000);
    }
  }
  EXPECT_EQ(got, "ID?\r");

  std::array<uint8_t, 256> buf{};
  ReadResult r;
  read_once(*t, buf, r);
  ASSERT_EQ(write(pty.master, "SRSRGA200\n\r", 11), 11);
  run_until(io, [&] { return r.ec.has_value(); }, "the read");
  EXPECT_FALSE(*r.ec);
  EXPECT_EQ(r.bytes, "SRSRGA200\n\r");
  t->close();
  io.restart();
  io.poll();
}

TEST(SerialTransport, AMissingDeviceIsAnErrorNamingNoSuchFile) {
  asio::io_context io;
  auto t = make_transport(io, SerialAddress{"/dev/opsync-no-such-tty", 115200, false, 1});
  std::optional<ErrorCode> opened;
  t->async_connect([&](const ErrorCode& ec) { opened = ec; });
  run_until(io, [&] { return opened.has_value(); }, "the open");
  EXPECT_EQ(*opened, boost::system::errc::no_such_file_or_directory) << opened->message();
}

}  // namespace
}  // namespace opsync::runtime
