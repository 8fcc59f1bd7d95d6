// The status endpoint in-process, with handlers that misbehave: an exception in a handler is
// a 500 for that client and nothing more; limits come from StatusHttpLimits.
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>
#include <thread>

#include "opsyncd_harness.h"
#include "runtime/status_http.h"

namespace opsync::runtime {
namespace {

using namespace test;

class ServerFixture {
 public:
  ServerFixture(StatusHttpHandlers handlers, StatusHttpLimits limits = {}) : server_(io_, std::move(handlers), limits) {
    EXPECT_FALSE(server_.bind(ListenAddress{"127.0.0.1", 0}));
    server_.start();
    thread_ = std::thread([this] {
      try {
        io_.run();
      } catch (const std::exception& e) {
        escaped_ = e.what();
      }
    });
  }
  ~ServerFixture() {
    boost::asio::post(io_, [this] { server_.stop(); io_.stop(); });
    thread_.join();
  }
  uint16_t port() const { return server_.port(); }
  const std::string& escaped() const { return escaped_; }
  StatusHttpServer& server() { return server_; }

 private:
  boost::asio::io_context io_;
  StatusHttpServer server_;
  std::thread thread_;
  std::string escaped_;
};

TEST(StatusHttp, ExceptionInAHandlerIsA500AndTheServerGoesOn) {
  int calls = 0;
  ServerFixture f({[&]() -> nlohmann::json {
                     if (++calls == 1) throw std::runtime_error("status exploded");
                     return {{"ok", true}};
                   },
                   [](std::string_view) -> std::string { throw std::logic_error("mark exploded"); }});
  const HttpReply first = get_status(f.port());
  EXPECT_EQ(first.status, 500);
  EXPECT_NE(first.body.find("status exploded"), std::string::npos) << first.body;
  EXPECT_EQ(post_mark(f.port(), "x").status, 500);
  EXPECT_EQ(get_status(f.port()).status, 200);
  EXPECT_EQ(f.escaped(), "");
}

TEST(StatusHttp, TextThatIsNotUtf8NeverBreaksAReply) {
  ServerFixture f({[] { return nlohmann::json{{"last_error", std::string("bad \xFF byte")}}; },
                   [](std::string_view) { return std::string(); }});
  const HttpReply status = get_status(f.port());
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("bad \xEF\xBF\xBD byte"), std::string::npos) << status.body;
  const HttpReply mark = post_mark(f.port(), "\xB5" "A");
  EXPECT_EQ(mark.status, 200) << mark.body;
  EXPECT_EQ(f.escaped(), "");
}

TEST(StatusHttp, IdleClientIsClosedAfterTheRequestTimeout) {
  StatusHttpLimits limits;
  limits.request_timeout = std::chrono::milliseconds(300);
  ServerFixture f({[] { return nlohmann::json::object(); }, [](std::string_view) { return std::string(); }}, limits);
  const int fd = connect_to(f.port());
  ASSERT_GE(fd, 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto got = read_until_closed(fd, 10s);
  close(fd);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace opsync::runtime
