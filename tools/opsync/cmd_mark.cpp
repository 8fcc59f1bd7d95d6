// `opsync mark "text"`: adds an annotation event to the session a running opsyncd records
// (POST /mark to its local HTTP endpoint, found from --http or from the daemon's <db>.opsyncd).
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

#include "opsync/commands.h"

namespace opsync::cli {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::string find_endpoint(const std::string& http_arg, const std::string& db) {
  if (!http_arg.empty()) return http_arg;
  std::ifstream in(db + ".opsyncd");
  if (!in) {
    throw std::runtime_error(fmt::format("no running opsyncd records into {} (no {}.opsyncd); give --http HOST:PORT",
                                         db, db));
  }
  return nlohmann::json::parse(in).at("http").get<std::string>();
}

void post_mark(const std::string& endpoint, const std::string& text) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error(fmt::format("--http '{}': expected HOST:PORT", endpoint));
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  asio::connect(socket, resolver.resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1)), ec);
  if (ec) throw std::runtime_error(fmt::format("cannot reach opsyncd at {}: {}", endpoint, ec.message()));
  http::request<http::string_body> req{http::verb::post, "/mark", 11};
  req.set(http::field::host, endpoint);
  req.set(http::field::content_type, "text/plain");
  req.body() = text;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(socket, buf, res);
  if (res.result() != http::status::ok) {
    throw std::runtime_error(fmt::format("opsyncd refused the mark: {} {}", res.result_int(), res.body()));
  }
}

}  // namespace

void add_mark_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("mark", "Add an annotation event (\"beam on\", \"cell tapped\") to the running session");
  auto text = std::make_shared<std::string>();
  auto db = std::make_shared<std::string>();
  auto endpoint = std::make_shared<std::string>();
  cmd->add_option("text", *text, "The annotation")->required();
  cmd->add_option("--db", *db, "Station database the daemon records into (finds the daemon)");
  cmd->add_option("--http", *endpoint, "The daemon's status endpoint HOST:PORT");
  cmd->callback([text, db, endpoint] {
    if (db->empty() && endpoint->empty()) throw std::runtime_error("give --db STATION.db or --http HOST:PORT");
    const std::string ep = find_endpoint(*endpoint, *db);
    post_mark(ep, *text);
    fmt::print("marked: {}\n", *text);
  });
}

}  // namespace opsync::cli
