#include "command_service/cli/config.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace command_service::cli {

using events::ErrorCode;
using events::make_error;

namespace {

std::string get(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

}  // namespace

std::string config_path(const std::map<std::string, std::string>& env) {
  auto base = get(env, "XDG_CONFIG_HOME");
  if (base.empty()) base = get(env, "HOME") + "/.config";
  return base + "/daytona/config.json";
}

Config load_config(const std::map<std::string, std::string>& env) {
  Config c;
  std::ifstream in(config_path(env));
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    const auto v = boost::json::parse(text.str(), ec);
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (const auto* u = o.if_contains("apiUrl"); u != nullptr && u->is_string()) c.api_url = std::string(u->as_string());
      if (const auto* k = o.if_contains("apiKey"); k != nullptr && k->is_string()) c.api_key = std::string(k->as_string());
    }
  }
  if (auto url = get(env, "DAYTONA_API_URL"); !url.empty()) c.api_url = url;
  if (auto key = get(env, "DAYTONA_API_KEY"); !key.empty()) c.api_key = key;
  return c;
}

events::Result<void> save_config(const std::string& path, const Config& config) {
  std::error_code ec;
  const auto dir = std::filesystem::path(path).parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot make " + dir.string() + ": " + ec.message());
  const auto old_mask = ::umask(077);
  {
    std::ofstream out(path, std::ios::trunc);
    out << boost::json::serialize(boost::json::object{{"apiUrl", config.api_url}, {"apiKey", config.api_key}}) << "\n";
    if (!out) {
      ::umask(old_mask);
      return make_error(ErrorCode::unavailable, "cannot write " + path);
    }
  }
  ::umask(old_mask);
  ::chmod(path.c_str(), 0600);
  return {};
}

events::Result<void> remove_config(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) return make_error(ErrorCode::unavailable, "cannot remove " + path + ": " + ec.message());
  return {};
}

}  // namespace command_service::cli
