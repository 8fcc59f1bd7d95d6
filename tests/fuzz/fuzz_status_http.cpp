// libFuzzer target: opsyncd's status endpoint, the real StatusHttpServer on 127.0.0.1, fed each
// input as the bytes of one client connection (sent whole, then the client's half-close), with
// handlers that do what the station's do to the text (to_valid_utf8, then JSON). Findings,
// beyond ASan/UBSan's: a 500 (an exception left a handler), a reply that is not one complete
// HTTP response with a JSON body, a status outside the documented ones, no answer and no close
// within 10 s, a connection the server never lets go of, and text that to_valid_utf8 passed
// but that is not UTF-8 (the strict JSON dump in the mark handler throws, which is a 500).
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/status_http.h"
#include "runtime/utf8_text.h"

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace opsync::runtime;

[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "status_http fuzz finding: %s %s\n", what, detail.c_str());
  std::abort();
}

struct Harness {
  asio::io_context io;
  std::string last_mark;
  size_t marks = 0;
  StatusHttpServer server{io,
                          StatusHttpHandlers{[this] { return status(); },
                                             [this](std::string_view text) { return mark(text); }},
                          StatusHttpLimits{}};
  tcp::endpoint endpoint;

  Harness() {
    if (const auto ec = server.bind(ListenAddress{"127.0.0.1", 0})) finding("bind:", ec.message());
    server.start();
    endpoint = tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port());
  }

  nlohmann::json status() const {
    // An instrument's identity string that is not UTF-8: the server must replace it, not throw.
    return {{"session", "fuzz"}, {"marks", marks}, {"last_mark", last_mark}, {"rga_identity", "SRS\xB5RGA\xFF"}};
  }

  std::string mark(std::string_view text) {
    const Utf8Text clean = to_valid_utf8(text);
    if (clean.replaced == 0 && clean.text != text) finding("to_valid_utf8 changed valid text");
    if (clean.text.empty()) finding("to_valid_utf8 emptied a non-empty mark");
    last_mark = nlohmann::json(clean.text).dump();  // strict: throws on anything not UTF-8
    ++marks;
    return clean.replaced ? "replaced" : "";
  }

  // Runs the server and the client on this thread until `done`, bounded in time.
  template <typename Done>
  void run_until(Done done, const char* waiting_for) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    io.restart();
    while (!done()) {
      io.run_one_for(std::chrono::milliseconds(100));
      if (std::chrono::steady_clock::now() > deadline) finding("gave up after 10 s waiting for", waiting_for);
    }
  }
};

void check_reply(const std::string& reply) {
  if (reply.empty()) return;  // closed without a request (nothing, or EOF before a request line)
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  size_t used = 0;
  while (used < reply.size() && !ec && !parser.is_done()) {
    used += parser.put(asio::buffer(reply.data() + used, reply.size() - used), ec);
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) finding("reply is not one complete HTTP response:", reply.substr(0, 200));
  const auto& res = parser.get();
  switch (res.result_int()) {
    case 200: case 400: case 404: case 413: case 431: case 503: break;
    default: finding("unexpected status:", std::to_string(res.result_int()));
  }
  if (!nlohmann::json::accept(res.body())) finding("reply body is not JSON:", res.body().substr(0, 200));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness h;
  tcp::socket client(h.io);
  boost::system::error_code ec;
  client.connect(h.endpoint, ec);
  if (ec) finding("connect:", ec.message());
  std::string reply;
  bool done = false;
  asio::async_write(client, asio::buffer(data, size), [&](boost::system::error_code, size_t) {
    // Written, or refused because the server answered early (413, 431) and closed: either way
    // the client says it is done sending and reads what came back, to the server's close.
    boost::system::error_code ignored;
    client.shutdown(tcp::socket::shutdown_send, ignored);
    asio::async_read(client, asio::dynamic_buffer(reply), [&](boost::system::error_code, size_t) { done = true; });
  });
  h.run_until([&] { return done; }, "the reply and the server's close");
  client.close(ec);
  h.run_until([&] { return h.server.stats().open_connections == 0; }, "the server to let go of the connection");
  if (h.server.stats().handler_errors != 0) finding("a handler threw:", h.server.stats().last_error);
  check_reply(reply);
  return 0;
}
