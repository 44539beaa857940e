#include "events/store/copy_log.hpp"
#include "pg_text.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <memory>

namespace events {

namespace {

Error unavailable(const std::string& what, PGconn* c) {
  return make_error(ErrorCode::unavailable, what + ": " + (c != nullptr ? PQerrorMessage(c) : "no connection"));
}

// A field of COPY's text format with its escapes undone (the log's columns are never NULL).
std::string unescaped(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char c = field[++i];
    switch (c) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      default:
        if (c >= '0' && c <= '7') {  // \ooo: a byte in octal
          int value = 0;
          std::size_t digits = 0;
          for (; digits < 3 && i < field.size() && field[i] >= '0' && field[i] <= '7'; ++digits, ++i) {
            value = value * 8 + (field[i] - '0');
          }
          --i;
          out += static_cast<char>(value);
        } else {
          out += c;  // \\ and any other character stand for themselves
        }
    }
  }
  return out;
}

template <class T>
Result<T> number(std::string_view text, const char* what) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return make_error(ErrorCode::decode_failed, std::string("the log's COPY gave a bad ") + what);
  }
  return value;
}

// One line of the COPY (its columns in pg_text::kEventColumns' order, tab-separated).
Result<RecordedEvent> parse_line(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::array<std::string_view, 9> f;
  std::size_t n = 0;
  for (std::size_t start = 0; n < f.size(); ++n) {
    const auto tab = line.find('\t', start);
    f[n] = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    if (tab == std::string_view::npos) {
      ++n;
      break;
    }
    start = tab + 1;
  }
  if (n != f.size()) return make_error(ErrorCode::decode_failed, "the log's COPY gave a line of " + std::to_string(n) + " columns");
  RecordedEvent e;
  auto position = number<std::int64_t>(f[0], "position");
  auto version = number<std::int64_t>(f[2], "version");
  auto schema_version = number<int>(f[4], "schema version");
  if (!position) return position.error();
  if (!version) return version.error();
  if (!schema_version) return schema_version.error();
  e.position = GlobalPosition{*position};
  e.stream = unescaped(f[1]);
  e.version = StreamVersion{*version};
  e.type = unescaped(f[3]);
  e.schema_version = *schema_version;
  e.data = unescaped(f[5]);
  e.metadata = unescaped(f[6]);
  e.routing_key = unescaped(f[7]);
  e.recorded_at = pg_text::iso_utc(f[8]);
  return e;
}

}  // namespace

Result<std::int64_t> copy_log(const std::string& pg_connection, std::int64_t after, std::int64_t up_to,
                              std::size_t batch, const std::function<bool(std::vector<RecordedEvent>&&)>& sink) {
  const std::unique_ptr<PGconn, void (*)(PGconn*)> c(PQconnectdb(pg_connection.c_str()), PQfinish);
  if (PQstatus(c.get()) != CONNECTION_OK) return unavailable("cannot connect to read the log", c.get());
  const auto exec = [&](const std::string& sql, ExecStatusType wanted) {
    const std::unique_ptr<PGresult, void (*)(PGresult*)> r(PQexec(c.get(), sql.c_str()), PQclear);
    return PQresultStatus(r.get()) == wanted;
  };
  // The log in position order along its primary key, never sorted (a sort of the whole log would
  // spill to disk before the first row came out).
  if (!exec("set datestyle to ISO; set enable_sort to off", PGRES_COMMAND_OK)) {
    return unavailable("cannot set up the log's COPY", c.get());
  }
  const auto sql = std::string("copy (select ") + pg_text::kEventColumns + " from events where position > " +
                   std::to_string(after) + " and position <= " + std::to_string(up_to) +
                   " order by position) to stdout";
  if (!exec(sql, PGRES_COPY_OUT)) return unavailable("cannot COPY the log", c.get());
  std::int64_t handed = 0;
  std::vector<RecordedEvent> events;
  events.reserve(batch);
  const auto hand_over = [&] {
    handed += static_cast<std::int64_t>(events.size());
    const bool more = sink(std::move(events));
    events.clear();
    events.reserve(batch);
    return more;
  };
  for (;;) {
    char* line = nullptr;
    const int size = PQgetCopyData(c.get(), &line, 0);
    if (size == -1) break;  // the end of the COPY
    if (size < 0) return unavailable("the log's COPY failed", c.get());
    auto e = parse_line(std::string_view(line, static_cast<std::size_t>(size)));
    PQfreemem(line);
    if (!e) return e.error();
    events.push_back(std::move(*e));
    // Stopping early closes the connection, which ends the COPY on PostgreSQL's side.
    if (events.size() == batch && !hand_over()) return handed;
  }
  const std::unique_ptr<PGresult, void (*)(PGresult*)> end(PQgetResult(c.get()), PQclear);
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) return unavailable("the log's COPY failed", c.get());
  if (!events.empty()) hand_over();
  return handed;
}

}  // namespace events
