#include "events/settings.hpp"

#include "events/url.hpp"

#include <charconv>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace events::settings {

namespace {

std::optional<long long> whole(const std::string& text) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ":") + p;
  return out;
}

}  // namespace

Environment process_environment() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

void Declared::text(const std::string& name, std::string& field, std::string help, bool required) {
  entries_.push_back({name, std::move(help), field, required ? "required" : "",
                      [&field](const std::string& v) -> std::optional<std::string> {
                        field = v;
                        return std::nullopt;
                      },
                      required});
}

void Declared::number(const std::string& name, int& field, std::string help, int min, int max) {
  entries_.push_back({name, std::move(help), std::to_string(field), std::to_string(min) + ".." + std::to_string(max),
                      [&field, min, max](const std::string& v) -> std::optional<std::string> {
                        const auto n = whole(v);
                        if (!n || *n < min || *n > max) {
                          return "'" + v + "' is not a whole number from " + std::to_string(min) + " to " +
                                 std::to_string(max);
                        }
                        field = static_cast<int>(*n);
                        return std::nullopt;
                      },
                      false});
}

void Declared::port(const std::string& name, unsigned short& field, std::string help) {
  entries_.push_back({name, std::move(help), std::to_string(field), "0..65535",
                      [&field](const std::string& v) -> std::optional<std::string> {
                        const auto n = whole(v);
                        if (!n || *n < 0 || *n > 65535) return "'" + v + "' is not a port number (0 to 65535)";
                        field = static_cast<unsigned short>(*n);
                        return std::nullopt;
                      },
                      false});
}

void Declared::seconds(const std::string& name, std::chrono::seconds& field, std::string help, int min, int max) {
  entries_.push_back({name, std::move(help), std::to_string(field.count()),
                      std::to_string(min) + ".." + std::to_string(max) + " s",
                      [&field, min, max](const std::string& v) -> std::optional<std::string> {
                        const auto n = whole(v);
                        if (!n || *n < min || *n > max) {
                          return "'" + v + "' is not a number of seconds from " + std::to_string(min) + " to " +
                                 std::to_string(max);
                        }
                        field = std::chrono::seconds(*n);
                        return std::nullopt;
                      },
                      false});
}

void Declared::url(const std::string& name, std::string& field, std::string help) {
  entries_.push_back({name, std::move(help), field, "a URL",
                      [&field](const std::string& v) -> std::optional<std::string> {
                        if (auto parsed = url::endpoint(v); !parsed) return parsed.error().message;
                        field = v;
                        return std::nullopt;
                      },
                      false});
}

void Declared::paths(const std::string& name, std::vector<std::string>& field, std::string help) {
  entries_.push_back({name, std::move(help), join(field), "absolute paths, ':'-separated",
                      [&field](const std::string& v) -> std::optional<std::string> {
                        std::vector<std::string> out;
                        std::string_view rest = v;
                        while (!rest.empty()) {
                          const auto colon = rest.find(':');
                          const std::string one(rest.substr(0, colon));
                          if (!one.empty() && one.front() != '/') return "'" + one + "' is not an absolute path";
                          if (!one.empty()) out.push_back(one);
                          if (colon == std::string_view::npos) break;
                          rest.remove_prefix(colon + 1);
                        }
                        field = std::move(out);
                        return std::nullopt;
                      },
                      false});
}

Result<void> Declared::load(const Environment& env) {
  for (const auto& e : entries_) {
    const char* raw = env(e.name.c_str());
    const std::string value = raw != nullptr ? raw : "";
    if (value.empty()) {
      if (e.required) return make_error(ErrorCode::invalid_argument, e.name + " must be set: " + e.help);
      continue;  // the default stays
    }
    if (auto problem = e.set(value)) return make_error(ErrorCode::invalid_argument, e.name + ": " + *problem);
  }
  return {};
}

std::string Declared::help() const {
  std::string out = program_ + ": settings (environment variables)\n";
  for (const auto& e : entries_) {
    out += "  " + e.name;
    if (!e.fallback.empty()) out += " (default " + e.fallback + ")";
    if (!e.bounds.empty()) out += " [" + e.bounds + "]";
    out += "\n      " + e.help + "\n";
  }
  return out;
}

std::optional<int> Declared::load_for_main(int argc, char** argv, const Environment& env) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << help();
      return 0;
    }
  }
  if (auto loaded = load(env); !loaded) {
    std::cerr << program_ << ": " << loaded.error().message << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace events::settings
