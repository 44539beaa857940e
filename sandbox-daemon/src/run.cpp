#include "daemon/toolbox.hpp"
#include "daemon/bounded_output.hpp"

#include <csignal>
#include <memory>
#include <random>
#include <regex>
#include <unistd.h>

namespace daemon_tb {

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const auto candidate = std::string(dirs.substr(0, colon)) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return false;
}

std::string shell() { return on_path("bash") ? "bash" : "sh"; }

std::string new_id() {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 32; ++i) out += kHex[rng() & 15];
  return out.substr(0, 8) + "-" + out.substr(8, 4) + "-" + out.substr(12, 4) + "-" + out.substr(16, 4) + "-" + out.substr(20, 12);
}

std::string Toolbox::resolve(const std::string& path) const {
  if (!path.empty() && path.front() == '/') return path;
  if (path.empty() || path == ".") return work_dir;
  return work_dir + (work_dir.back() == '/' ? "" : "/") + path;
}

namespace {

struct Job : std::enable_shared_from_this<Job> {
  Job(asio::any_io_executor ex, int fd) : out(ex, fd), done(ex) {}
  asio::posix::stream_descriptor out;
  asio::steady_timer done;
  BoundedOutput output;
  std::array<char, 16384> chunk{};
  bool eof = false;
  bool exited = false;
  int status = 0;

  void read() {
    out.async_read_some(asio::buffer(chunk), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      self->output.append(self->chunk.data(), n);
      if (ec) {
        self->eof = true;
        self->finish_if_done();
        return;
      }
      self->read();
    });
  }
  // The process ended: what is still in the pipe is read now, without waiting for an EOF that a
  // background child may hold back.
  void on_exit(int s) {
    exited = true;
    status = s;
    if (!eof && out.is_open()) {
      boost::system::error_code ec;
      out.non_blocking(true, ec);
      for (;;) {
        const auto n = out.read_some(asio::buffer(chunk), ec);
        output.append(chunk.data(), n);
        if (ec) break;
      }
      out.close(ec);  // the pending read ends with operation_aborted
    }
    finish_if_done();
  }
  void finish_if_done() {
    if (eof && exited) done.cancel();
  }
};

}  // namespace

asio::awaitable<RunResult> run_to_end(Children& children, SpawnSpec spec, std::string input,
                                      std::optional<std::chrono::milliseconds> timeout) {
  RunResult result;
  auto ex = co_await asio::this_coro::executor;
  spec.stdin_pipe = true;
  const auto spawned = children.spawn(spec);
  if (spawned.pid < 0) {
    result.start_error = spawned.error;
    co_return result;
  }
  auto job = std::make_shared<Job>(ex, spawned.output_fd);
  job->done.expires_at(timeout ? std::chrono::steady_clock::now() + *timeout : asio::steady_timer::time_point::max());
  job->read();
  auto in = std::make_shared<asio::posix::stream_descriptor>(ex, spawned.stdin_fd);
  auto data = std::make_shared<std::string>(std::move(input));
  asio::async_write(*in, asio::buffer(*data), [in, data](const boost::system::error_code&, std::size_t) {
    boost::system::error_code ignored;
    in->close(ignored);
  });
  children.on_exit(spawned.pid, [job](int status) { job->on_exit(status); });
  const auto [ec] = co_await job->done.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ec) {  // the timer ran out first
    kill(-spawned.pid, SIGKILL);
    result.timed_out = true;
    result.output = job->output.text();
    result.truncated = job->output.truncated();
    co_return result;
  }
  result.exit_code = exit_code_of(job->status);
  result.output = job->output.text();
  result.truncated = job->output.truncated();
  co_return result;
}

std::optional<std::string> read_envs(const json::object& body, std::vector<std::string>& out) {
  const auto* envs = body.if_contains("envs");
  if (envs == nullptr || envs->is_null()) return std::nullopt;
  if (!envs->is_object()) return "envs must be an object of strings";
  static const std::regex kKey("^[A-Za-z_][A-Za-z0-9_]*$");
  for (const auto& [k, v] : envs->as_object()) {
    const std::string key(k);
    if (!std::regex_match(key, kKey)) return "env key '" + key + "' is not a valid variable name";
    if (!v.is_string()) return "envs." + key + " must be a string";
    out.push_back(key + "=" + std::string(v.as_string()));
  }
  return std::nullopt;
}

}  // namespace daemon_tb
