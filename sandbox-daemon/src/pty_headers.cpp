#include "daemon/pty_headers.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <cctype>
#include <cstring>

namespace daemon_tb {

namespace json = boost::json;

std::vector<std::string> split_protocols(std::string_view all) {
  std::vector<std::string> out;
  while (!all.empty()) {
    const auto comma = all.find(',');
    auto one = all.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    all.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::map<std::string, std::string>> envs_from_protocols(const std::vector<std::string>& offered) {
  std::map<std::string, std::string> envs;
  for (const auto& p : offered) {
    if (p.rfind(kEnvsPrefix, 0) != 0) continue;
    std::string b64 = p.substr(std::strlen(kEnvsPrefix));
    for (char& c : b64) {
      c = c == '-' ? '+' : c == '_' ? '/' : c;
      // Beast's decoder expects base64 alone: anything else is not an env.
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return std::nullopt;
    }
    while (b64.size() % 4 != 0) b64 += '=';
    std::string decoded(boost::beast::detail::base64::decoded_size(b64.size()), '\0');
    const auto [written, read] = boost::beast::detail::base64::decode(decoded.data(), b64.data(), b64.size());
    decoded.resize(written);
    boost::system::error_code ec;
    auto v = json::parse(decoded, ec);
    if (ec || !v.is_object()) return std::nullopt;
    for (const auto& [k, val] : v.as_object()) {
      if (val.is_string()) envs[std::string(k)] = std::string(val.as_string());
    }
  }
  return envs;
}

}  // namespace daemon_tb
