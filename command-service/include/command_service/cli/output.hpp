#pragma once
// How the CLI prints what the API answered: a table (the default, the columns a command names),
// JSON (the answer as it came) or YAML, for scripts. Pure.
#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace command_service::cli {

enum class Format { table, json, yaml };

struct Column {
  std::string header;
  std::string field;  // a key of each object; "a.b" reaches into an object
};

// One object as rows of field: value, or an array of objects as a table with these columns.
std::string render(const boost::json::value& v, const std::vector<Column>& columns, Format format);
// A value as YAML (objects, arrays, scalars; strings quoted when YAML would read them otherwise).
std::string to_yaml(const boost::json::value& v);
// The text of a field for a table cell ("" when missing; numbers and booleans as JSON writes them).
std::string cell(const boost::json::value& object, const std::string& field);

}  // namespace command_service::cli
