#include "command_service/cli/output.hpp"

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

namespace command_service::cli {

namespace json = boost::json;

namespace {

const json::value* reach(const json::value& v, const std::string& field) {
  const json::value* at = &v;
  std::size_t start = 0;
  while (at != nullptr && start <= field.size()) {
    const auto dot = field.find('.', start);
    const auto key = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    at = at->is_object() ? at->as_object().if_contains(key) : nullptr;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return at;
}

void emit(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [k, item] : v.as_object()) {
        out << YAML::Key << std::string(k) << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.as_array()) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::string: out << YAML::DoubleQuoted << std::string(v.as_string()); break;
    case json::kind::null: out << YAML::Null; break;
    default: out << json::serialize(v); break;
  }
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    widths.resize(std::max(widths.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  }
  std::ostringstream out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - r[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  return out.str();
}

}  // namespace

std::string cell(const json::value& object, const std::string& field) {
  const auto* v = reach(object, field);
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return std::string(v->as_string());
  return json::serialize(*v);
}

std::string to_yaml(const json::value& v) {
  YAML::Emitter out;
  emit(out, v);
  return std::string(out.c_str()) + "\n";
}

std::string render(const json::value& v, const std::vector<Column>& columns, Format format) {
  if (format == Format::json) return json::serialize(v) + "\n";
  if (format == Format::yaml) return to_yaml(v);
  if (v.is_array()) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> head;
    for (const auto& c : columns) head.push_back(c.header);
    rows.push_back(head);
    for (const auto& item : v.as_array()) {
      std::vector<std::string> row;
      for (const auto& c : columns) row.push_back(cell(item, c.field));
      rows.push_back(row);
    }
    return table(rows);
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : columns) rows.push_back({c.header, cell(v, c.field)});
  return table(rows);
}

}  // namespace command_service::cli
