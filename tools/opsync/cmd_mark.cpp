// `opsync mark "text"`: adds an annotation event to the session a running opsyncd records
// (POST /mark to its local HTTP endpoint, found from --http or from the daemon's <db>.opsyncd).
// Bounded in time: a daemon that accepts the connection but never answers gets a clear message
// after --timeout-s, not a hang.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "opsync/cli_error.h"
#include "opsync/commands.h"

namespace opsync::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::string find_endpoint(const std::string& http_arg, const std::string& db) {
  if (!http_arg.empty()) return http_arg;
  const std::string runtime = db + ".opsyncd";
  std::ifstream in(runtime);
  if (!in) {
    throw CliError(fmt::format("no running opsyncd records into {} (no {}); give --http HOST:PORT", db,
                               runtime));
  }
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("http") || !j["http"].is_string()) {
    throw CliError(fmt::format("{} does not name an endpoint yet (opsyncd is starting?); try again", runtime));
  }
  const std::string http = j["http"].get<std::string>();
  if (http.empty()) {
    throw CliError(fmt::format("the opsyncd recording into {} (pid {}) has no HTTP endpoint "
                               "([status] http = \"\"), so it takes no marks",
                               db, j.value("pid", 0)));
  }
  if (j.value("starting", false)) {
    throw CliError(fmt::format("the opsyncd recording into {} (pid {}) is still starting; try again", db,
                               j.value("pid", 0)));
  }
  return http;
}

// Returns the daemon's note about the stored text ("" when it was stored as sent).
std::string post_mark(const std::string& endpoint, const std::string& text, std::chrono::milliseconds timeout) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) throw CliError(fmt::format("--http '{}': expected HOST:PORT", endpoint));
  std::string host = endpoint.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = endpoint.substr(colon + 1);

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  http::request<http::string_body> req{http::verb::post, "/mark", 11};
  req.set(http::field::host, endpoint);
  req.set(http::field::content_type, "text/plain");
  req.body() = text;
  req.prepare_payload();
  beast::flat_buffer buf;
  http::response<http::string_body> res;

  // One deadline for the whole exchange; `connected` tells an unreachable daemon from a mute one.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool done = false, connected = false;
  beast::error_code result;
  resolver.async_resolve(host, port, [&](beast::error_code ec, asio::ip::tcp::resolver::results_type results) {
    if (ec) {
      result = ec;
      done = true;
      return;
    }
    stream.expires_at(deadline);
    stream.async_connect(results, [&](beast::error_code ec2, const auto&) {
      if (ec2) {
        result = ec2;
        done = true;
        return;
      }
      connected = true;
      http::async_write(stream, req, [&](beast::error_code ec3, size_t) {
        if (ec3) {
          result = ec3;
          done = true;
          return;
        }
        http::async_read(stream, buf, res, [&](beast::error_code ec4, size_t) {
          result = ec4;
          done = true;
        });
      });
    });
  });
  io.run_for(timeout + std::chrono::milliseconds(200));  // the resolver has no deadline of its own
  const double timeout_s = static_cast<double>(timeout.count()) / 1000;
  if (!done || result == beast::error::timeout) {
    if (!connected) {
      throw CliError(fmt::format("cannot reach opsyncd at {}: no connection within {:g} s", endpoint, timeout_s));
    }
    throw CliError(fmt::format(
        "opsyncd at {} accepted the connection but did not answer within {:g} s; the mark was not confirmed "
        "(is the daemon stalled? see its terminal; --timeout-s waits longer)",
        endpoint, timeout_s));
  }
  if (result) throw CliError(fmt::format("cannot reach opsyncd at {}: {}", endpoint, result.message()));
  if (res.result() != http::status::ok) {
    throw CliError(fmt::format("opsyncd refused the mark: {} {}", res.result_int(), res.body()));
  }
  const auto reply = nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
  return reply.is_object() ? reply.value("note", "") : "";
}

}  // namespace

void add_mark_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("mark", "Add an annotation event (\"beam on\", \"cell tapped\") to the running session");
  auto text = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>();
  auto endpoint = std::make_shared<std::string>();
  auto timeout_s = std::make_shared<double>(5.0);
  cmd->add_option("text", *text, "The annotation")->required();
  cmd->add_option("--db", *db, "Station database the daemon records into (finds the daemon)");
  cmd->add_option("--http", *endpoint, "The daemon's status endpoint HOST:PORT");
  cmd->add_option("--timeout-s", *timeout_s, "Give up when the daemon has not answered within this time")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->callback([text, db, endpoint, timeout_s] {
    if (db->empty() && endpoint->empty()) throw CliError("give --db STATION.db or --http HOST:PORT");
    const std::string ep = find_endpoint(*endpoint, *db);
    const std::string note =
        post_mark(ep, *text, std::chrono::milliseconds(static_cast<int64_t>(*timeout_s * 1000)));
    fmt::print("marked: {}{}\n", *text, note.empty() ? "" : " (" + note + ")");
  });
}

}  // namespace opsync::cli
